#pragma once
#include <string>

#include "models/network/graph.h"

namespace cim::network {

/// Network loaders. Each returns a graph whose shapes are already inferred and checked; any problem in the
/// file is a cim::config_error naming the file, the 1-based line and the key path ("layers.conv3.kernel").
///
/// YAML format (see configs/networks/*.yaml):
///   name: vgg8_cifar10                       # optional, default: file stem
///   source: "paper or repository"            # optional provenance -> graph::provenance
///   input: {channels: 3, height: 32, width: 32}
///   layers:
///     - {name: conv1, type: conv2d, out_channels: 128, kernel: 3, stride: 1, padding: 1}
///     - {type: relu}                         # unnamed -> "<type><n>", n counts layers of that type
///     - {name: pool1, type: max_pool, kernel: 2}        # pooling stride defaults to the kernel
///     - {name: add1, type: add, inputs: [conv2, pool1]} # inputs omitted = the previous layer
///     - {type: flatten}
///     - {name: fc1, type: linear, out_features: 1024}
/// `kernel` is an int or [kh, kw]. Keys that do not apply to a layer's type are errors.
graph load_yaml(const std::string& path);

/// Same as load_yaml, from text; `name` stands for the file in errors and in graph::source.
graph load_yaml_text(const std::string& text, const std::string& name);

/// DNN+NeuroSim NetWork.csv: one weight layer per row, `IFM_H,IFM_W,C_in,K_h,K_w,C_out,pool,stride`, no header.
/// A row becomes conv2d (padding (K-1)/2, NeuroSim's "same" assumption), or linear when H=W=K=1; then relu
/// (except after the last row) and a 2x2/2 max_pool when pool is 1. The format has no connectivity, so a row
/// reads the most recent tensor of its declared input shape; a linear row falls back to flattening a tensor
/// of C*H*W == C_in, then to global-average-pooling and flattening one with C == C_in.
/// Does not recover: residual adds, the real pooling window (e.g. ResNet's 3x3/2), or biases.
graph load_neurosim_csv(const std::string& path);

/// Same as load_neurosim_csv, from text; `name` stands for the file in errors and in graph::source.
graph load_neurosim_csv_text(const std::string& text, const std::string& name);

/// Dispatch on the extension: .yaml/.yml -> load_yaml, .csv -> load_neurosim_csv, .onnx -> load_onnx; anything else is a
/// config_error ("unsupported network format").
graph load(const std::string& path);

}  // namespace cim::network
