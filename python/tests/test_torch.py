"""cimtlm.from_torch: a float PyTorch model exported to ONNX runs in cimtlm."""
import numpy as np
import pytest

import cimtlm
from conftest import DEFAULT, fmnist_test

torch = pytest.importorskip("torch")


def test_float_model_exports_and_runs(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                              torch.nn.Flatten(), torch.nn.Linear(4 * 14 * 14, 10))
    path = cimtlm.from_torch(net, torch.zeros(1, 1, 28, 28), tmp_path / "tiny.onnx")
    assert (tmp_path / "tiny.onnx").stat().st_size > 1000
    m = cimtlm.Model(DEFAULT, set={"network": path, "run.limit": 4, "run.calibration_images": 4})
    x, _ = fmnist_test(3)
    out = m.run(x)
    assert out["logits"].shape == (3, 10)
    # The ideal integer network follows the float model's classes on most images.
    with torch.no_grad():
        ref = net(torch.from_numpy(x.astype(np.float32) / 255)).argmax(1).numpy()
    assert (out["predictions_ideal"] == ref).sum() >= 2


def test_qat_model_exports_with_its_scales_and_matches_pytorch_integers(tmp_path):
    import sys
    from conftest import ROOT
    sys.path.insert(0, str(ROOT / "traces" / "pytorch"))
    import cimtlm_quant as cq
    import onnx

    x, _ = fmnist_test(64)
    torch.manual_seed(3)
    m = cq.build_vgg8s(cfg=[4, "M", 8, "M"], fc=16)
    m.calibrate([cq.quantize_input(x)])
    m.set_quant(True)
    m.eval()
    path = cimtlm.from_torch(m, torch.zeros(1, 1, 28, 28), tmp_path / "qat.onnx")
    props = {p.key for p in onnx.load(path).metadata_props}
    assert "cimtlm.quant" in props  # the QAT exporter ran, not the float one
    cm = cimtlm.Model(DEFAULT, set={"network": path, "run.limit": 4})
    out = cm.run(x[:16])
    ref = cq.integer_forward(m, x[:16])
    np.testing.assert_array_equal(out["logits_ideal"], ref)
