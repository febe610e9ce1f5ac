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
