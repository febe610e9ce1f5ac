#include "models/hw/component.h"

#include <fnmatch.h>

#include "models/core/error.h"

namespace cim::hw {

bool run_record::in_vcd(const std::string& path) const {
    if (vcd == nullptr) return false;
    if (vcd_scopes.empty()) return true;
    for (const std::string& g : vcd_scopes)
        if (fnmatch(g.c_str(), path.c_str(), 0) == 0) return true;
    return false;
}

component::component(const sc_core::sc_module_name& name, const char* type, run_record& rec,
                     const circuit::action_table* table)
    : sc_core::sc_module(name), m_rec(rec), m_type(type), m_table(table), m_track(rec.time.module(this->name())) {
    if (rec.in_vcd(this->name())) {
        m_busy_signal = std::make_unique<sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS>>("busy", false);
        sc_core::sc_trace(rec.vcd, *m_busy_signal, std::string(this->name()) + ".busy");
    }
}

void component::add_counts(int layer, const std::vector<double>& n) {
    if (m_table == nullptr) throw model_error(name(), "counts actions but has no action table");
    if (layer < 0) throw model_error(name(), "counts without a layer");
    if (static_cast<std::size_t>(layer) >= m_counts.size()) m_counts.resize(static_cast<std::size_t>(layer) + 1);
    std::vector<double>& c = m_counts[static_cast<std::size_t>(layer)];
    if (c.size() < m_table->size()) c.resize(m_table->size(), 0.0);
    for (std::size_t i = 0; i < n.size() && i < c.size(); ++i) c[i] += n[i];
}

void component::sync(sc_core::sc_time& delay) {
    if (delay != sc_core::SC_ZERO_TIME) sc_core::wait(delay);
    delay = sc_core::SC_ZERO_TIME;
}

int component::spend(int cause, const std::array<timeline::ps, circuit::k_categories>& split, int layer,
                     std::int64_t image, const char* label) {
    timeline::ps total = 0;
    for (timeline::ps v : split) total += v;
    const int id = m_rec.time.record(m_track, cause, timeline::to_ps(sc_core::sc_time_stamp()), split, layer, image, label);
    if (total == 0) return id;
    if (m_busy_signal && m_working++ == 0) m_busy_signal->write(true);
    const sc_core::sc_time d = timeline::to_time(total);
    m_busy += d.to_seconds();
    sc_core::wait(d);
    if (m_busy_signal && --m_working == 0) m_busy_signal->write(false);
    return id;
}

int component::work(int cause, const std::vector<double>& n, int layer, std::int64_t image, const char* label) {
    if (m_table == nullptr) throw model_error(name(), "works but has no action table");
    return spend(cause, timeline::to_ps(m_table->latency_by_category(n)), layer, image, label);
}

int component::elapsed(int cause, const sc_core::sc_time& start, circuit::category cat, int layer, std::int64_t image,
                       const char* label) {
    std::array<timeline::ps, circuit::k_categories> split{};
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    split[static_cast<std::size_t>(cat)] = timeline::to_ps(now - start);
    m_busy += (now - start).to_seconds();
    return m_rec.time.record(m_track, cause, timeline::to_ps(start), split, layer, image, label);
}

int component::work(int cause, const sc_core::sc_time& duration, circuit::category cat, int layer, std::int64_t image,
                    const char* label) {
    std::array<timeline::ps, circuit::k_categories> split{};
    split[static_cast<std::size_t>(cat)] = timeline::to_ps(duration);
    return spend(cause, split, layer, image, label);
}

}  // namespace cim::hw
