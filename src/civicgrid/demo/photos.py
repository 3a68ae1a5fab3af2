"""Generated demo photos: a simple street scene drawn with Pillow for the kind of problem (rubbish, a broken
manhole cover, posters on a wall, a street stall, a car on the pavement, a broken tree, standing water, a
building site), in a 处置前 and a 处置后 version, with a caption bar (time, address, step) like a patrol
app's watermark. No external image is used. Pure: bytes out, no database.

The caption is Chinese when a CJK font is installed (``make browser`` installs one), otherwise ASCII.
"""

from __future__ import annotations

import functools
import io
import random
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

W, H = 640, 480
_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
THEMES = (
    ("manhole", "井盖|雨水箅|箅子"),
    ("garbage", "垃圾|废弃|渣土|粪便|杂物|堆物|垃圾桶|清扫"),
    ("poster", "广告|张贴|涂写|招牌|标语|横幅|牌匾"),
    ("stall", "摊|经营|兜售|占道"),
    ("parking", "停车|停放|车辆|单车|机动车"),
    ("tree", "树|绿|草|花|园林"),
    ("water", "积水|污水|水管|管道|水|冒溢"),
    ("works", "施工|工地|围挡|路面|道路|破损|坑"),
)


def theme_of(category_name: str) -> str:
    for theme, words in THEMES:
        if any(w in category_name for w in words.split("|")):
            return theme
    return "works"


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in _FONTS:
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


@functools.cache
def has_cjk_font() -> bool:
    return any(Path(p).is_file() for p in _FONTS)


def scene(
    category_name: str, *, after: bool, when: datetime, address: str, seed: int, caption_step: str = ""
) -> bytes:
    """A JPEG of the problem (``after=False``) or of the same place after disposal (``after=True``)."""
    rng = random.Random(seed)  # the same seed draws the same street for the before and the after photo
    img = Image.new("RGB", (W, H))
    d = ImageDraw.Draw(img)
    _street(d, rng, when)
    theme = theme_of(category_name)
    draw = _DRAW.get(theme, _works)
    draw(d, rng, after)
    _caption(d, when, address, caption_step or ("处置后" if after else "处置前"))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=78)
    return out.getvalue()


def _street(d: ImageDraw.ImageDraw, rng: random.Random, when: datetime) -> None:
    hour = (when.hour + 8) % 24
    night = hour < 6 or hour >= 19
    sky = (40, 50, 80) if night else (150 + rng.randint(0, 40), 190 + rng.randint(0, 30), 225)
    d.rectangle((0, 0, W, 300), fill=sky)
    far = (70, 80, 95) if night else (150, 160, 165)
    for x in range(-40, W, 110):  # the buildings across the lane
        top = 120 + rng.randint(-50, 30)
        d.rectangle((x, top, x + 100, 300), fill=far)
    d.rectangle((0, 270, W, 300), fill=(70, 120, 70))  # a hedge along the pavement
    wall = rng.choice([(205, 200, 190), (225, 220, 210), (190, 170, 150), (200, 205, 210)])
    left = rng.randint(-60, 40)
    d.rectangle((left, 40, left + 420, 300), fill=wall)  # a building front
    d.polygon([(left - 10, 40), (left + 430, 40), (left + 400, 20), (left + 20, 20)], fill=(70, 70, 75))
    for row in range(3):
        for col in range(5):
            x, y = left + 25 + col * 80, 65 + row * 70
            lit = night and rng.random() < 0.5
            d.rectangle((x, y, x + 45, y + 45), fill=(250, 220, 120) if lit else (90, 110, 130))
    d.rectangle((0, 300, W, 380), fill=(175, 170, 165))  # pavement
    for x in range(0, W, 40):
        d.line((x, 300, x - 20, 380), fill=(160, 155, 150), width=2)
    d.rectangle((0, 380, W, 392), fill=(120, 120, 120))  # kerb
    d.rectangle((0, 392, W, H), fill=(80, 82, 85))  # carriageway
    for x in range(20, W, 120):
        d.rectangle((x, 440, x + 60, 446), fill=(235, 235, 235))


