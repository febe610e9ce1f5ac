#include "models/engine/activation_collapse.h"

#include <fmt/format.h>

namespace cim::engine {

std::string collapse_verdict::message() const {
    if (!collapsed) return "";
    return fmt::format("activations collapse: the input-bit density falls from {:.3g} at {} to {:.3g} at {} (below {:.3g} % "
                       "of it){}{}; the figures are those of a network whose activations died out",
                       reference, reference_layer, density, layer, 100.0 * ratio,
                       dead_layer.empty() ? "" : " and reaches 0 at ", dead_layer);
}

collapse_verdict activation_collapse(const std::vector<layer_density>& weight_layers, double ratio) {
    collapse_verdict v;
    v.ratio = ratio;
    if (weight_layers.size() < 2) return v;
    v.reference_layer = weight_layers.front().name;
    v.reference = weight_layers.front().density;
    if (!(v.reference > 0)) return v;
    for (std::size_t i = 1; i < weight_layers.size(); ++i) {
        const layer_density& l = weight_layers[i];
        if (!v.collapsed && !(l.density >= ratio * v.reference)) {
            v.collapsed = true;
            v.layer = l.name;
            v.density = l.density;
        }
        if (v.dead_layer.empty() && !(l.density > 0)) v.dead_layer = l.name;
    }
    return v;
}

}  // namespace cim::engine
