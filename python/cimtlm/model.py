"""The in-process engine: a programmed chip that runs NumPy batches."""
from typing import Mapping, Optional

import numpy as np

from . import _core


def _overrides(set: Optional[Mapping]) -> list:
    """--set KEY=VALUE strings from a dict (booleans as true/false, lists as YAML flow sequences)."""
    out = []
    for k, v in (set or {}).items():
        if isinstance(v, bool):
            v = "true" if v else "false"
        elif isinstance(v, (list, tuple)):
            v = "[" + ", ".join(str(x) for x in v) + "]"
        out.append(f"{k}={v}")
    return out


class Model:
    """A network programmed onto the chip of an experiment config, as ``cimtlm accuracy CONFIG --set ...`` builds it:
    the same weights, device non-idealities, calibration images (the config's run.dataset or
    run.calibration_dataset) and ADC references. Loading raises ConfigError or ModelError."""

    def __init__(self, config: str, set: Optional[Mapping] = None):
        self._m = _core.Model(str(config), _overrides(set))

    @property
    def input_shape(self):
        """(C, H, W) of one image."""
        return tuple(self._m.input_shape)

    @property
    def network(self) -> str:
        return self._m.network

    def run(self, images, first_id: int = 0, threads: int = 0) -> dict:
        """Runs a batch (N, C, H, W) or (N, C*H*W): uint8 (scaled by 1/255) or float32/float64 in [0, 1].

        Returns a dict of ``logits`` and ``logits_ideal`` (int32, N x classes, the integer outputs of the last layer),
        ``predictions`` and ``predictions_ideal`` (int64, N). Image i has id first_id + i, which keys its read noise:
        the CLI numbers the dataset's images from 0. threads: the engine's worker threads (0 = run.threads); the
        results do not depend on it. The GIL is released while the batch runs."""
        if not isinstance(images, np.ndarray):
            raise TypeError(f"images: expected a numpy array, got {type(images).__name__}")
        return self._m.run(images, int(first_id), int(threads))

    def predict(self, images, **kw) -> np.ndarray:
        """The hardware's predicted classes."""
        return self.run(images, **kw)["predictions"]
