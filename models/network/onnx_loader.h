#pragma once
#include <string>

#include "models/network/graph.h"

namespace cim::network {

/// ONNX import: a trained CNN/MLP (opset 7..17 style, as exported by PyTorch) or transformer encoder (opset 14..17)
/// into the IR, with its weights.
///
/// The file is parsed as an onnx::ModelProto; nodes are walked in file order (ONNX requires a topological
/// order). Supported operators and how they map:
///  - Conv (group 1, dilations 1, auto_pad NOTSET/VALID, equal strides, symmetric equal pads, weight and
///    optional bias from initializers or Constant nodes) -> conv2d; the weight (C_out, C_in, kh, kw) is
///    reordered to the IR layout fweights[o][(ky*kw + kx)*C_in + c];
///  - BatchNormalization whose input is a Conv output consumed only by it -> folded into that conv:
///    s = gamma/sqrt(var+eps), w' = w*s per output channel, b' = (b - mean)*s + beta. Elsewhere: an error;
///  - Gemm (alpha = beta = 1, transA 0, transB 0 or 1) and MatMul with an initializer weight -> linear; an
///    Add of an initializer directly after it (its only consumer) is folded into the bias. A flatten is
///    inserted when the producer is not (N,1,1);
///  - Relu -> relu; MaxPool, AveragePool (ceil_mode 0, dilations 1, symmetric pads; AveragePool with pads
///    needs count_include_pad 1, the IR's zero-padded average) -> max_pool / avg_pool; GlobalAveragePool
///    -> avg_pool over the whole map; Add of two activations -> add; Flatten (axis 1) and Reshape to
///    (N, -1) / (N, C*H*W) -> flatten;
///  - Identity and Dropout (inference: identity) are skipped; Constant nodes are kept as tensors for the
///    nodes that read them (Reshape's shape, weights);
///  - transformers (docs/onnx.md section 6): MatMul of two activations -> matmul, a Div/Mul by a scalar constant
///    that alone reads it folded into its multiplier; MatMul with an initializer on tokens -> linear per token
///    (+ bias Add); Softmax (last axis); LayerNormalization, and its decomposed form (ReduceMean, Sub, Pow,
///    ReduceMean, Add, Sqrt, Div, Mul, Add) matched as one pattern; GELU, erf and tanh forms, matched as patterns
///    (checked numerically); Transpose, Reshape, Split, Slice, Gather (constant indices), Squeeze, Unsqueeze ->
///    transpose / reshape / slice, the batch axis followed through and dropped; Concat (constants, e.g. the
///    class token, first); Add of a constant (positional embedding); shape arithmetic on constants (Shape,
///    Gather, Unsqueeze, Concat, ConstantOfShape, Equal, Where, Expand, Cast, ...) folded at import.
/// Anything else is a cim::config_error(path, 0, "nodes.<node name, or <op>#<index> if unnamed>", ...).
///
/// Graph input: the first graph input that is not an initializer, [N,C,H,W] (N may be symbolic), [N,T,D]
/// (tokens) or [N,F] (an MLP: IR input (F,1,1)). Layer names: the node name with '/', '.', ':' replaced by '_' and leading
/// '_' stripped, made unique with a "_2" suffix; unnamed nodes get "<op_type in lower case><node index>".
/// graph::name is the ONNX graph name unless empty or an exporter default ("main_graph", "torch_jit",
/// "torch-jit-export"), else the file stem; graph::provenance names the producer and the opset.
///
/// Weights: without metadata, the weight layers get fweights and bias (a float model; quantise it with
/// engine::quantize_weights and calibrate). With the metadata property "cimtlm.quant" (JSON):
///   {"format": "cimtlm.quant/1", "weight_bits": 8, "input_bits": 8, "input_scale": 0.00392156862745098,
///    "layers": {"<weight initializer name>": {"weight_scale": s_w, "out_scale": s_out | null}, ...},
///    "adds":   {"<Add node name, or its IR layer name if unnamed>": {"out_scale": s}, ...}}
/// or, for transformers, "format": "cimtlm.quant/2" with "nodes" instead of "adds": the out_scale of every
/// requantising layer without weights (add, concat, layernorm, gelu, matmul), keyed by the name of the node whose
/// output carries it (a folded Div/Mul, the last node of a pattern); softmax outputs are at scale 1/(2^ib - 1).
/// every weight must be an integer multiple of its weight_scale (|residual| <= 1e-3, |q| <= 2^(wb-1)-1); the
/// loader fills qweights, weight_scale and every layer's out_scale (input: input_scale; relu, pooling,
/// flatten: the producer's; the logits layer: weight_scale * its input scale, its out_scale may be null or
/// is ignored; conv/linear/add: from the metadata) and sets graph::quantized, weight_bits and input_bits.
/// fweights stay filled. Errors name the key "cimtlm.quant...." (e.g. "cimtlm.quant.layers.conv1.weight").
///
/// Any problem (missing, empty, corrupt or truncated file, no graph, missing initializer, index or size out
/// of range) is a config_error naming the file; nothing in the file is trusted before it is checked.
/// Not supported: external tensor data, float16/int8 initializers, QuantizeLinear/QLinear* nodes,
/// per-channel scales, ops other than the list above.
/// The file is read by read_input_file(path, file_kind::model): a regular file of at most 2 GiB - 1.
graph load_onnx(const std::string& path);

/// Same as load_onnx, from the file's bytes; `name` stands for the file in errors and in graph::source.
graph load_onnx_bytes(const std::string& bytes, const std::string& name);

}  // namespace cim::network
