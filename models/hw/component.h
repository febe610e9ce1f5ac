#pragma once
#include <array>
#include <string>
#include <vector>

#include <systemc>

#include "models/hw/trace_log.h"
#include "models/stats/stats.h"

namespace cim::hw {

/// Cost categories of the report's breakdown (ARCHITECTURE.md §7).
enum class category { array, adc, accumulation, buffer, interconnect, other };
inline constexpr std::array<const char*, 6> k_category_names{"array", "adc", "accumulation", "buffer", "interconnect", "other"};

/// Dynamic energy charged during the run, by category. Owned by the chip; every component charges the energies its
/// circuit models price, so category totals need no second walk (the controller takes per-layer energy as the
/// difference of total() across a layer).
class energy_ledger {
public:
    void charge(category c, double joules);
    double total() const;
    double by_category(category c) const { return m_by_category[static_cast<std::size_t>(c)]; }

private:
    std::array<double, 6> m_by_category{};
};

/// What the modules of one chip record during a run: the energy they charge and the transaction log.
struct recorder {
    energy_ledger ledger;
    trace_log log;
};

/// Base of every cimtlm SystemC module: holds the statistics group and reports the module's *own* area and
/// leakage (children excluded), split by category, so the report can sum the tree without double counting.
class component : public sc_core::sc_module {
public:
    component(const sc_core::sc_module_name& name, const char* type, recorder& rec)
        : sc_core::sc_module(name), m_type(type), m_rec(rec) {}

    const char* type() const { return m_type; }
    const stats::group& statistics() const { return m_stats; }
    /// Own area by category (m^2).
    virtual std::array<double, 6> own_area() const { return {}; }
    /// Own leakage power (W).
    virtual double own_leakage_power() const { return 0.0; }
    /// True when the module holds no part of the mapped network (idle subarray, unused tile slot).
    virtual bool idle() const { return false; }

protected:
    void charge(category c, double joules) { m_rec.ledger.charge(c, joules); }
    /// Log one served transaction [start, end) (absolute simulated times) on this module's track.
    void log_interval(std::string what, const sc_core::sc_time& start, const sc_core::sc_time& end) {
        if (!m_rec.log.enabled()) return;
        if (m_track < 0) m_track = m_rec.log.track(name());
        m_rec.log.record(m_track, std::move(what), start, end);
    }
    recorder& records() { return m_rec; }
    stats::group m_stats;

private:
    const char* m_type;
    recorder& m_rec;
    int m_track = -1;
};

inline double area_sum(const std::array<double, 6>& a) {
    double s = 0;
    for (double v : a) s += v;
    return s;
}

}  // namespace cim::hw
