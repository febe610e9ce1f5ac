"""Tiny vision transformers: fake-quant vs integer_forward_vit, the cimtlm.quant/2 export (graph, metadata,
initializers) and the round trip predict.py (onnx + numpy) == integer_forward_vit."""
import copy
import json
import math
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

import cimtlm_vit as cv
import predict

HERE = os.path.dirname(os.path.abspath(__file__))
TINY = dict(dim=32, depth=2, heads=4, mlp=64)      # dh = 8: the Div constant sqrt(8) is not exact in float32


def quantised_tiny_vit(seed=0, steps=60, gelu="erf"):
    """A tiny ViT, briefly trained in float and with QAT (so the logits are not degenerate), frozen."""
    torch.manual_seed(seed)
    m = cv.build_vit(gelu=gelu, **TINY)
    xtr, ytr = cv.load_fmnist("train")
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(m.parameters(), 3e-3)

    def run(n):
        m.train()
        for _ in range(n):
            idx = torch.randint(0, 60000, (64,), generator=g).numpy()
            loss = torch.nn.functional.cross_entropy(m(cv.quantize_input(xtr[idx])), torch.from_numpy(ytr[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    run(steps)
    m.calibrate([cv.quantize_input(xtr[:256])])
    m.set_quant(True)
    run(steps)
    m.eval()
    m.freeze()
    return m


@pytest.fixture(scope="module")
def test_images():
    x, y = cv.load_fmnist("t10k")
    return x[:400], y[:400]


@pytest.fixture(scope="module")
def exported17(tmp_path_factory):
    m = quantised_tiny_vit(seed=1)
    path = str(tmp_path_factory.mktemp("vit") / "tiny17.onnx")
    meta = cv.export_onnx_vit(m, path, opset=17)
    return m, path, meta


@pytest.fixture(scope="module")
def exported14(tmp_path_factory):
    m = quantised_tiny_vit(seed=2, steps=30, gelu="tanh")
    path = str(tmp_path_factory.mktemp("vit") / "tiny14.onnx")
    meta = cv.export_onnx_vit(m, path, opset=14)
    return m, path, meta


def test_fake_quant_matches_integer(exported17, test_images):
    m, _, _ = exported17
    x, y = test_images
    with torch.no_grad():
        fq = m(cv.quantize_input(x)).numpy()
    logits = cv.integer_forward_vit(m, x)
    assert logits.dtype == np.int64 and logits.shape == (len(x), 10)
    agree = float((fq.argmax(1) == cv.argmax_first(logits)).mean())
    assert agree >= 0.97, agree
    # the fake-quant logits are acc * s_w * s_in up to the float32 / rounding differences
    scaled = logits * (m.head.weight_scale() * m.norm.out.s())
    assert np.abs(scaled - fq).max() <= 0.05 * np.abs(fq).max()
    assert float((cv.argmax_first(logits) == y).mean()) > 0.5        # it learned something


def test_int_program_uses_contract_constants(exported17):
    m, _, _ = exported17
    prog = cv.IntViT(m)
    b = prog.blocks[0]
    assert b["qk_c"] == 1.0 / float(np.float32(math.sqrt(8))) and b["qk_c"] != 1.0 / math.sqrt(8)
    assert np.array_equal(b["softmax_E"], cv.softmax_table(b["s_qk"]))
    assert np.array_equal(b["gelu"], cv.gelu_table(b["s_fc1"], b["s_gelu"], "erf"))
    assert prog.blocks[0]["ln1"]["eps"] == float(np.float32(1e-5))
    # weight layers: m = (s_w * s_in) / s_out
    q = m.blocks[0].attn.q
    assert b["q"]["m"] == (q.weight_scale() * m.blocks[0].norm1.out.s()) / q.out.s()
    assert prog.head["m"] is None


def _ops(path):
    return [n.op_type for n in onnx.load(path).graph.node]


def test_export_graph_opset17(exported17):
    m, path, meta = exported17
    mo = onnx.load(path)
    onnx.checker.check_model(mo)
    assert mo.opset_import[0].version == 17
    assert [i.name for i in mo.graph.input] == ["input"] and [o.name for o in mo.graph.output] == ["logits"]
    assert mo.graph.input[0].type.tensor_type.shape.dim[0].dim_param
    ops = _ops(path)
    depth = TINY["depth"]
    assert ops.count("LayerNormalization") == 2 * depth + 1 and "ReduceMean" not in ops
    assert ops.count("Softmax") == depth and ops.count("Erf") == depth and "Tanh" not in ops
    assert ops.count("Conv") == 1 and ops.count("Gemm") == 1 and "Identity" not in ops
    assert ops.count("MatMul") == 8 * depth                 # q k v proj fc1 fc2 + Q.K^T + A.V
    assert ops.count("Expand") == 1 and ops.count("Gather") >= 1
    blk = [n.op_type for n in mo.graph.node if n.name.startswith("/blocks/blocks.0/")]
    core = [o for o in blk if o not in ("Constant",)]
    assert core == ["LayerNormalization", "MatMul", "Add", "Reshape", "Transpose", "MatMul", "Add", "Reshape",
                    "Transpose", "MatMul", "Add", "Reshape", "Transpose", "MatMul", "Div", "Softmax", "MatMul",
                    "Transpose", "Reshape", "MatMul", "Add", "Add", "LayerNormalization", "MatMul", "Add", "Div",
                    "Erf", "Add", "Mul", "Mul", "MatMul", "Add", "Add"], core


def test_export_graph_opset14(exported14):
    _, path, meta = exported14
    mo = onnx.load(path)
    onnx.checker.check_model(mo)
    assert mo.opset_import[0].version == 14
    ops = _ops(path)
    depth = TINY["depth"]
    assert "LayerNormalization" not in ops and ops.count("ReduceMean") == 2 * (2 * depth + 1)
    assert ops.count("Sqrt") == 2 * depth + 1 and ops.count("Tanh") == depth and "Erf" not in ops
    lns = [k for k in meta["nodes"] if "norm" in k]
    assert len(lns) == 2 * depth + 1
    by = {n.name: n for n in mo.graph.node}
    assert all(by[k].op_type == "Add" for k in lns)          # the last node of the decomposed pattern
    gel = [k for k in meta["nodes"] if "/act/" in k]
    assert len(gel) == depth and all(by[k].op_type == "Mul" for k in gel)


def test_metadata_contract(exported17):
    m, path, meta = exported17
    mo = onnx.load(path)
    md = json.loads({p.key: p.value for p in mo.metadata_props}["cimtlm.quant"])
    assert md == json.loads(json.dumps(meta))
    assert set(md) == {"format", "weight_bits", "input_bits", "input_scale", "layers", "nodes"}
    assert md["format"] == "cimtlm.quant/2" and md["input_scale"] == 1 / 255
    inits = {t.name: numpy_helper.to_array(t) for t in mo.graph.initializer}
    by = {n.name: n for n in mo.graph.node}
    # layers: weight initializers, input 1 of a Conv / MatMul / Gemm
    assert list(md["layers"]) == [f"{n}.weight" for n, _ in m.weight_layers()]
    for k, v in md["layers"].items():
        users = [n for n in mo.graph.node if k in n.input]
        assert len(users) == 1 and users[0].input[1] == k and users[0].op_type in ("Conv", "MatMul", "Gemm")
        assert set(v) == {"weight_scale", "out_scale"}
    assert md["layers"]["head.weight"]["out_scale"] is None
    assert all(v["out_scale"] > 0 for k, v in md["layers"].items() if k != "head.weight")
    # nodes: the op kinds the contract lists, with positive scales
    kinds = sorted(by[k].op_type for k in md["nodes"])
    depth = TINY["depth"]
    assert kinds.count("LayerNormalization") == 2 * depth + 1
    assert kinds.count("Div") == depth and kinds.count("MatMul") == depth          # Q.K^T (folded Div), A.V
    assert kinds.count("Add") == 1 + 2 * depth and kinds.count("Concat") == 1
    assert kinds.count("Mul") == depth                                               # GELU
    assert all(v["out_scale"] > 0 for v in md["nodes"].values())
    # the scales are the model's, bit for bit
    assert md["nodes"]["/cls/Concat_1"]["out_scale"] == m.cls.out.s()
    assert md["nodes"]["/blocks/blocks.0/attn/qk/Div"]["out_scale"] == m.blocks[0].attn.qk.out.s()
    # every Softmax reads a folded Div whose MatMul has no entry of its own
    for n in mo.graph.node:
        if n.op_type == "Softmax":
            div = [d for d in mo.graph.node if n.input[0] in d.output][0]
            assert div.op_type == "Div" and div.name in md["nodes"]
            mm = [d for d in mo.graph.node if div.input[0] in d.output][0]
            assert mm.op_type == "MatMul" and mm.name not in md["nodes"]


def test_initializers(exported17):
    m, path, md = exported17
    mo = onnx.load(path)
    inits = {t.name: numpy_helper.to_array(t) for t in mo.graph.initializer}
    for name, layer in m.weight_layers():
        w = inits[f"{name}.weight"]
        assert w.dtype == np.float32
        s_w = md["layers"][f"{name}.weight"]["weight_scale"]
        wi = layer.int_weight() if name in ("patch_embed", "head") else layer.int_weight().T
        assert np.array_equal(cv.llround_np(w.astype(np.float64) / s_w), wi)
        assert np.array_equal(w, (wi * s_w).astype(np.float32))
    # LayerNorm gamma/beta, class token, positional embedding: the float32 parameters themselves
    assert np.array_equal(inits["blocks.0.norm1.weight"], m.blocks[0].norm1.weight.detach().numpy())
    assert np.array_equal(inits["norm.bias"], m.norm.bias.detach().numpy())
    assert np.array_equal(inits["cls.cls_token"], m.cls.cls_token.detach().numpy())
    assert np.array_equal(inits["pos.pos_embed"], m.pos.pos_embed.detach().numpy())


@pytest.mark.parametrize("which", ["exported17", "exported14"])
def test_predict_equals_integer_forward(which, request, test_images):
    m, path, _ = request.getfixturevalue(which)
    x, _ = test_images
    ref = cv.integer_forward_vit(m, x)
    got = predict.predict(path, x)
    assert got.dtype == np.int64
    assert np.array_equal(ref, got)


def test_predict_cli(exported17, tmp_path):
    m, path, _ = exported17
    out = tmp_path / "p.csv"
    subprocess.run([sys.executable, os.path.join(HERE, "..", "predict.py"), "--onnx", path, "--out", str(out),
                    "--limit", "40", "--pred-npy", str(tmp_path / "p.npy"), "--logits-npy", str(tmp_path / "l.npy")],
                   check=True, capture_output=True)
    rows = np.loadtxt(out, delimiter=",", skiprows=1, dtype=np.int64)
    x, y = cv.load_fmnist("t10k")
    logits = cv.integer_forward_vit(m, x[:40])
    assert rows.shape == (40, 3)
    assert np.array_equal(rows[:, 2], cv.argmax_first(logits))
    assert np.array_equal(rows[:, 1], y[:40])
    pred = np.load(tmp_path / "p.npy")
    assert pred.dtype == np.int64 and np.array_equal(pred, rows[:, 2])
    l16 = np.load(tmp_path / "l.npy")
    assert l16.dtype == np.int64 and np.array_equal(l16, logits[:16])


def _edit_meta(path, tmp_path, fn):
    mo = onnx.load(path)
    md = json.loads(mo.metadata_props[0].value)
    fn(md)
    mo.metadata_props[0].value = json.dumps(md)
    p = str(tmp_path / "edited.onnx")
    onnx.save(mo, p)
    return p


def test_predict_rejects_bad_metadata(exported17, tmp_path, test_images):
    _, path, meta = exported17
    x, _ = test_images
    ln = "/blocks/blocks.1/norm2/LayerNormalization"
    assert ln in meta["nodes"]
    p = _edit_meta(path, tmp_path, lambda md: md["nodes"].pop(ln))
    with pytest.raises(SystemExit, match="needs a scale"):
        predict.predict(p, x[:2])
    p = _edit_meta(path, tmp_path, lambda md: md["nodes"].__setitem__("/no/such/node", {"out_scale": 0.1}))
    with pytest.raises(SystemExit, match="name no node"):
        predict.predict(p, x[:2])
    # an entry on a node that needs no scale (the bias Add of a Linear layer)
    p = _edit_meta(path, tmp_path, lambda md: md["nodes"].__setitem__("/blocks/blocks.0/fc1/Add", {"out_scale": 0.1}))
    with pytest.raises(SystemExit, match="need no scale"):
        predict.predict(p, x[:2])
    # a changed scale changes the integers (the metadata is really used)
    div = "/blocks/blocks.0/attn/qk/Div"
    p = _edit_meta(path, tmp_path, lambda md: md["nodes"][div].__setitem__("out_scale", md["nodes"][div]["out_scale"] * 1.01))
    assert not np.array_equal(predict.predict(p, x[:20]), predict.predict(path, x[:20]))


def test_export_does_not_change_the_model(test_images):
    m = quantised_tiny_vit(seed=3, steps=5)
    x, _ = test_images
    before = cv.integer_forward_vit(m, x[:50])
    sd = copy.deepcopy(m.state_dict())
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        cv.export_onnx_vit(m, os.path.join(d, "t.onnx"))
    assert np.array_equal(before, cv.integer_forward_vit(m, x[:50]))
    for k, v in m.state_dict().items():
        assert torch.equal(v, sd[k]), k


def test_float_vit_export(tmp_path):
    import make_float_vit as mfv
    mfv.main(["--out-dir", str(tmp_path), "--n", "8", "--train-images", "256", "--epochs", "1", "--threads", "1",
              "--eval-all", "0"])
    path = str(tmp_path / "vit_float.onnx")
    mo = onnx.load(path)
    onnx.checker.check_model(mo)
    assert mo.opset_import[0].version == 14 and len(mo.metadata_props) == 0
    ops = [n.op_type for n in mo.graph.node]
    assert ops.count("ReduceMean") == 18 and ops.count("Sqrt") == 9 and "LayerNormalization" not in ops
    assert ops.count("Tanh") == 4 and "Erf" not in ops and ops.count("Split") == 4 and ops.count("Softmax") == 4
    assert "Identity" not in ops and ops.count("Gemm") == 1 and ops.count("Conv") == 1
    imgs = np.load(tmp_path / "vit_float.images.npy")
    assert imgs.dtype == np.uint8 and imgs.shape == (8, 1, 28, 28)
    labels = np.load(tmp_path / "vit_float.labels.npy")
    assert labels.dtype == np.int64 and labels.shape == (8,)
    rows = np.loadtxt(tmp_path / "vit_float.predictions.csv", delimiter=",", skiprows=1, dtype=np.int64)
    assert rows.shape == (8, 3) and np.array_equal(rows[:, 1], labels)
    # the numpy float evaluation of the graph gives the torch model's predictions
    got = predict.predict_float(path, imgs)
    assert np.array_equal(np.argmax(got, axis=1), rows[:, 2])
    ref = np.load(tmp_path / "vit_float.logits16.npy")
    assert ref.dtype == np.float32 and ref.shape == (8, 10)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-4)
    with pytest.raises(SystemExit, match="no metadata"):
        predict.predict(path, imgs)
    # the erf variant: same weights, GELU as Div/Erf/Add/Mul/Mul, nothing else changes
    path_erf = str(tmp_path / "vit_float_erf.onnx")
    mo_erf = onnx.load(path_erf)
    onnx.checker.check_model(mo_erf)
    ops_erf = [n.op_type for n in mo_erf.graph.node]
    assert ops_erf.count("Erf") == 4 and "Tanh" not in ops_erf and ops_erf.count("ReduceMean") == 18
    assert {t.name for t in mo_erf.graph.initializer} >= {t.name for t in mo.graph.initializer if "mlp" in t.name}
    got_erf = predict.predict_float(path_erf, imgs)
    np.testing.assert_allclose(got_erf, np.load(tmp_path / "vit_float_erf.logits16.npy"), rtol=0, atol=1e-4)
    assert not np.array_equal(got_erf, got)       # the two GELU forms differ (slightly)
