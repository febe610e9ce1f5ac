"""PyTorch models to ONNX as cimtlm reads them (docs/onnx.md)."""
import sys


def from_torch(model, example_input, path) -> str:
    """Exports `model` to the ONNX file `path` and returns the path.

    - a QAT model of traces/pytorch (cimtlm_quant.QuantNet or cimtlm_vit.QuantViT): that module's own exporter, which
      writes the scales into the file (metadata cimtlm.quant), so cimtlm runs the trained integer network;
    - any other module: a float export (torch.onnx.export, opset 14, input "input", output "logits", dynamic batch),
      which cimtlm quantises itself (per-channel weights, activation scales from the calibration images)."""
    import torch

    path = str(path)
    mod = sys.modules.get(type(model).__module__)
    cls = type(model).__name__
    if cls == "QuantNet" and hasattr(mod, "export_onnx"):
        mod.export_onnx(model, path, in_shape=tuple(example_input.shape))
        return path
    if cls == "QuantViT" and hasattr(mod, "export_onnx_vit"):
        mod.export_onnx_vit(model, path)
        return path
    model.eval()
    with torch.no_grad():
        torch.onnx.export(model, example_input, path, opset_version=14, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, do_constant_folding=True)
    return path
