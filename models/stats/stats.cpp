#include "models/stats/stats.h"

namespace cim::stats {

entry::entry(group& g, std::string name, std::string unit, std::string description)
    : m_name(std::move(name)), m_unit(std::move(unit)), m_description(std::move(description)) {
    g.add(this);
}

}  // namespace cim::stats