def _garbage(d: ImageDraw.ImageDraw, rng: random.Random, after: bool) -> None:
    x0 = rng.randint(180, 360)
    d.rectangle((x0 + 150, 260, x0 + 200, 330), fill=(40, 120, 60))  # a bin
    d.rectangle((x0 + 145, 252, x0 + 205, 262), fill=(30, 90, 45))
    if after:
        return
    colours = [(20, 20, 20), (230, 230, 230), (200, 60, 50), (60, 90, 160), (120, 90, 60)]
    for _ in range(28):
        x, y = x0 + rng.randint(0, 170), 300 + rng.randint(0, 60)
        r = rng.randint(8, 22)
        d.ellipse((x - r, y - r // 2 - 8, x + r, y + r // 2), fill=rng.choice(colours))


def _manhole(d: ImageDraw.ImageDraw, rng: random.Random, after: bool) -> None:
    x, y = rng.randint(200, 440), 340
    if after:
        d.ellipse((x - 60, y - 22, x + 60, y + 22), fill=(70, 70, 72), outline=(40, 40, 40), width=3)
        for k in range(-40, 50, 20):
            d.line((x + k, y - 16, x + k, y + 16), fill=(95, 95, 95), width=2)
        return
    d.ellipse((x - 60, y - 22, x + 60, y + 22), fill=(15, 15, 15))  # the open shaft
    d.polygon([(x + 50, y + 10), (x + 130, y + 5), (x + 120, y + 35), (x + 45, y + 32)], fill=(75, 75, 78))
    for cone in (x - 110, x + 150):
        d.polygon([(cone, y + 20), (cone + 18, y - 40), (cone + 36, y + 20)], fill=(240, 110, 30))
        d.rectangle((cone + 8, y - 12, cone + 28, y - 4), fill=(245, 245, 245))


def _poster(d: ImageDraw.ImageDraw, rng: random.Random, after: bool) -> None:
    if after:
        return
    for _ in range(14):
        x, y = rng.randint(40, 520), rng.randint(150, 280)
        w, h = rng.randint(30, 60), rng.randint(40, 70)
        colour = rng.choice([(250, 250, 240), (255, 230, 80), (240, 120, 120), (150, 210, 250)])
        d.rectangle((x, y, x + w, y + h), fill=colour, outline=(90, 90, 90))
        for k in range(4):
            d.line((x + 5, y + 10 + k * 12, x + w - 5, y + 10 + k * 12), fill=(60, 60, 60), width=2)


def _stall(d: ImageDraw.ImageDraw, rng: random.Random, after: bool) -> None:
    if after:
        return
    x = rng.randint(120, 420)
    d.pieslice((x - 90, 190, x + 90, 290), 180, 360, fill=rng.choice([(220, 60, 50), (40, 110, 200)]))
    d.line((x, 240, x, 350), fill=(60, 60, 60), width=5)
    d.rectangle((x - 80, 300, x + 80, 350), fill=(150, 100, 60))
    for k in range(6):
        fruit = rng.choice([(240, 160, 40), (90, 170, 60)])
        d.ellipse((x - 70 + k * 24, 285, x - 50 + k * 24, 303), fill=fruit)


def _parking(d: ImageDraw.ImageDraw, rng: random.Random, after: bool) -> None:
    if after:
        d.rectangle((60, 395, 560, 398), fill=(240, 210, 60))
        return
    x = rng.randint(80, 320)
    colour = rng.choice([(200, 200, 205), (30, 30, 35), (160, 30, 30), (240, 240, 240)])
    d.rounded_rectangle((x, 290, x + 230, 360), radius=18, fill=colour)
    d.rounded_rectangle((x + 40, 255, x + 180, 300), radius=14, fill=colour)
    d.rectangle((x + 55, 262, x + 165, 292), fill=(120, 150, 170))
    for wx in (x + 45, x + 185):
        d.ellipse((wx - 22, 340, wx + 22, 384), fill=(20, 20, 20))


def _tree(d: ImageDraw.ImageDraw, rng: random.Random, after: bool) -> None:
    x = rng.randint(140, 480)
    d.rectangle((x - 10, 200, x + 10, 330), fill=(100, 70, 40))
    d.ellipse((x - 80, 110, x + 80, 230), fill=(50, 130, 60))
    d.rectangle((x - 40, 320, x + 40, 336), fill=(110, 90, 70))
    if not after:
        d.polygon([(x + 10, 220), (x + 150, 330), (x + 135, 345), (x, 235)], fill=(100, 70, 40))
        d.ellipse((x + 90, 280, x + 190, 350), fill=(60, 140, 60))


def _water(d: ImageDraw.ImageDraw, rng: random.Random, after: bool) -> None:
    if after:
        d.rectangle((260, 386, 330, 392), fill=(40, 40, 40))  # the cleared gully
        return
    d.ellipse((rng.randint(40, 160), 330, rng.randint(480, 600), 470), fill=(90, 120, 150))
    for _ in range(12):
        x, y = rng.randint(120, 520), rng.randint(360, 450)
        d.arc((x - 14, y - 5, x + 14, y + 5), 0, 180, fill=(170, 200, 225), width=2)


def _works(d: ImageDraw.ImageDraw, rng: random.Random, after: bool) -> None:
    if after:
        d.rectangle((200, 395, 420, 430), fill=(60, 62, 66))  # fresh asphalt patch
        return
    x = rng.randint(120, 360)
    d.polygon([(x, 420), (x + 60, 400), (x + 170, 410), (x + 190, 440), (x + 80, 455)], fill=(45, 40, 35))
    for k in range(3):
        bx = x - 40 + k * 110
        d.rectangle((bx, 330, bx + 90, 350), fill=(245, 245, 245))
        for s in range(0, 90, 20):
            d.polygon([(bx + s, 330), (bx + s + 10, 330), (bx + s, 350)], fill=(220, 40, 40))
        d.line((bx + 10, 350, bx + 10, 385), fill=(60, 60, 60), width=4)
        d.line((bx + 80, 350, bx + 80, 385), fill=(60, 60, 60), width=4)


_DRAW = {
    "garbage": _garbage,
    "manhole": _manhole,
    "poster": _poster,
    "stall": _stall,
    "parking": _parking,
    "tree": _tree,
    "water": _water,
    "works": _works,
}


def _caption(d: ImageDraw.ImageDraw, when: datetime, address: str, step: str) -> None:
    from zoneinfo import ZoneInfo

    local = when.astimezone(ZoneInfo("Asia/Shanghai"))
    if has_cjk_font():
        text = f"{local:%Y-%m-%d %H:%M}  {address}  {step}"
    else:
        text = f"{local:%Y-%m-%d %H:%M}  {'AFTER' if step == '处置后' else 'BEFORE'}"
    d.rectangle((0, H - 34, W, H), fill=(0, 0, 0))
    d.text((12, H - 28), text, fill=(255, 255, 255), font=_font(18))
