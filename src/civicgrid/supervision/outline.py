"""A document's text → its task tree (SPEC §13): pure, no database.

Official text numbers its parts by the GB/T 9704 levels ``一、`` → ``（一）`` → ``1.`` → ``（1）``, each at
the start of a line; speeches enumerate inside a part with ``一要…二要…``, ``一是…二是…`` and ``第一…第二…``
at the start of a sentence (a line's start, or after ``。！？；：``). Each marker opens a node: its number
(the marker as written), its title (the text after the marker up to the first ``。`` or the end of the line,
punctuation kept as written; the ``。`` itself ends the title and is not part of it), its body (the text after
the title up to the next node) and its children. An enumeration is taken only in sequence (``二是``
after ``一是`` of the same list), so a stray ``一是`` inside a sentence of prose does not make a task.

What is not a task: everything before the first node (the document's title, the issuer and date line,
salutations, the opening paragraph), a salutation line anywhere (``同志们：``), and the closing words at the
end (``谢谢大家！``, ``同志们，让我们…``, the issuing office and the date under the text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN = "一二三四五六七八九十"

# GB/T 9704 heading levels, tried in this order at the start of a line: (level, pattern of the marker).
HEADINGS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(rf"^([{_CN}]+)(、)")),
    (2, re.compile(rf"^([（(])([{_CN}]+)([）)])")),
    (4, re.compile(r"^([（(])(\d+)([）)])")),
    (3, re.compile(r"^(\d+)([.．、])(?!\d)")),
)
# Speech enumerations, by style: (style, level, pattern at a sentence start), below the headings.
ENUMERATIONS: tuple[tuple[str, int, re.Pattern[str]], ...] = (
    ("第", 5, re.compile(rf"第([{_CN}]+)(?=[，,、：:是要])")),
    ("要", 6, re.compile(rf"([{_CN}]+)要(?![求素点])")),
    ("是", 7, re.compile(rf"([{_CN}]+)是(?![否非])")),
)
ENUMERATION_START = re.compile(rf"^第?[{_CN}]+[要是，,、]")
SENTENCE_END = "。！？；;!?：:"

SALUTATION = re.compile(r"^(同志们|各位[^，。：:]{0,12}|尊敬的[^，。：:]{0,20})[：:！!]?$")
CLOSING_START = re.compile(r"^(谢谢|同志们[，,！!]|让我们|以上|特此|此致|附件[：:]|抄送|（此件|\(此件)")
DATE_LINE = re.compile(
    r"^[（(]?\s*[\d〇零一二三四五六七八九十]{4}\s*年[\d〇一二三四五六七八九十]{1,3}月[\d〇一二三四五六七八九十]{1,3}日\s*[）)]?$"
)


@dataclass
class Node:
    number: str
    title: str
    body: str = ""
    children: list[Node] = field(default_factory=list)
    level: int = 0  # 1–4 GB/T 9704 headings, 5–7 speech enumerations (not part of the tree's JSON)

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "body": self.body,
            "children": [c.as_json() for c in self.children],
        }

    def walk(self) -> Iterable[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


def cn_number(text: str) -> int:
    """一 → 1, 十二 → 12, 二十 → 20, 九十九 → 99 (the numbers a document's parts go up to)."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    value = 0
    for ch in text:
        value = value * 10 + _CN_DIGITS[ch]
    return value


def parse(text: str) -> list[Node]:
    """The task tree of a document's text (top-level nodes in order)."""
    lines = _content_lines(text)
    roots: list[Node] = []
    stack: list[Node] = []
    # The last number taken in each enumeration style under the node it belongs to (id of the parent node).
    sequences: dict[tuple[int, str], int] = {}
    started = False
    has_headings = any(_heading(line) is not None for line in lines)
    for line in lines:
        heading = _heading(line)
        if heading is not None:
            level, number, rest = heading
            node = _open(roots, stack, level, number)
            started = True
            _fill(node, rest, roots, stack, sequences, title_first=True)
            continue
        if SALUTATION.match(line):
            continue
        if not started:
            # Before the first node: the preamble. A document with headings starts at its first heading (a
            # review of last year in the opening, 一是…二是…, is not a task); a speech without headings starts
            # at its first enumeration.
            if has_headings or _first_enumeration(line, stack, sequences) is None:
                continue
            started = True
            _fill(None, line, roots, stack, sequences, title_first=False)
            continue
        _fill(stack[-1] if stack else None, line, roots, stack, sequences, title_first=False)
    return roots


def parse_docx(data: bytes) -> list[Node]:
    """The task tree of a .docx document (its paragraphs' texts, in order)."""
    return parse(docx_text(data))


def docx_text(data: bytes) -> str:
    import io

    import docx

    document = docx.Document(io.BytesIO(data))
    return "\n".join(p.text for p in document.paragraphs)


def count(nodes: list[Node]) -> int:
    return sum(1 for n in nodes for _ in n.walk())


# --- lines ----------------------------------------------------------------------------------------


def _content_lines(text: str) -> list[str]:
    """Non-empty stripped lines without the closing words, the issuer and the date at the end."""
    lines = [
        ln.strip().replace("\u3000", "") for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ]
    lines = [ln for ln in lines if ln]
    while lines and _is_closing(lines[-1]):
        lines.pop()
    # Closing paragraphs: from the last one that opens with closing words, if only closing lines follow it.
    for i in range(len(lines) - 1, -1, -1):
        if _heading(lines[i]) is not None:
            break
        if CLOSING_START.match(lines[i]):
            del lines[i:]
            break
    return lines


def _is_closing(line: str) -> bool:
    if DATE_LINE.match(line) or CLOSING_START.match(line) or SALUTATION.match(line):
        return True
    # The issuing office or the speaker under the text: a short line with no sentence punctuation.
    return (
        len(line) <= 30
        and not re.search(r"[。，,；;！？!?：:]", line)
        and _heading(line) is None
        and not ENUMERATION_START.match(line)
    )


def _heading(line: str) -> tuple[int, str, str] | None:
    for level, pattern in HEADINGS:
        m = pattern.match(line)
        if m:
            return level, m.group(0), line[m.end() :].lstrip()
    return None


# --- the tree -------------------------------------------------------------------------------------


def _open(roots: list[Node], stack: list[Node], level: int, number: str) -> Node:
    while stack and stack[-1].level >= level:
        stack.pop()
    node = Node(number=number, title="", level=level)
    (stack[-1].children if stack else roots).append(node)
    stack.append(node)
    return node


def _parent_key(stack: list[Node], level: int) -> int:
    """The node an enumeration at ``level`` would hang under (0 for the top)."""
    for node in reversed(stack):
        if node.level < level:
            return id(node)
    return 0


def _first_enumeration(
    text: str, stack: list[Node], sequences: dict[tuple[int, str], int], start: int = 0
) -> tuple[int, int, str, int, str] | None:
    """The first enumeration marker in ``text`` at or after ``start`` that is at a sentence start and in
    sequence: (position, end, number as written, level, style)."""
    best: tuple[int, int, str, int, str] | None = None
    for style, level, pattern in ENUMERATIONS:
        for m in pattern.finditer(text, start):
            pos = m.start()
            if best is not None and pos >= best[0]:
                break
            if not _at_sentence_start(text, pos):
                continue
            n = cn_number(m.group(1))
            last = sequences.get((_parent_key(stack, level), style), 0)
            if n != last + 1:
                continue
            best = (pos, m.end(), m.group(0), level, style)
            break
    return best


def _at_sentence_start(text: str, pos: int) -> bool:
    i = pos - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i < 0 or text[i] in SENTENCE_END


def _fill(
    node: Node | None,
    text: str,
    roots: list[Node],
    stack: list[Node],
    sequences: dict[tuple[int, str], int],
    *,
    title_first: bool,
) -> None:
    """Distribute one line: the title of a freshly opened node (``title_first``), text for the current node's
    body, and any enumeration nodes that start inside it."""
    pos = 0
    if title_first and node is not None:
        pos = _take_title(node, text, 0)
    while True:
        found = _first_enumeration(text, stack, sequences, pos)
        end = found[0] if found else len(text)
        chunk = text[pos:end].strip()
        if chunk and node is not None:
            node.body = f"{node.body}\n{chunk}" if node.body else chunk
        if found is None:
            return
        _, marker_end, number, level, style = found
        key = _parent_key(stack, level)
        sequences[(key, style)] = sequences.get((key, style), 0) + 1
        node = _open(roots, stack, level, number)
        for sub_style in ("第", "要", "是"):  # a new item's own enumerations start again from 一
            sequences.pop((id(node), sub_style), None)
        rest = marker_end
        while rest < len(text) and text[rest] in "，,、：: ":
            rest += 1
        pos = _take_title(node, text, rest)


def _take_title(node: Node, text: str, start: int) -> int:
    """Set ``node.title`` from ``text[start:]`` up to the first ``。`` (or the end); return where the body
    starts."""
    stop = text.find("。", start)
    if stop < 0:
        node.title = text[start:].strip()
        return len(text)
    node.title = text[start:stop].strip()
    return stop + 1
