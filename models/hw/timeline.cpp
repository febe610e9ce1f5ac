#include "models/hw/timeline.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "models/core/error.h"

namespace cim::hw {

int timeline::module(const std::string& path) {
    m_modules.push_back(path);
    return static_cast<int>(m_modules.size()) - 1;
}

int timeline::record(int module, int cause, ps start, const std::array<ps, circuit::k_categories>& split, int layer,
                     std::int64_t image, const char* label) {
    activity a;
    a.start = start;
    a.split = split;
    ps d = 0;
    for (ps v : split) d += v;
    a.end = start + d;
    a.module = module;
    a.layer = layer;
    a.image = image;
    a.cause = cause;
    a.label = label;
    m_activities.push_back(a);
    return static_cast<int>(m_activities.size()) - 1;
}

std::array<timeline::ps, circuit::k_categories> timeline::to_ps(const std::array<double, circuit::k_categories>& s) {
    std::array<ps, circuit::k_categories> out{};
    for (std::size_t k = 0; k < out.size(); ++k) {
        if (!(s[k] >= 0.0) || !std::isfinite(s[k]))
            throw model_error("timeline", "a duration is negative or not finite (" + std::to_string(s[k]) + " s)");
        out[k] = static_cast<ps>(std::llround(s[k] * 1e12));
    }
    return out;
}

int timeline::last() const {
    int best = -1;
    for (std::size_t i = 0; i < m_activities.size(); ++i)
        if (best < 0 || m_activities[i].end >= m_activities[static_cast<std::size_t>(best)].end) best = static_cast<int>(i);
    return best;
}

timeline::path timeline::critical_path(int last, std::size_t layers) const {
    path p;
    p.by_layer.assign(layers, 0);
    p.by_layer_category.assign(layers, {});
    p.by_module.assign(m_modules.size(), 0);
    for (int id = last; id >= 0;) {
        const activity& a = m_activities[static_cast<std::size_t>(id)];
        const ps d = a.end - a.start;
        for (std::size_t k = 0; k < circuit::k_categories; ++k) p.by_category[k] += a.split[k];
        if (a.layer >= 0 && static_cast<std::size_t>(a.layer) < layers) {
            p.by_layer[static_cast<std::size_t>(a.layer)] += d;
            for (std::size_t k = 0; k < circuit::k_categories; ++k)
                p.by_layer_category[static_cast<std::size_t>(a.layer)][k] += a.split[k];
        }
        if (a.module >= 0) p.by_module[static_cast<std::size_t>(a.module)] += d;
        p.total += d;
        ++p.steps;
        if (a.cause >= id) throw model_error("timeline", "an activity's cause does not precede it");
        id = a.cause;
    }
    return p;
}

timeline::ps timeline::own_time(int last, int layer, std::int64_t image) const {
    ps t = 0;
    for (int id = last; id >= 0;) {
        const activity& a = m_activities[static_cast<std::size_t>(id)];
        if (a.layer != layer || a.image != image) break;
        t += a.end - a.start;
        id = a.cause;
    }
    return t;
}

std::string timeline::chrome_json(const std::vector<std::string>& layer_names) const {
    using J = nlohmann::ordered_json;
    J events = J::array();
    for (std::size_t i = 0; i < m_modules.size(); ++i)
        events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", i}, {"args", {{"name", m_modules[i]}}}});
    for (const activity& a : m_activities) {
        J args = J::object();
        if (a.layer >= 0) args["layer"] = a.layer;
        if (a.layer >= 0 && static_cast<std::size_t>(a.layer) < layer_names.size())
            args["layer_name"] = layer_names[static_cast<std::size_t>(a.layer)];
        if (a.image >= 0) args["image"] = a.image;
        for (std::size_t k = 0; k < circuit::k_categories; ++k)
            if (a.split[k]) args[std::string(circuit::k_category_names[k]) + "_ps"] = a.split[k];
        // Microseconds with picosecond resolution, so back-to-back intervals stay exact.
        events.push_back({{"name", a.label},
                          {"ph", "X"},
                          {"pid", 1},
                          {"tid", a.module},
                          {"ts", static_cast<double>(a.start) * 1e-6},
                          {"dur", static_cast<double>(a.end - a.start) * 1e-6},
                          {"args", std::move(args)}});
    }
    J root = J::object();
    root["displayTimeUnit"] = "ns";
    root["traceEvents"] = std::move(events);
    return root.dump() + "\n";
}

}  // namespace cim::hw
