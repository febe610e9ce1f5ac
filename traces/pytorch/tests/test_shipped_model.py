"""The shipped model: card numbers consistent with the predictions file; predict.py agrees on a prefix."""
import json
import os
import re

import numpy as np
import onnx
import pytest

import cimtlm_quant as cq
import predict

MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models")
ONNX = os.path.join(MODELS, "fmnist_vgg8s.onnx")
CARD = os.path.join(MODELS, "fmnist_vgg8s.md")
CSV = os.path.join(MODELS, "fmnist_vgg8s.predictions.csv")


@pytest.fixture(scope="module")
def rows():
    r = np.loadtxt(CSV, delimiter=",", skiprows=1, dtype=np.int64)
    with open(CSV) as f:
        assert f.readline().strip() == "index,label,prediction"
    return r


def test_predictions_file(rows):
    assert rows.shape == (10000, 3)
    assert np.array_equal(rows[:, 0], np.arange(10000))
    assert np.array_equal(rows[:, 1], cq.load_fmnist("t10k")[1])
    assert rows[:, 2].min() >= 0 and rows[:, 2].max() <= 9


def test_card_matches_predictions(rows):
    card = open(CARD).read()
    m = re.search(r"Integer test accuracy: (\d+)/(\d+)", card)
    assert m, "card lacks 'Integer test accuracy: k/n'"
    correct, n = int(m.group(1)), int(m.group(2))
    assert n == len(rows)
    assert correct == int((rows[:, 1] == rows[:, 2]).sum())
    pct = re.search(r"\*\*integer \(`integer_forward`\)\*\* \| \*\*([0-9.]+) %\*\*", card)
    assert pct and float(pct.group(1)) == round(100 * correct / n, 2)
    assert correct / n >= 0.90


def test_shipped_onnx(rows):
    assert os.path.getsize(ONNX) < 5 * 1024 * 1024
    mo = onnx.load(ONNX)
    onnx.checker.check_model(mo)
    md = json.loads({p.key: p.value for p in mo.metadata_props}["cimtlm.quant"])
    assert set(md["layers"]) <= {t.name for t in mo.graph.initializer}
    assert len(md["layers"]) == 8
    x, _ = cq.load_fmnist("t10k")
    pred = np.argmax(predict.predict(ONNX, x[:300]), axis=1)
    assert np.array_equal(pred, rows[:300, 2])
