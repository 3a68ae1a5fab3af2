"""The labelled training corpus: loading, validation and the held-out split.

Every ``*.csv`` file in the corpus folder (default: the packaged ``civicgrid/data/corpus``) has the header
``text,category_code,style``. Validation errors name the file and line, in Chinese.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal, cast, get_args

from civicgrid.catalog.seed import SeedCategory, shipped_categories

Style = Literal["citizen", "inspector", "hotline"]

CORPUS_PACKAGE = "civicgrid.data"
CORPUS_FOLDER = "corpus"
CORPUS_COLUMNS = ("text", "category_code", "style")
#: A text shorter than this (after trimming) is refused: it cannot carry a category.
MIN_TEXT_CHARS = 4
#: Share of each category held out for evaluation.
TEST_FRACTION = 0.2


class CorpusError(ValueError):
    """The corpus is malformed; the message is in Chinese and names the file and line."""


@dataclass(frozen=True, slots=True)
class CorpusRow:
    text: str
    category_code: str
    style: Style
    source: str
    line: int


def default_corpus_dir() -> Traversable:
    return resources.files(CORPUS_PACKAGE).joinpath(CORPUS_FOLDER)


def _csv_files(corpus_dir: Path | Traversable) -> list[Traversable | Path]:
    if isinstance(corpus_dir, Path) and not corpus_dir.is_dir():
        raise CorpusError(f"语料目录不存在：{corpus_dir}")
    files = sorted((f for f in corpus_dir.iterdir() if f.name.endswith(".csv")), key=lambda f: f.name)
    if not files:
        raise CorpusError(f"语料目录中没有 CSV 文件：{corpus_dir}")
    return files


def parse_corpus_file(name: str, content: str, known_codes: set[str]) -> list[CorpusRow]:
    """Parse and validate one corpus file's text; ``name`` is used in error messages."""
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff")))
    header = tuple(next(reader, ()))
    if header != CORPUS_COLUMNS:
        raise CorpusError(f"{name} 第 1 行：表头应为 {','.join(CORPUS_COLUMNS)}，实为 {','.join(header)}")
    rows: list[CorpusRow] = []
    for record in reader:
        line = reader.line_num
        if not record or all(not field.strip() for field in record):
            continue
        if len(record) != len(CORPUS_COLUMNS):
            raise CorpusError(f"{name} 第 {line} 行：应有 3 列，实有 {len(record)} 列")
        text, code, style = (field.strip() for field in record)
        if len(text) < MIN_TEXT_CHARS:
            raise CorpusError(f"{name} 第 {line} 行：文本过短（少于 {MIN_TEXT_CHARS} 个字）：{text!r}")
        if code not in known_codes:
            raise CorpusError(f"{name} 第 {line} 行：未知类别编码 {code!r}")
        if style not in get_args(Style):
            raise CorpusError(
                f"{name} 第 {line} 行：style 应为 citizen、inspector 或 hotline，实为 {style!r}"
            )
        rows.append(CorpusRow(text, code, cast(Style, style), name, line))
    return rows


def load_corpus(
    corpus_dir: Path | Traversable | None = None, categories: Iterable[SeedCategory] | None = None
) -> list[CorpusRow]:
    """Load every corpus file, validated against ``categories`` (default: the shipped catalogue).

    An exact duplicate (same text, same code) is kept once; the same text under two codes is an error.
    """
    known = {c.code for c in (categories if categories is not None else shipped_categories())}
    directory = corpus_dir if corpus_dir is not None else default_corpus_dir()
    rows: list[CorpusRow] = []
    first_seen: dict[str, CorpusRow] = {}
    for file in _csv_files(directory):
        for row in parse_corpus_file(file.name, file.read_text(encoding="utf-8"), known):
            earlier = first_seen.get(row.text)
            if earlier is None:
                first_seen[row.text] = row
                rows.append(row)
            elif earlier.category_code != row.category_code:
                raise CorpusError(
                    f"{row.source} 第 {row.line} 行：文本与 {earlier.source} 第 {earlier.line} 行相同，"
                    f"但类别不同（{row.category_code} 与 {earlier.category_code}）"
                )
    return rows


def text_bucket(text: str) -> float:
    """A stable number in [0, 1) from the text alone (SHA-256), independent of any other row."""
    digest = hashlib.sha256(text.strip().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_corpus(
    rows: Sequence[CorpusRow], test_fraction: float = TEST_FRACTION
) -> tuple[list[CorpusRow], list[CorpusRow]]:
    """Deterministic held-out split: a row is held out when its text's bucket is below ``test_fraction``.

    The decision depends only on the text, so adding rows never moves an existing row. To keep the split
    stratified, a category with two or more rows but no held-out row lends its lowest-bucket row to the
    test side, and one with every row held out keeps its highest-bucket row for training.
    """
    by_code: dict[str, list[CorpusRow]] = defaultdict(list)
    for row in rows:
        by_code[row.category_code].append(row)
    test_ids: set[int] = set()
    for group in by_code.values():
        held = [r for r in group if text_bucket(r.text) < test_fraction]
        if not held and len(group) >= 2:
            held = [min(group, key=lambda r: text_bucket(r.text))]
        elif len(held) == len(group) and len(group) >= 2:
            keep = max(group, key=lambda r: text_bucket(r.text))
            held = [r for r in held if r is not keep]
        test_ids.update(id(r) for r in held)
    train = [r for r in rows if id(r) not in test_ids]
    test = [r for r in rows if id(r) in test_ids]
    return train, test


def corpus_hash(rows: Iterable[CorpusRow]) -> str:
    """SHA-256 over the sorted (text, code) pairs: identifies the training data in an artifact."""
    digest = hashlib.sha256()
    for text, code in sorted((r.text, r.category_code) for r in rows):
        digest.update(f"{text}\t{code}\n".encode())
    return digest.hexdigest()
