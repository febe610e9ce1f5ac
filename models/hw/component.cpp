#include "models/hw/component.h"

namespace cim::hw {

void energy_ledger::charge(category c, double joules) {
    m_by_category[static_cast<std::size_t>(c)] += joules;
}

double energy_ledger::total() const {
    double s = 0;
    for (double v : m_by_category) s += v;
    return s;
}

}  // namespace cim::hw
