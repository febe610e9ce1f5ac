"""Shared fixtures of the cimtlm Python API tests. Every test writes into its own pytest tmp_path."""
import gzip
import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "configs" / "experiments" / "default.yaml"
FMNIST = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist, as models/dataset reads it


def fmnist_test(n: int):
    """The first n Fashion-MNIST test images (uint8, N x 1 x 28 x 28) and labels."""
    img, lab = FMNIST / "t10k-images-idx3-ubyte.gz", FMNIST / "t10k-labels-idx1-ubyte.gz"
    if not img.exists():
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    with gzip.open(img) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)[:n].copy()
    with gzip.open(lab) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)[:n].astype(np.int64)
    return x, y


@pytest.fixture(scope="session")
def default_model():
    import cimtlm
    return cimtlm.Model(DEFAULT, set={"run.limit": 20})


@pytest.fixture(autouse=True)
def _quiet_systemc(monkeypatch):
    monkeypatch.setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1")
