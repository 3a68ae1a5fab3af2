"""A compact, fast prediction head for the sigmoid-calibrated linear SVM.

scikit-learn's ``CalibratedClassifierCV`` evaluates one calibrator object per class and fold, which costs
~15 ms for a single text. This head holds the same numbers as three matrices and computes the same
probabilities with one sparse product: for each fold k, ``p_k = sigmoid(-(a_k * (X W_k + b_k) + c_k))``,
normalised per row (uniform when a row sums to zero), then averaged over the folds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV


@dataclass(slots=True)
class LinearSigmoidHead:
    classes_: np.ndarray
    #: (n_features, n_folds * n_classes), fold-major columns; sparse because most weights are exactly 0.
    weights: sparse.csr_matrix
    intercepts: np.ndarray
    scale: np.ndarray
    offset: np.ndarray
    n_folds: int

    @classmethod
    def from_calibrated(cls, model: CalibratedClassifierCV) -> LinearSigmoidHead:
        """Copy a fitted multi-class, sigmoid-calibrated linear model into a head."""
        if model.method != "sigmoid" or len(model.classes_) < 3:
            raise ValueError("仅支持多类别 sigmoid 校准的线性模型")
        weights, intercepts, scale, offset = [], [], [], []
        for fold in model.calibrated_classifiers_:
            est = fold.estimator
            if list(est.classes_) != list(model.classes_):
                raise ValueError("校准折中的类别与模型类别不一致")
            coef = est.coef_.toarray() if sparse.issparse(est.coef_) else np.asarray(est.coef_)
            weights.append(sparse.csr_matrix(coef.T.astype(np.float32)))
            intercepts.append(np.asarray(est.intercept_, dtype=np.float64))
            scale.append(np.array([c.a_ for c in fold.calibrators], dtype=np.float64))
            offset.append(np.array([c.b_ for c in fold.calibrators], dtype=np.float64))
        return cls(
            classes_=np.asarray(model.classes_),
            weights=sparse.hstack(weights, format="csr"),
            intercepts=np.concatenate(intercepts),
            scale=np.concatenate(scale),
            offset=np.concatenate(offset),
            n_folds=len(weights),
        )

    def predict_proba(self, features: sparse.spmatrix) -> np.ndarray:
        x = sparse.csr_matrix(features, dtype=np.float32)
        scores = np.asarray((x @ self.weights).todense(), dtype=np.float64) + self.intercepts
        proba = expit(-(self.scale * scores + self.offset))
        n_classes = len(self.classes_)
        folds = proba.reshape(proba.shape[0], self.n_folds, n_classes)
        sums = folds.sum(axis=2, keepdims=True)
        uniform = np.full_like(folds, 1.0 / n_classes)
        folds = np.divide(folds, sums, out=uniform, where=sums != 0)
        return np.asarray(folds.mean(axis=1))
