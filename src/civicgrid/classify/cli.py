"""Command-line entry points, as plain Typer-annotated functions for the main CLI to register.

app.command("classify")(classify)
app.command("train-classifier")(train_classifier)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # the model pulls in scikit-learn: imported only by the commands that classify
    from rich.table import Table

    from civicgrid.classify.model import Prediction


def _read_texts(texts: list[str] | None, file: Path | None) -> list[str]:
    collected = list(texts or [])
    if file is not None:
        if str(file) == "-":
            content = sys.stdin.read()
        elif not file.is_file():
            raise typer.BadParameter(f"文件不存在：{file}", param_hint="--file")
        else:
            content = file.read_text(encoding="utf-8")
        collected.extend(line.strip() for line in content.splitlines() if line.strip())
    if not collected:
        raise typer.BadParameter("请提供要分类的文本，或用 --file 指定每行一条文本的文件")
    for text in collected:
        if not text.strip():
            raise typer.BadParameter("文本不能为空")
    return collected


def prediction_json(prediction: Prediction) -> str:
    """One JSON line: text, category_code, confidence and the top-3 candidates."""
    return json.dumps(
        {
            "text": prediction.text,
            "category_code": prediction.category_code,
            "confidence": round(prediction.confidence, 4),
            "candidates": [
                {"code": c.code, "name": c.name, "confidence": round(c.confidence, 4)}
                for c in prediction.candidates
            ],
        },
        ensure_ascii=False,
    )


def _table(predictions: list[Prediction]) -> Table:
    from rich.table import Table

    table = Table(title="事部件分类结果")
    table.add_column("序号", justify="right")
    table.add_column("文本", overflow="fold", max_width=40)
    table.add_column("类别")
    table.add_column("置信度", justify="right")
    table.add_column("其他候选")
    for index, p in enumerate(predictions, start=1):
        others = "；".join(f"{c.code} {c.name} {c.confidence:.0%}" for c in p.candidates[1:])
        table.add_row(
            str(index), p.text, f"{p.category_code} {p.category_name}", f"{p.confidence:.0%}", others
        )
    return table


def classify(
    texts: Annotated[list[str] | None, typer.Argument(help="要分类的文本，可多条")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="每行一条文本的 UTF-8 文件；- 表示标准输入")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="每条文本输出一行 JSON")] = False,
) -> None:
    """按事件/部件类别为文本分类（给出前三个候选及置信度）。"""
    from rich.console import Console

    from civicgrid.classify.model import Classifier

    items = _read_texts(texts, file)
    predictions = Classifier.load().predict(items)
    if json_out:
        for prediction in predictions:
            typer.echo(prediction_json(prediction))
    else:
        Console().print(_table(predictions))


def train_classifier(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="模型保存路径（默认覆盖内置模型文件）")
    ] = None,
) -> None:
    """用语料训练分类模型，并报告留出集上的 top-1/top-3 准确率。"""
    from civicgrid.classify.train import train

    report = train(out=out)
    typer.echo(report.format())


def register(app: typer.Typer) -> None:
    app.command("classify")(classify)
    app.command("train-classifier")(train_classifier)
