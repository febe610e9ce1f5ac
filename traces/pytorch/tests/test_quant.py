"""Fake-quant vs integer semantics, rounding, exact integer conv, scale arithmetic order, BN folding."""
import json

import numpy as np
import pytest
import torch

import cimtlm_quant as cq

TINY = [4, "M", 8, "M"]


def tiny_net(seed=0, bn=False):
    torch.manual_seed(seed)
    return cq.build_vgg8s(bn=bn, cfg=TINY, fc=16)


@pytest.fixture(scope="module")
def fmnist_test():
    x, y = cq.load_fmnist("t10k")
    return x[:600], y[:600]


def quantised_tiny(images, seed=0, train_steps=30):
    """A tiny net, briefly trained (so the logits are not degenerate), calibrated, QAT-enabled, frozen."""
    m = tiny_net(seed)
    x = cq.quantize_input(images[:256])
    m.calibrate([x])
    m.set_quant(True)
    xtr, ytr = cq.load_fmnist("train")
    opt = torch.optim.Adam(m.parameters(), 3e-3)
    m.train()
    g = torch.Generator().manual_seed(seed)
    for _ in range(train_steps):
        idx = torch.randint(0, 60000, (64,), generator=g)
        xb = cq.quantize_input(xtr[idx.numpy()])
        loss = torch.nn.functional.cross_entropy(m(xb), torch.from_numpy(ytr[idx.numpy()]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.eval()
    m.freeze()
    return m


def test_llround_half_away_from_zero():
    v = np.array([0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994, 2.4999999999999996, 1e15 + 0.5])
    assert cq.llround_np(v).tolist() == [1, -1, 2, -2, 3, -3, 0, 0, 2, 1000000000000001]
    t = torch.tensor(v[:8], dtype=torch.float64)
    assert cq.round_half_away(t).long().tolist() == [1, -1, 2, -2, 3, -3, 0, 0]


def test_int_conv_is_exact():
    rng = np.random.default_rng(1)
    x = rng.integers(-255, 256, (2, 7, 9, 6))
    w = rng.integers(-127, 128, (5, 7, 3, 3))
    assert np.array_equal(cq._conv3x3_int(x, w), cq._conv3x3_int_ref(x, w))


def test_fake_quant_matches_integer_forward(fmnist_test):
    x, _ = fmnist_test
    m = quantised_tiny(x)
    with torch.no_grad():
        fq = m(cq.quantize_input(x)).numpy()
    logits = cq.integer_forward(m, x)
    assert logits.dtype == np.int64 and logits.shape == (len(x), 10)
    agree = float((fq.argmax(1) == cq.argmax_first(logits)).mean())
    assert agree >= 0.99, agree
    # The fake-quant logits are acc * s_w * s_in up to float32 rounding.
    last = m.classifier[-1]
    s_in = float(m.classifier[0].act_scale)
    scaled = logits * (last.weight_scale() * s_in)
    assert np.abs(scaled - fq).max() <= 1e-3 * np.abs(fq).max() + 1e-4


def test_random_inputs_agreement():
    rng = np.random.default_rng(3)
    imgs = rng.integers(0, 256, (300, 1, 28, 28), dtype=np.uint8)
    m = tiny_net(5)
    m.calibrate([cq.quantize_input(imgs[:100])])
    m.set_quant(True)
    m.eval()
    m.freeze()
    with torch.no_grad():
        fq = m(cq.quantize_input(imgs)).numpy()
    agree = float((fq.argmax(1) == cq.argmax_first(cq.integer_forward(m, imgs))).mean())
    assert agree >= 0.99, agree


def test_scale_arithmetic_order():
    # (s_w * s_in) / s_out and s_w * (s_in / s_out) differ in the last bit for these values: the test is sensitive.
    s_w, s_in, s_out = 0.013, 1.0 / 255.0, 0.11
    assert (s_w * s_in) / s_out != s_w * (s_in / s_out)
    assert (s_w * s_in) / s_out != s_w / s_out * s_in
    m = tiny_net(0)
    conv = m.features[0]
    conv.frozen_w_scale.fill_(s_w)
    conv.act_scale.fill_(s_out)
    assert conv.requant_multiplier(s_in) == (s_w * s_in) / s_out
    # the integer program uses the same multipliers, and they are recomputable bit-exactly from the metadata JSON
    m.calibrate([torch.rand(8, 1, 28, 28)])
    m.freeze()
    prog = cq.extract_int_program(m)
    meta = json.loads(json.dumps(cq.quant_metadata(m)))
    s = meta["input_scale"]
    mults = [op[3] for op in prog if op[0] in ("conv", "linear")]
    for (name, lm), mult in zip(meta["layers"].items(), mults):
        if lm["out_scale"] is None:
            assert mult is None
            continue
        assert mult == (lm["weight_scale"] * s) / lm["out_scale"], name
        s = lm["out_scale"]
    assert meta["input_scale"] == 1 / 255


def test_weight_scale_and_int_weights():
    m = tiny_net(0)
    conv = m.features[0]
    s_w = conv.weight_scale()
    assert s_w == float(conv.weight.detach().abs().max().double()) / 127
    wi = conv.int_weight()
    assert wi.dtype == np.int64 and np.abs(wi).max() == 127


def test_fold_bn():
    m = tiny_net(0, bn=True)
    m.train()
    for _ in range(3):
        m(torch.rand(16, 1, 28, 28))
    m.eval()
    q = cq.build_vgg8s(bn=False, cfg=TINY, fc=16)
    cq.fold_bn_into(m, q)
    q.eval()
    x = torch.rand(8, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(m(x), q(x), atol=1e-4, rtol=1e-4)
