#pragma once
#include <array>
#include <string>
#include <vector>

#include <systemc>

#include "models/stats/stats.h"

namespace cim::hw {

/// Cost categories of the report's breakdown (ARCHITECTURE.md §7).
enum class category { array, adc, accumulation, buffer, interconnect, other };
inline constexpr std::array<const char*, 6> k_category_names{"array", "adc", "accumulation", "buffer", "interconnect", "other"};

/// Dynamic energy charged during the run, by category and by layer. Owned by the chip; every component
/// charges the energies its circuit models price, so per-layer and per-category totals need no second walk.
class energy_ledger {
public:
    void begin_layer(int layer) { m_layer = layer; }
    void charge(category c, double joules);
    double total() const;
    double by_category(category c) const { return m_by_category[static_cast<std::size_t>(c)]; }
    double by_layer(int layer) const;

private:
    int m_layer = -1;
    std::array<double, 6> m_by_category{};
    std::vector<double> m_by_layer;
};

/// Base of every cimtlm SystemC module: holds the statistics group and reports the module's *own* area and
/// leakage (children excluded), split by category, so the report can sum the tree without double counting.
class component : public sc_core::sc_module {
public:
    component(const sc_core::sc_module_name& name, const char* type, energy_ledger& ledger)
        : sc_core::sc_module(name), m_type(type), m_ledger(ledger) {}

    const char* type() const { return m_type; }
    const stats::group& statistics() const { return m_stats; }
    /// Own area by category (m^2).
    virtual std::array<double, 6> own_area() const { return {}; }
    /// Own leakage power (W).
    virtual double own_leakage_power() const { return 0.0; }
    /// True when the module holds no part of the mapped network (idle subarray, unused tile slot).
    virtual bool idle() const { return false; }

protected:
    void charge(category c, double joules) { m_ledger.charge(c, joules); }
    stats::group m_stats;

private:
    const char* m_type;
    energy_ledger& m_ledger;
};

inline double area_sum(const std::array<double, 6>& a) {
    double s = 0;
    for (double v : a) s += v;
    return s;
}

}  // namespace cim::hw
