#pragma once
#include <string>
#include <vector>

namespace cim::engine {

/// The input-bit density of one weight layer's input (the fraction of its input activation bits that are 1), in
/// network order: hw::layer_result::input_density() of the platform, layers.csv's input_bit_density.
struct layer_density {
    std::string name;
    double density = 0;
};

/// Whether a network's activations collapsed: they died out layer by layer, so the run priced a network that
/// outputs (almost) nothing. The energies of such a run are real for the data it saw, but not those of a working
/// network, and the report must say so.
struct collapse_verdict {
    bool collapsed = false;
    std::string layer;            // the first weight layer whose input is below the threshold
    double density = 0;           // that layer's input-bit density
    std::string reference_layer;  // the first weight layer (its input is the network input)
    double reference = 0;         // its input-bit density
    std::string dead_layer;       // the first weight layer whose input has no bit set ("" when none)
    double ratio = 0;             // the threshold, as a fraction of `reference`

    /// One line for the table and the report ("" when not collapsed).
    std::string message() const;
};

/// The rule: the reference is the input-bit density of the first weight layer, which sees the network input.
/// The activations collapsed when a later weight layer's input-bit density is below `ratio` (default 1 %) of
/// the reference; the first such layer is named. Healthy networks stay far above it: VGG-8 on CIFAR-10-shaped
/// synthetic inputs keeps every layer between 0.20 and 0.75 against 0.50 at the input, the shipped Fashion-MNIST
/// model between 0.14 and 0.26 against 0.16 (docs/robustness.md). A reference of 0 (an all-zero input) decides
/// nothing, and neither does a network with fewer than two weight layers.
collapse_verdict activation_collapse(const std::vector<layer_density>& weight_layers, double ratio = 0.01);

}  // namespace cim::engine
