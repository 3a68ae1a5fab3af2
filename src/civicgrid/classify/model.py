"""The trained classifier: load the shipped artifact and predict categories with confidences.

Pure module: no database, no web framework. The default model is the ``classifier.joblib`` packaged in
``civicgrid.data``, loaded once.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import joblib
import numpy as np
import sklearn
from scipy import sparse
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.pipeline import FeatureUnion

from civicgrid.errors import InvalidInput

ARTIFACT_PACKAGE = "civicgrid.data"
ARTIFACT_FILE = "classifier.joblib"
ARTIFACT_FORMAT = 2
TOP_K = 3


class EmptyTextError(InvalidInput, ValueError):
    """The text to classify is empty or whitespace only."""


class ModelVersionWarning(UserWarning):
    """The artifact was trained with another scikit-learn version (or could not be read)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    code: str
    name: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Prediction:
    text: str
    category_code: str
    confidence: float
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def category_name(self) -> str:
        return self.candidates[0].name if self.candidates else self.category_code


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    sklearn_version: str
    corpus_hash: str
    n_train: int
    n_test: int
    top1: float
    top3: float
    estimator: str


def default_artifact_path() -> Path:
    """The packaged artifact's location on disk."""
    return Path(str(resources.files(ARTIFACT_PACKAGE).joinpath(ARTIFACT_FILE)))


class ProbabilityHead(Protocol):
    classes_: np.ndarray

    def predict_proba(self, features: Any) -> np.ndarray: ...


class Classifier:
    """Fitted features (a ``FeatureUnion``), a probability head and the names of the categories."""

    def __init__(
        self, features: FeatureUnion, head: ProbabilityHead, names: dict[str, str], info: ArtifactInfo
    ) -> None:
        self.features = features
        self.head = head
        self.labels: tuple[str, ...] = tuple(str(c) for c in head.classes_)
        self.names = {code: names.get(code, code) for code in self.labels}
        self.info = info

    @classmethod
    def load(cls, path: Path | None = None) -> Classifier:
        """Load an artifact; ``None`` gives the shipped model, loaded once per process."""
        if path is None:
            return _shipped()
        return _load_artifact(Path(path))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": ARTIFACT_FORMAT,
            "features": self.features,
            "head": self.head,
            "names": self.names,
            "info": self.info,
        }
        joblib.dump(payload, path, compress=3)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """The weighted feature blocks side by side (what ``FeatureUnion.transform`` does, minus its
        per-call dispatch overhead, which dominates single-text latency)."""
        weights = self.features.transformer_weights or {}
        blocks = []
        for name, transformer in self.features.transformer_list:
            if transformer in ("drop", None):
                continue
            block = transformer.transform(texts)
            weight = weights.get(name, 1.0)
            blocks.append(block * weight if weight != 1.0 else block)
        return sparse.hstack(blocks, format="csr")

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.head.predict_proba(self.transform(texts)))

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Classify a batch; raises ``EmptyTextError`` (a ``ValueError``) for an empty text."""
        if isinstance(texts, str):
            raise TypeError("predict 需要文本列表；单条文本请用 predict_one")
        for index, text in enumerate(texts):
            if not text or not text.strip():
                raise EmptyTextError(f"第 {index + 1} 条文本为空，无法分类")
        if not texts:
            return []
        proba = self.predict_proba(list(texts))
        order = np.argsort(-proba, axis=1, kind="stable")[:, :TOP_K]
        predictions: list[Prediction] = []
        for text, row, top in zip(texts, proba, order, strict=True):
            candidates = [Candidate(self.labels[i], self.names[self.labels[i]], float(row[i])) for i in top]
            predictions.append(Prediction(text, candidates[0].code, candidates[0].confidence, candidates))
        return predictions

    def predict_one(self, text: str) -> Prediction:
        if not text or not text.strip():
            raise EmptyTextError("文本为空，无法分类")
        return self.predict([text])[0]


def _load_artifact(path: Path) -> Classifier:
    if not path.is_file():
        raise FileNotFoundError(f"模型文件不存在：{path}（请先运行训练命令）")
    with warnings.catch_warnings():
        # sklearn warns on its own about a version change; we issue one clear warning below.
        warnings.simplefilter("ignore", category=InconsistentVersionWarning)
        payload: Any = joblib.load(path)
    if not isinstance(payload, dict) or payload.get("format") != ARTIFACT_FORMAT:
        raise ValueError(f"模型文件格式无法识别：{path}")
    info: ArtifactInfo = payload["info"]
    if info.sklearn_version != sklearn.__version__:
        warnings.warn(
            f"模型文件由 scikit-learn {info.sklearn_version} 训练，当前为 {sklearn.__version__}；"
            "仍可使用，但建议重新训练",
            ModelVersionWarning,
            stacklevel=3,
        )
    return Classifier(payload["features"], payload["head"], payload["names"], info)


@cache
def _shipped() -> Classifier:
    """The shipped model (cached loader). If it cannot be read, retrain it in memory from the corpus."""
    path = default_artifact_path()
    try:
        return _load_artifact(path)
    except Exception as exc:  # an unreadable pickle must not take classification down
        warnings.warn(f"内置模型无法加载（{exc}），改为用内置语料重新训练", ModelVersionWarning, stacklevel=3)
        from civicgrid.classify.train import fit_classifier

        classifier, _ = fit_classifier()
        return classifier
