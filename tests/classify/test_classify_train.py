from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from civicgrid.classify import cli
from civicgrid.classify.corpus import CorpusError
from civicgrid.classify.model import Classifier
from civicgrid.classify.train import train


def test_train_reports_held_out_figures_and_saves(tiny_trained) -> None:
    report, path = tiny_trained
    assert path.is_file()
    assert report.artifact == path
    assert report.n_categories == 4
    assert report.n_train + report.n_test == 120
    assert report.n_test == 27
    assert report.top1 == 1.0
    assert report.top3 == 1.0
    assert set(report.per_category_recall) == {"C0118", "C0214", "C0301", "C0402"}
    assert report.worst_confusions == []
    assert len(report.corpus_hash) == 64
    text = report.format()
    assert "留出集 top-1 准确率 100.0%，top-3 准确率 100.0%" in text
    model = Classifier.load(path)
    assert (model.info.n_train, model.info.n_test, model.info.top1) == (93, 27, 1.0)
    assert model.info.corpus_hash == report.corpus_hash


def test_train_is_deterministic(tiny_corpus: Path, tiny_trained, tmp_path: Path) -> None:
    first, first_path = tiny_trained
    again = train(corpus_dir=tiny_corpus, out=tmp_path / "again.joblib", seed=0)
    assert again.corpus_hash == first.corpus_hash
    texts = ["路灯晚上不亮", "红绿灯坏了", "公厕没水了"]
    a = Classifier.load(first_path).predict(texts)
    b = Classifier.load(tmp_path / "again.joblib").predict(texts)
    assert [p.confidence for p in a] == [p.confidence for p in b]


def test_too_few_rows_per_category(tmp_path: Path) -> None:
    with (tmp_path / "C.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category_code", "style"])
        writer.writerows([[f"路灯不亮第{i}盏", "C0118", "citizen"] for i in range(10)])
        writer.writerows([["红绿灯坏了没人修", "C0214", "citizen"], ["红绿灯一直黄闪", "C0214", "citizen"]])
    with pytest.raises(CorpusError, match=r"^以下类别的训练样本少于 3 条，请补充语料：C0214$"):
        train(corpus_dir=tmp_path, out=tmp_path / "m.joblib")


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("classify")(cli.classify)
    app.command("train-classifier")(cli.train_classifier)
    return app


def test_cli_json_lines(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("公交站的候车亭玻璃碎了\n\n小区门口的宣传栏倒了\n", encoding="utf-8")
    result = CliRunner().invoke(_app(), ["classify", "路牌上的字写错了", "--file", str(source), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["category_code"] for line in lines] == ["C0213", "C0203", "C0501"]
    assert lines[0]["text"] == "路牌上的字写错了"
    assert set(lines[0]) == {"text", "category_code", "confidence", "candidates"}
    assert [set(c) for c in lines[0]["candidates"]] == [{"code", "name", "confidence"}] * 3
    assert lines[1]["candidates"][0]["name"] == "公交站亭"


def test_cli_table_and_errors() -> None:
    runner = CliRunner()
    result = runner.invoke(_app(), ["classify", "消防栓被车撞歪了在漏水"])
    assert result.exit_code == 0
    assert "C0113 消防设施" in result.output
    assert "置信度" in result.output
    missing = runner.invoke(_app(), ["classify"])
    assert missing.exit_code == 2
    blank = runner.invoke(_app(), ["classify", "  "])
    assert blank.exit_code == 2


def test_cli_train(tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import civicgrid.classify.train as train_module

    real_train = train_module.train
    monkeypatch.setattr(train_module, "train", lambda out: real_train(corpus_dir=tiny_corpus, out=out))
    out = tmp_path / "cli.joblib"
    result = CliRunner().invoke(_app(), ["train-classifier", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "留出集 top-1 准确率 100.0%" in result.output
    assert out.is_file()
