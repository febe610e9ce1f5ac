#include "models/circuit/action_table.h"

#include "models/core/error.h"

namespace cim::circuit {

std::size_t action_table::add(action a) {
    for (const action& b : m_actions)
        if (b.name == a.name) throw model_error(m_kind + "." + a.name, "action defined twice");
    m_actions.push_back(std::move(a));
    return m_actions.size() - 1;
}

std::size_t action_table::index(const std::string& name) const {
    for (std::size_t i = 0; i < m_actions.size(); ++i)
        if (m_actions[i].name == name) return i;
    throw model_error(m_kind + "." + name, "no such action");
}

double action_table::area() const {
    double a = 0;
    for (const area_part& p : m_areas) a += p.area;
    return a;
}

double action_table::leakage() const {
    double w = 0;
    for (const leakage_part& p : m_leakages) w += p.power;
    return w;
}

std::array<double, k_categories> action_table::area_by_category() const {
    std::array<double, k_categories> a{};
    for (const area_part& p : m_areas) a[static_cast<std::size_t>(p.cat)] += p.area;
    return a;
}

double action_table::energy(const std::vector<double>& counts) const {
    double e = 0;
    for (std::size_t i = 0; i < m_actions.size() && i < counts.size(); ++i) e += counts[i] * m_actions[i].energy;
    return e;
}

double action_table::latency(const std::vector<double>& counts) const {
    double t = 0;
    for (std::size_t i = 0; i < m_actions.size() && i < counts.size(); ++i) t += counts[i] * m_actions[i].latency;
    return t;
}

std::array<double, k_categories> action_table::energy_by_category(const std::vector<double>& counts) const {
    std::array<double, k_categories> e{};
    for (std::size_t i = 0; i < m_actions.size() && i < counts.size(); ++i)
        e[static_cast<std::size_t>(m_actions[i].cat)] += counts[i] * m_actions[i].energy;
    return e;
}

std::array<double, k_categories> action_table::latency_by_category(const std::vector<double>& counts) const {
    std::array<double, k_categories> t{};
    for (std::size_t i = 0; i < m_actions.size() && i < counts.size(); ++i)
        t[static_cast<std::size_t>(m_actions[i].cat)] += counts[i] * m_actions[i].latency;
    return t;
}

}  // namespace cim::circuit
