"""Fixtures for the classifier tests: a tiny corpus cut from the shipped one, and a model trained on it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from civicgrid.classify.corpus import CORPUS_COLUMNS, default_corpus_dir
from civicgrid.classify.model import Classifier
from civicgrid.classify.train import TrainReport, train

TINY_CODES = ("C0118", "C0214", "C0301", "C0402")


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four unrelated categories, the first 30 texts of each in the shipped C.csv."""
    folder = tmp_path_factory.mktemp("corpus")
    source = default_corpus_dir().joinpath("C.csv").read_text(encoding="utf-8")
    rows = [
        row
        for code in TINY_CODES
        for row in [r for r in csv.DictReader(source.splitlines()) if r["category_code"] == code][:30]
    ]
    with (folder / "C.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CORPUS_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return folder


@pytest.fixture(scope="session")
def tiny_trained(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainReport, Path]:
    out = tmp_path_factory.mktemp("model") / "tiny.joblib"
    return train(corpus_dir=tiny_corpus, out=out, seed=0), out


@pytest.fixture(scope="session")
def shipped() -> Classifier:
    return Classifier.load()
