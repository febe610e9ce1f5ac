"""Export round trip: checker, metadata contract, initializer names/values, predict.py == integer_forward."""
import json
import subprocess
import sys
import os

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

import cimtlm_quant as cq
import predict

from test_quant import quantised_tiny, TINY

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    x, y = cq.load_fmnist("t10k")
    x = x[:200]
    m = quantised_tiny(x, seed=1, train_steps=10)
    path = str(tmp_path_factory.mktemp("onnx") / "tiny.onnx")
    meta = cq.export_onnx(m, path)
    return m, path, meta, x


def test_checker_and_ops(exported):
    _, path, _, _ = exported
    mo = onnx.load(path)
    onnx.checker.check_model(mo)
    assert {n.op_type for n in mo.graph.node} <= {"Conv", "Relu", "MaxPool", "Flatten", "Gemm"}
    assert mo.opset_import[0].version == 13
    assert [i.name for i in mo.graph.input] == ["input"]
    assert mo.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # dynamic batch


def test_metadata_contract(exported):
    m, path, meta, _ = exported
    mo = onnx.load(path)
    props = {p.key: p.value for p in mo.metadata_props}
    md = json.loads(props["cimtlm.quant"])
    assert md == json.loads(json.dumps(meta))
    assert set(md) == {"format", "weight_bits", "input_bits", "input_scale", "layers", "adds"}
    assert md["format"] == "cimtlm.quant/1" and md["weight_bits"] == 8 and md["input_bits"] == 8
    assert md["input_scale"] == 1 / 255 and md["adds"] == {}
    names = [n for n, _ in m.weight_layers()]
    assert list(md["layers"]) == [f"{n}.weight" for n in names]
    for k, v in md["layers"].items():
        assert set(v) == {"weight_scale", "out_scale"}
    assert list(md["layers"].values())[-1]["out_scale"] is None
    assert all(v["out_scale"] > 0 for v in list(md["layers"].values())[:-1])


def test_initializers(exported):
    m, path, md, _ = exported
    mo = onnx.load(path)
    inits = {t.name: numpy_helper.to_array(t) for t in mo.graph.initializer}
    weight_inputs = {n.input[1] for n in mo.graph.node if n.op_type in ("Conv", "Gemm")}
    assert weight_inputs == set(md["layers"])
    s = cq.INPUT_SCALE
    for name, layer in m.weight_layers():
        w = inits[f"{name}.weight"]
        assert w.dtype == np.float32
        s_w = md["layers"][f"{name}.weight"]["weight_scale"]
        assert np.array_equal(w, (layer.int_weight() * s_w).astype(np.float32))
        # what the C++ importer does
        assert np.array_equal(cq.llround_np(w.astype(np.float64) / s_w), layer.int_weight())
        b = inits[f"{name}.bias"]
        assert np.array_equal(cq.llround_np(b.astype(np.float64) / (s_w * s)), layer.int_bias(s))
        if layer.act_quant:
            s = float(layer.act_scale)


def test_predict_equals_integer_forward(exported, tmp_path):
    m, path, _, x = exported
    ref = cq.integer_forward(m, x)
    got = predict.predict(path, x)
    assert np.array_equal(ref, got)
    # CLI
    out = tmp_path / "p.csv"
    subprocess.run([sys.executable, os.path.join(HERE, "..", "predict.py"), "--onnx", path, "--out", str(out),
                    "--limit", "50"], check=True, capture_output=True)
    rows = np.loadtxt(out, delimiter=",", skiprows=1, dtype=np.int64)
    assert rows.shape == (50, 3)
    assert np.array_equal(rows[:, 2], cq.argmax_first(ref[:50]))
    assert np.array_equal(rows[:, 1], cq.load_fmnist("t10k")[1][:50])


def test_float_resnet_export(tmp_path):
    import make_float_resnet as mfr
    mfr.main(["--out-dir", str(tmp_path), "--n", "8", "--train-images", "128"])
    mo = onnx.load(str(tmp_path / "resnet_float.onnx"))
    onnx.checker.check_model(mo)
    ops = [n.op_type for n in mo.graph.node]
    assert ops.count("BatchNormalization") == 6 and ops.count("Add") == 2 and ops.count("Conv") == 6
    assert "GlobalAveragePool" in ops and "Gemm" in ops and "Identity" not in ops
    imgs = np.load(tmp_path / "resnet_float.images.npy")
    assert imgs.dtype == np.uint8 and imgs.shape == (8, 1, 28, 28)
    labels = np.load(tmp_path / "resnet_float.labels.npy")
    assert labels.dtype == np.int64 and labels.shape == (8,)
    rows = np.loadtxt(tmp_path / "resnet_float.predictions.csv", delimiter=",", skiprows=1, dtype=np.int64)
    assert rows.shape == (8, 3) and np.array_equal(rows[:, 1], labels)
