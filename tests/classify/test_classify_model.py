from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pytest

from civicgrid.classify.corpus import load_corpus
from civicgrid.classify.features import build_pipeline
from civicgrid.classify.head import LinearSigmoidHead
from civicgrid.classify.model import Classifier, EmptyTextError, ModelVersionWarning
from civicgrid.classify.tokenize import tokenize
from civicgrid.errors import InvalidInput

UNAMBIGUOUS = [
    ("十字路口的红绿灯不亮了，车都堵住了", "C0214"),
    ("公园公厕的马桶堵了，没法用", "C0301"),
    ("井盖碎了，还闻到很重的煤气味", "C0111"),
    ("我们这条路的路灯晚上全不亮", "C0118"),
    ("联通的井盖被偷了", "C0107"),
    ("雨水箅子被树叶堵了", "C0104"),
    ("消防栓被车撞歪了在漏水", "C0113"),
    ("工地扬尘太大了，也不洒水", "E0302"),
]


@pytest.mark.parametrize(("text", "code"), UNAMBIGUOUS)
def test_shipped_model_predicts_unambiguous_texts(shipped: Classifier, text: str, code: str) -> None:
    assert shipped.predict_one(text).category_code == code


def test_batch_equals_single(shipped: Classifier) -> None:
    texts = [t for t, _ in UNAMBIGUOUS]
    batch = shipped.predict(texts)
    assert [p.category_code for p in batch] == [c for _, c in UNAMBIGUOUS]
    assert [p.text for p in batch] == texts
    single = shipped.predict_one(texts[2])
    assert single.confidence == pytest.approx(batch[2].confidence, abs=1e-9)


def test_top3_shape(shipped: Classifier) -> None:
    prediction = shipped.predict_one("路边的行道树被风刮倒了，压在马路上")
    assert prediction.category_code == "C0402"
    assert prediction.category_name == "行道树"
    assert len(prediction.candidates) == 3
    assert prediction.candidates[0].code == prediction.category_code
    assert prediction.candidates[0].name == "行道树"
    assert prediction.confidence == prediction.candidates[0].confidence
    confidences = [c.confidence for c in prediction.candidates]
    assert confidences == sorted(confidences, reverse=True)
    assert len({c.code for c in prediction.candidates}) == 3
    assert 0.0 < sum(confidences) <= 1.0 + 1e-9
    assert all(c.name for c in prediction.candidates)


def test_shipped_model_knows_all_75_categories(shipped: Classifier) -> None:
    assert len(shipped.labels) == 75
    assert shipped.names["C0101"] == "上水井盖"
    assert shipped.names["E0102"] == "暴露垃圾"


@pytest.mark.parametrize("bad", ["", "   ", "\n\t"])
def test_empty_text_is_refused_in_chinese(shipped: Classifier, bad: str) -> None:
    with pytest.raises(ValueError) as err:
        shipped.predict_one(bad)
    assert str(err.value) == "文本为空，无法分类"
    assert isinstance(err.value, InvalidInput) and err.value.status == 422
    with pytest.raises(EmptyTextError, match=r"^第 2 条文本为空，无法分类$"):
        shipped.predict(["路灯不亮了", bad])


def test_empty_batch_and_plain_string(shipped: Classifier) -> None:
    assert shipped.predict([]) == []
    with pytest.raises(TypeError):
        shipped.predict("路灯不亮了")


def test_default_load_is_cached() -> None:
    assert Classifier.load() is Classifier.load()


def test_user_words_stay_whole() -> None:
    assert tokenize("雨水箅子被树叶堵了", ("雨水箅子",))[0] == "雨水箅子"
    assert tokenize("  ，。！ ") == []


def test_head_matches_scikit_learn(tiny_corpus: Path) -> None:
    from civicgrid.catalog.seed import shipped_categories

    rows = load_corpus(tiny_corpus)
    pipeline = build_pipeline(list(shipped_categories()), seed=0)
    pipeline.fit([r.text for r in rows], [r.category_code for r in rows])
    head = LinearSigmoidHead.from_calibrated(pipeline.named_steps["clf"])
    texts = ["路灯晚上不亮", "红绿灯坏了", "公厕没水了", "树倒了"]
    features = pipeline.named_steps["features"].transform(texts)
    expected = pipeline.predict_proba(texts)
    assert list(head.classes_) == ["C0118", "C0214", "C0301", "C0402"]
    np.testing.assert_allclose(head.predict_proba(features), expected, atol=1e-5)


def test_other_sklearn_version_warns_and_still_works(tiny_trained, tmp_path: Path) -> None:
    _, path = tiny_trained
    model = Classifier.load(path)
    model.info = dataclasses.replace(model.info, sklearn_version="0.0.1")
    old = tmp_path / "old.joblib"
    model.save(old)
    with pytest.warns(ModelVersionWarning, match="scikit-learn 0.0.1"):
        reloaded = Classifier.load(old)
    assert reloaded.predict_one("路灯晚上不亮").category_code == "C0118"


def test_same_version_loads_silently(tiny_trained) -> None:
    _, path = tiny_trained
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Classifier.load(path)


def test_missing_artifact(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="模型文件不存在"):
        Classifier.load(tmp_path / "none.joblib")


def test_unreadable_shipped_artifact_falls_back_to_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civicgrid.classify import model as model_module

    broken = tmp_path / "classifier.joblib"
    broken.write_bytes(b"not a pickle")
    monkeypatch.setattr(model_module, "default_artifact_path", lambda: broken)
    with pytest.warns(ModelVersionWarning, match="内置模型无法加载"):
        fallback = model_module._shipped.__wrapped__()
    assert fallback.predict_one("联通的井盖被偷了").category_code == "C0107"
