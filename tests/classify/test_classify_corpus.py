from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from civicgrid.classify.corpus import (
    CorpusError,
    CorpusRow,
    corpus_hash,
    load_corpus,
    parse_corpus_file,
    split_corpus,
    text_bucket,
)

KNOWN = {"C0118", "C0214"}
HEADER = "text,category_code,style\n"


def _rows(n: int, code: str = "C0118", prefix: str = "路灯不亮") -> list[CorpusRow]:
    return [CorpusRow(f"{prefix}第{i}号", code, "citizen", "x.csv", i + 2) for i in range(n)]


def test_parse_valid_file_keeps_file_and_line() -> None:
    rows = parse_corpus_file(
        "a.csv", HEADER + "梧桐路路灯不亮,C0118,inspector\n\n红绿灯坏了,C0214,citizen\n", KNOWN
    )
    assert [(r.text, r.category_code, r.style, r.source, r.line) for r in rows] == [
        ("梧桐路路灯不亮", "C0118", "inspector", "a.csv", 2),
        ("红绿灯坏了", "C0214", "citizen", "a.csv", 4),
    ]


def test_unknown_code_names_file_and_line() -> None:
    with pytest.raises(CorpusError) as err:
        parse_corpus_file(
            "E9.csv", HEADER + "梧桐路路灯不亮,C0118,citizen\n井盖丢了很危险,C9999,citizen\n", KNOWN
        )
    assert str(err.value) == "E9.csv 第 3 行：未知类别编码 'C9999'"


def test_short_text_names_file_and_line() -> None:
    with pytest.raises(CorpusError) as err:
        parse_corpus_file("C.csv", HEADER + "灯坏,C0118,citizen\n", KNOWN)
    assert str(err.value) == "C.csv 第 2 行：文本过短（少于 4 个字）：'灯坏'"


def test_bad_style_and_header_and_columns() -> None:
    with pytest.raises(
        CorpusError, match=r"^C.csv 第 2 行：style 应为 citizen、inspector 或 hotline，实为 'app'$"
    ):
        parse_corpus_file("C.csv", HEADER + "梧桐路路灯不亮,C0118,app\n", KNOWN)
    with pytest.raises(CorpusError, match=r"^C.csv 第 1 行：表头应为 text,category_code,style"):
        parse_corpus_file("C.csv", "text,code\n梧桐路路灯不亮,C0118\n", KNOWN)
    with pytest.raises(CorpusError, match=r"^C.csv 第 2 行：应有 3 列，实有 2 列$"):
        parse_corpus_file("C.csv", HEADER + "梧桐路路灯不亮,C0118\n", KNOWN)


def test_conflicting_duplicate_across_files(tmp_path: Path) -> None:
    (tmp_path / "A.csv").write_text(HEADER + "路口的灯坏了好几天,C0118,citizen\n", encoding="utf-8")
    (tmp_path / "B.csv").write_text(
        HEADER + "其他文本足够长,C0118,citizen\n路口的灯坏了好几天,C0214,citizen\n", encoding="utf-8"
    )
    with pytest.raises(CorpusError) as err:
        load_corpus(tmp_path)
    assert str(err.value) == "B.csv 第 3 行：文本与 A.csv 第 2 行相同，但类别不同（C0214 与 C0118）"


def test_exact_duplicate_is_kept_once(tmp_path: Path) -> None:
    (tmp_path / "A.csv").write_text(HEADER + "路口的灯坏了好几天,C0118,citizen\n", encoding="utf-8")
    (tmp_path / "B.csv").write_text(HEADER + "路口的灯坏了好几天,C0118,hotline\n", encoding="utf-8")
    assert [(r.source, r.line) for r in load_corpus(tmp_path)] == [("A.csv", 2)]


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="语料目录不存在"):
        load_corpus(tmp_path / "nope")


def test_bucket_is_a_fixed_function_of_the_text() -> None:
    assert text_bucket("梧桐路与青枫路交叉口东北角上水井盖破损缺失") == pytest.approx(0.355052100297502)
    assert text_bucket(" 路灯不亮 ") == text_bucket("路灯不亮")


def test_split_is_stable_when_rows_are_added() -> None:
    base = _rows(40)
    _, test_before = split_corpus(base)
    grown = (
        base[:20] + _rows(30, code="C0214", prefix="红绿灯坏了") + base[20:] + _rows(25, prefix="又一盏灯")
    )
    _, test_after = split_corpus(grown)
    before = {r.text for r in test_before}
    after = {r.text for r in test_after}
    assert before == {t for t in after if t in {r.text for r in base}}


def test_split_is_about_a_fifth_and_every_category_is_held_out() -> None:
    rows = load_corpus()
    train, test = split_corpus(rows)
    assert len(train) + len(test) == len(rows)
    assert 0.15 < len(test) / len(rows) < 0.25
    assert set(Counter(r.category_code for r in test)) == {r.category_code for r in rows}


def test_split_forces_one_held_out_row_in_a_small_category() -> None:
    rows = _rows(3, prefix="灯")
    train, test = split_corpus(rows)
    assert len(test) == 1 and len(train) == 2
    assert test[0].text == min((r.text for r in rows), key=text_bucket)


def test_corpus_hash_ignores_order_and_style() -> None:
    rows = _rows(5)
    shuffled = [CorpusRow(r.text, r.category_code, "hotline", "y.csv", 9) for r in reversed(rows)]
    assert corpus_hash(rows) == corpus_hash(shuffled)
    assert corpus_hash(rows) != corpus_hash(rows[:4])


def test_shipped_c_corpus_covers_every_component_category() -> None:
    from civicgrid.catalog.seed import shipped_categories

    rows = [r for r in load_corpus() if r.source == "C.csv"]
    counts = Counter(r.category_code for r in rows)
    component_codes = {c.code for c in shipped_categories() if c.kind == "C"}
    assert set(counts) == component_codes
    assert min(counts.values()) >= 30
