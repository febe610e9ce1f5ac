#include "models/hw/component.h"

namespace cim::hw {

void energy_ledger::charge(category c, double joules) {
    m_by_category[static_cast<std::size_t>(c)] += joules;
    if (m_layer >= 0) {
        if (m_by_layer.size() <= static_cast<std::size_t>(m_layer)) m_by_layer.resize(static_cast<std::size_t>(m_layer) + 1, 0.0);
        m_by_layer[static_cast<std::size_t>(m_layer)] += joules;
    }
}

double energy_ledger::total() const {
    double s = 0;
    for (double v : m_by_category) s += v;
    return s;
}

double energy_ledger::by_layer(int layer) const {
    return layer >= 0 && static_cast<std::size_t>(layer) < m_by_layer.size() ? m_by_layer[static_cast<std::size_t>(layer)] : 0.0;
}

}  // namespace cim::hw
