"""Image intake as pure work: bytes in, checked renditions out — no database, no disk.

An upload must be a real JPEG, PNG, WebP or GIF of at most ``MAX_PIXELS`` pixels. The size is read from
the header *before* anything is decoded, so a small file that claims a huge canvas (a decompression bomb) is
refused with 413 without allocating it; Pillow's own bomb warning is turned into the same refusal. Decoding
runs under a process-wide semaphore (``CIVICGRID_IMAGE_WORKERS``), so photos queue for their turn instead of
filling memory and starving the other requests.

Two renditions come out, both re-encoded from the pixels (turned upright first) without any metadata: the
photo (at most ``PUBLIC_MAX``) and a thumbnail. The uploaded bytes themselves — with the phone's EXIF, GPS
position included — are never kept: the report form promises that the location is removed. Only their size
and SHA-256 are recorded.
"""

from __future__ import annotations

import hashlib
import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import anyio.to_thread
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar
from PIL import Image, ImageOps, UnidentifiedImageError

from civicgrid.errors import AppError, PayloadTooLarge, UnsupportedMedia

MAX_PIXELS = 40_000_000  # refuses decompression bombs
THUMB_SIZE = (320, 320)
PUBLIC_MAX = (2048, 2048)
ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
TURN_TIMEOUT_S = 30.0  # how long a photo may wait for a free image worker before the request is refused

# Pillow warns between MAX_PIXELS and twice that and raises above; the warning is made an error below.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

_NOT_AN_IMAGE = "只能上传图片（JPEG、PNG、WebP、GIF），该文件不是有效图片"


class ImagesBusy(AppError):
    status = 503
    code = "images_busy"
    title = "服务繁忙"

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


@dataclass(frozen=True)
class PreparedImage:
    """A checked photo and its renditions, ready to be stored."""

    filename: str
    content_type: str
    size: int
    sha256: str
    width: int
    height: int
    public: bytes
    thumb: bytes


def too_many_pixels(width: int, height: int, max_pixels: int = MAX_PIXELS) -> bool:
    return width * height > max_pixels


def _pixel_message(max_pixels: int, size: tuple[int, int] | None = None) -> str:
    limit = f"照片像素过多：最多 {max_pixels // 10_000} 万像素"
    return f"{limit}，该图片为 {size[0]}×{size[1]}" if size else limit


_turns: threading.BoundedSemaphore | None = None
_turns_lock = threading.Lock()


def _semaphore() -> threading.BoundedSemaphore:
    global _turns
    if _turns is None:
        with _turns_lock:
            if _turns is None:
                from civicgrid.settings import get_settings

                _turns = threading.BoundedSemaphore(get_settings().image_workers)
    return _turns


@contextmanager
def image_turn(timeout_s: float | None = None) -> Iterator[None]:
    """Hold one of the process's few image workers (``CIVICGRID_IMAGE_WORKERS``) while decoding."""
    turns = _semaphore()
    if not turns.acquire(timeout=TURN_TIMEOUT_S if timeout_s is None else timeout_s):
        raise ImagesBusy("服务器正在处理较多照片，请稍后重试")
    try:
        yield
    finally:
        turns.release()


def decode(data: bytes, max_pixels: int = MAX_PIXELS) -> tuple[str, Image.Image]:
    """The format and the decoded image; the header's size is checked before a single pixel is decoded."""
    try:
        # Not thread-safe in general (the filter list is global), but image work runs on a few threads only
        # and the explicit header check below comes first; the filter is the second line of defence.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS)) as probe:
                fmt = probe.format or ""
                if too_many_pixels(probe.width, probe.height, max_pixels):
                    raise PayloadTooLarge(_pixel_message(max_pixels, probe.size))
                probe.verify()
            img = Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS))
            if too_many_pixels(img.width, img.height, max_pixels):
                raise PayloadTooLarge(_pixel_message(max_pixels, img.size))
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PayloadTooLarge(_pixel_message(max_pixels)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, MemoryError):
        raise UnsupportedMedia(_NOT_AN_IMAGE) from None
    if fmt not in ALLOWED_FORMATS:
        raise UnsupportedMedia(f"不支持的图片格式：{fmt or '未知'}")
    return fmt, img


def _encode(img: Image.Image, size: tuple[int, int]) -> bytes:
    """A JPEG of ``img`` within ``size``: new pixels, no EXIF, XMP, ICC comment or GPS of the upload."""
    img = img.copy()
    img.thumbnail(size)
    img.info.clear()
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=82)
    return out.getvalue()


def upright(img: Image.Image) -> Image.Image:
    """``img`` turned as its EXIF orientation says (the orientation tag goes with the rest of the EXIF)."""
    try:
        turned = ImageOps.exif_transpose(img)
    except (OSError, ValueError, SyntaxError):
        return img
    return turned if turned is not None else img


def check_size(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"照片过大：最大 {max_bytes // (1024 * 1024)} MB")
    if not data:
        raise UnsupportedMedia("照片文件为空")


def prepare_image(data: bytes, *, filename: str = "", max_bytes: int) -> PreparedImage:
    """Check ``data`` and make its renditions, in one of the process's image turns."""
    check_size(data, max_bytes)
    with image_turn():
        fmt, decoded = decode(data)
        img = decoded
        try:
            img = upright(decoded)
            public, thumb = _encode(img, PUBLIC_MAX), _encode(img, THUMB_SIZE)
        except (OSError, ValueError, MemoryError):
            raise UnsupportedMedia(_NOT_AN_IMAGE) from None
        finally:
            decoded.close()
            if img is not decoded:
                img.close()
    return PreparedImage(
        filename=Path(filename).name[:200],
        content_type=ALLOWED_FORMATS[fmt],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=img.width,
        height=img.height,
        public=public,
        thumb=thumb,
    )


_limiter: RunVar[CapacityLimiter] = RunVar("civicgrid_image_limiter")


async def prepare_off_loop(data: bytes, *, filename: str = "", max_bytes: int) -> PreparedImage:
    """``prepare_image`` on the image threads: never on the event loop, never on a database thread (a photo
    waiting for its turn holds no thread of the small database pool and no write lock)."""
    try:
        limiter = _limiter.get()
    except LookupError:
        from civicgrid.settings import get_settings

        limiter = CapacityLimiter(get_settings().image_workers)
        _limiter.set(limiter)
    work = partial(prepare_image, data, filename=filename, max_bytes=max_bytes)
    return await anyio.to_thread.run_sync(work, limiter=limiter)
