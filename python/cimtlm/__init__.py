"""cimtlm from Python (docs/python.md).

- ``Model(config, set={...})``: the batched engine in process; ``Model.run(images)`` returns the logits and predictions
  of the hardware and of the ideal network, bit-identical to ``cimtlm accuracy``.
- ``run``, ``accuracy``, ``sweep`` and ``search``: the simulator in a subprocess (SystemC elaborates once per process);
  results as dicts and pandas DataFrames.
- ``from_torch``: a PyTorch model to ONNX as cimtlm reads it.
"""
from .errors import ConfigError, Error, ModelError, RunError
from .model import Model
from .runner import Result, SweepResult, SearchResult, accuracy, binary, run, search, sweep
from .torch_export import from_torch

__all__ = ["ConfigError", "Error", "ModelError", "RunError", "Model", "Result", "SweepResult", "SearchResult",
           "accuracy", "binary", "run", "search", "sweep", "from_torch"]
