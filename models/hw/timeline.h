#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <systemc>

#include "models/circuit/action_table.h"

namespace cim::hw {

/// What the modules did in simulated time: one activity per busy interval of a module (a read, a transfer, an
/// adder-tree pass, ...), with the part of its duration each cost category accounts for, and its cause: the
/// activity whose end released it (the work it followed on its own thread, the child that finished last in a
/// fork, or the previous holder of a shared resource it waited for). Causes chain activities back to the start
/// without gaps, so the critical path of any end point is a sum of activities whose durations add up to its
/// time exactly; the report's latency breakdown walks it (critical_path()). Times are integer picoseconds, the
/// kernel's resolution. The Perfetto timeline file (--timeline-json) is written from these activities too.
class timeline {
public:
    using ps = std::uint64_t;
    struct activity {
        ps start = 0, end = 0;
        int module = -1;                        // index into modules()
        int layer = -1;                         // graph layer index, -1 for none
        std::int64_t image = -1;
        int cause = -1;                         // activity whose end this one followed, -1: time 0
        const char* label = "";                 // what the module did ("read", "transfer", ...): a string literal
        std::array<ps, circuit::k_categories> split{};  // the duration by category; sums to end - start
    };

    /// A module's id, registered once per module path.
    int module(const std::string& path);
    const std::vector<std::string>& modules() const { return m_modules; }

    /// Records an activity of `module` from `start` lasting the sum of `split` (ps); returns its id.
    int record(int module, int cause, ps start, const std::array<ps, circuit::k_categories>& split, int layer,
               std::int64_t image, const char* label);
    const std::vector<activity>& activities() const { return m_activities; }
    const activity& operator[](int id) const { return m_activities[static_cast<std::size_t>(id)]; }

    /// Seconds split into whole picoseconds by category: each part rounded, so the parts sum to the duration.
    static std::array<ps, circuit::k_categories> to_ps(const std::array<double, circuit::k_categories>& seconds);
    static ps to_ps(const sc_core::sc_time& t) { return static_cast<ps>(t.value()); }
    static sc_core::sc_time to_time(ps v) { return sc_core::sc_time::from_value(v); }

    /// The critical path that ends with activity `last`: the chain of causes back to the first activity. The
    /// sum of its durations (and of `by_category`) is the end time of `last`.
    struct path {
        std::array<ps, circuit::k_categories> by_category{};
        std::vector<ps> by_layer;   // index = graph layer (time outside any layer is not on the path)
        std::vector<std::array<ps, circuit::k_categories>> by_layer_category;
        std::vector<ps> by_module;  // index = modules()
        ps total = 0;
        std::size_t steps = 0;
    };
    path critical_path(int last, std::size_t layers) const;

    /// Of `a` and `b` (activities or -1), the one that ends later; `a` on a tie. A join's cause.
    int later(int a, int b) const {
        if (a < 0) return b;
        if (b < 0) return a;
        return m_activities[static_cast<std::size_t>(b)].end > m_activities[static_cast<std::size_t>(a)].end ? b : a;
    }

    /// The time a layer's own work took for one image: the activities of (layer, image) on the chain of causes
    /// that ends with `last`, up to the first cause outside it (the work of another layer or image that it waited
    /// for). Excludes the waits for inputs, shared resources held by other layers, and buffer space.
    ps own_time(int last, int layer, std::int64_t image) const;

    /// The activity of the latest end (the last one on ties), -1 when there is none.
    int last() const;

    /// A Perfetto / Chrome trace-event JSON of every activity: one track per module, microseconds; `layer_names`
    /// (index = layer) names the layers in the events' arguments.
    std::string chrome_json(const std::vector<std::string>& layer_names = {}) const;

private:
    std::vector<std::string> m_modules;
    std::vector<activity> m_activities;
};

}  // namespace cim::hw
