"""Training and evaluation: fit on the training split, measure on the held-out split, save the artifact.

The saved model is the one fitted on the training split only, so the figures in its metadata (and the
benchmark's) are honest held-out figures for exactly the shipped model.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path

import sklearn

from civicgrid.catalog.seed import SeedCategory, shipped_categories
from civicgrid.classify.corpus import CorpusError, CorpusRow, corpus_hash, load_corpus, split_corpus
from civicgrid.classify.features import CALIBRATION_FOLDS, EstimatorKind, build_pipeline
from civicgrid.classify.head import LinearSigmoidHead
from civicgrid.classify.model import ArtifactInfo, Classifier, default_artifact_path

WORST_CONFUSIONS = 10


@dataclass(frozen=True, slots=True)
class Confusion:
    true_code: str
    predicted_code: str
    count: int


@dataclass(frozen=True, slots=True)
class Evaluation:
    n: int
    top1: float
    top3: float
    per_category_recall: dict[str, float]
    worst_confusions: list[Confusion]


@dataclass(frozen=True, slots=True)
class TrainReport:
    n_train: int
    n_test: int
    n_categories: int
    top1: float
    top3: float
    per_category_recall: dict[str, float]
    worst_confusions: list[Confusion]
    corpus_hash: str
    sklearn_version: str
    estimator: str
    seconds: float
    artifact: Path | None = None
    names: dict[str, str] = field(default_factory=dict)

    def format(self) -> str:
        """A readable Chinese summary for the command line."""
        lines = [
            f"训练样本 {self.n_train} 条，留出测试 {self.n_test} 条，类别 {self.n_categories} 个"
            f"（分类器 {self.estimator}，scikit-learn {self.sklearn_version}，用时 {self.seconds:.1f} 秒）",
            f"留出集 top-1 准确率 {self.top1:.1%}，top-3 准确率 {self.top3:.1%}",
            f"语料指纹 {self.corpus_hash[:16]}",
        ]
        weak = sorted(self.per_category_recall.items(), key=lambda kv: (kv[1], kv[0]))[:5]
        lines.append("召回率最低的类别：" + "；".join(f"{c} {self.names.get(c, c)} {r:.0%}" for c, r in weak))
        if self.worst_confusions:
            lines.append("主要混淆（真实 → 预测：次数）：")
            lines.extend(
                f"  {c.true_code} {self.names.get(c.true_code, '')} → "
                f"{c.predicted_code} {self.names.get(c.predicted_code, '')}：{c.count}"
                for c in self.worst_confusions
            )
        if self.artifact is not None:
            lines.append(f"模型已保存：{self.artifact}")
        return "\n".join(lines)


def evaluate(classifier: Classifier, rows: Sequence[CorpusRow]) -> Evaluation:
    """Top-1/top-3 accuracy, recall per category and the most frequent confusions on ``rows``."""
    if not rows:
        return Evaluation(0, 0.0, 0.0, {}, [])
    predictions = classifier.predict([r.text for r in rows])
    hits1 = hits3 = 0
    totals: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    confusions: Counter[tuple[str, str]] = Counter()
    for row, pred in zip(rows, predictions, strict=True):
        totals[row.category_code] += 1
        if pred.category_code == row.category_code:
            hits1 += 1
            correct[row.category_code] += 1
        else:
            confusions[(row.category_code, pred.category_code)] += 1
        if any(c.code == row.category_code for c in pred.candidates):
            hits3 += 1
    recall = {code: correct[code] / totals[code] for code in sorted(totals)}
    worst = [
        Confusion(t, p, n)
        for (t, p), n in sorted(confusions.items(), key=lambda kv: (-kv[1], kv[0]))[:WORST_CONFUSIONS]
    ]
    return Evaluation(len(rows), hits1 / len(rows), hits3 / len(rows), recall, worst)


def fit_classifier(
    corpus_dir: Path | Traversable | None = None,
    seed: int = 0,
    estimator: EstimatorKind = "svm",
    categories: Sequence[SeedCategory] | None = None,
) -> tuple[Classifier, TrainReport]:
    """Fit on the training split and evaluate on the held-out split (nothing is saved)."""
    started = time.perf_counter()
    cats = list(categories) if categories is not None else list(shipped_categories())
    rows = load_corpus(corpus_dir, cats)
    train_rows, test_rows = split_corpus(rows)
    _check_enough(train_rows)
    pipeline = build_pipeline(cats, seed=seed, estimator=estimator)
    pipeline.fit([r.text for r in train_rows], [r.category_code for r in train_rows])
    clf = pipeline.named_steps["clf"]
    head = LinearSigmoidHead.from_calibrated(clf) if estimator == "svm" else clf
    names = {c.code: c.name for c in cats}
    digest = corpus_hash(rows)
    provisional = ArtifactInfo(
        sklearn.__version__, digest, len(train_rows), len(test_rows), 0.0, 0.0, estimator
    )
    classifier = Classifier(pipeline.named_steps["features"], head, names, provisional)
    result = evaluate(classifier, test_rows)
    classifier.info = ArtifactInfo(
        sklearn.__version__, digest, len(train_rows), len(test_rows), result.top1, result.top3, estimator
    )
    report = TrainReport(
        n_train=len(train_rows),
        n_test=len(test_rows),
        n_categories=len(classifier.labels),
        top1=result.top1,
        top3=result.top3,
        per_category_recall=result.per_category_recall,
        worst_confusions=result.worst_confusions,
        corpus_hash=digest,
        sklearn_version=sklearn.__version__,
        estimator=estimator,
        seconds=time.perf_counter() - started,
        names=names,
    )
    return classifier, report


def _check_enough(train_rows: Sequence[CorpusRow]) -> None:
    counts = Counter(r.category_code for r in train_rows)
    if len(counts) < 2:
        raise CorpusError("训练语料至少需要两个类别")
    short = sorted(code for code, n in counts.items() if n < CALIBRATION_FOLDS)
    if short:
        raise CorpusError(f"以下类别的训练样本少于 {CALIBRATION_FOLDS} 条，请补充语料：{'、'.join(short)}")


def train(
    corpus_dir: Path | None = None,
    out: Path | None = None,
    seed: int = 0,
    estimator: EstimatorKind = "svm",
) -> TrainReport:
    """Train, evaluate on the held-out split and save the artifact (default: the packaged one)."""
    classifier, report = fit_classifier(corpus_dir, seed=seed, estimator=estimator)
    target = Path(out) if out is not None else default_artifact_path()
    classifier.save(target)
    return dataclasses.replace(report, artifact=target)
