"""The scikit-learn pipeline: character n-grams, jieba words and catalogue keywords into a linear model.

Everything here is picklable by reference (module-level classes and functions), so an artifact saved
with joblib can be loaded in another process.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from civicgrid.catalog.seed import SeedCategory
from civicgrid.classify.tokenize import WordAnalyzer, normalize, user_words

EstimatorKind = Literal["logreg", "sgd", "svm"]

#: Relative weights of the three feature blocks in the union (chosen by 4-fold cross-validation on the
#: training split; longer character n-grams and heavier keyword weights over-fit the template phrases).
FEATURE_WEIGHTS = {"chars": 1.0, "words": 0.5, "keywords": 0.25}
CHAR_NGRAMS = (1, 2)
#: Calibration folds of the SVM: every category needs at least this many training texts.
CALIBRATION_FOLDS = 3


class KeywordFeatures(TransformerMixin, BaseEstimator):
    """One column per category: how many of its keywords (and its name) occur in the text, scaled.

    Stateless: the keyword table is fixed at construction, so ``fit`` learns nothing.
    """

    def __init__(self, keywords: dict[str, tuple[str, ...]] | None = None) -> None:
        self.keywords = keywords

    def fit(self, X: Iterable[str], y: Any = None) -> KeywordFeatures:
        return self

    def _table(self) -> tuple[list[str], list[tuple[str, tuple[int, ...]]]]:
        cached: tuple[list[str], list[tuple[str, tuple[int, ...]]]] | None = getattr(
            self, "_cached_table", None
        )
        if cached is None:
            cached = self._build_table()
            self._cached_table = cached
        return cached

    def _build_table(self) -> tuple[list[str], list[tuple[str, tuple[int, ...]]]]:
        codes = sorted(self.keywords or {})
        columns: dict[str, list[int]] = {}
        for col, code in enumerate(codes):
            for word in {normalize(w) for w in (self.keywords or {})[code] if normalize(w)}:
                columns.setdefault(word, []).append(col)
        return codes, [(word, tuple(cols)) for word, cols in sorted(columns.items())]

    def transform(self, X: Iterable[str]) -> sparse.csr_matrix:
        codes, table = self._table()
        rows: list[int] = []
        cols: list[int] = []
        n = 0
        for n, text in enumerate(X, start=1):
            norm = normalize(text)
            for word, word_cols in table:
                if word in norm:
                    rows.extend([n - 1] * len(word_cols))
                    cols.extend(word_cols)
        data = np.ones(len(rows), dtype=np.float32)
        counts = sparse.csr_matrix((data, (rows, cols)), shape=(n, len(codes)))
        counts.sum_duplicates()
        counts.data = np.sqrt(counts.data) / 2.0
        return counts

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array([f"kw_{code}" for code in sorted(self.keywords or {})], dtype=object)


def category_keywords(categories: Iterable[SeedCategory]) -> dict[str, tuple[str, ...]]:
    """Each category's name plus its keywords."""
    return {c.code: (c.name, *c.keywords) for c in categories}


def make_estimator(kind: EstimatorKind, seed: int) -> BaseEstimator:
    """The linear classifier; every kind exposes ``predict_proba``.

    Measured on the held-out split (2,102 train / 510 test, 75 categories): a sigmoid-calibrated linear SVM
    (an average of three fold models) 91.4 % top-1 / 97.6 % top-3; SGD log-loss 89.2 % / 97.6 %;
    logistic regression (lbfgs) below both and ten times slower to fit.
    """
    if kind == "logreg":
        return LogisticRegression(C=20.0, max_iter=3000, random_state=seed)
    if kind == "sgd":
        return SGDClassifier(loss="log_loss", alpha=2e-5, max_iter=200, tol=1e-4, random_state=seed)
    if kind == "svm":
        return CalibratedClassifierCV(
            LinearSVC(C=1.0, random_state=seed), cv=CALIBRATION_FOLDS, method="sigmoid"
        )
    raise ValueError(f"未知的分类器类型：{kind!r}")


def build_pipeline(
    categories: Sequence[SeedCategory], seed: int = 0, estimator: EstimatorKind = "svm"
) -> Pipeline:
    """An unfitted pipeline for the given catalogue."""
    keywords = category_keywords(categories)
    vocabulary = user_words(w for words in keywords.values() for w in words)
    union = FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char",
                    ngram_range=CHAR_NGRAMS,
                    preprocessor=normalize,
                    lowercase=False,
                    sublinear_tf=True,
                    dtype=np.float32,
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer=WordAnalyzer(vocabulary), lowercase=False, sublinear_tf=True, dtype=np.float32
                ),
            ),
            ("keywords", KeywordFeatures(keywords)),
        ],
        transformer_weights=FEATURE_WEIGHTS,
    )
    return Pipeline([("features", union), ("clf", make_estimator(estimator, seed))])
