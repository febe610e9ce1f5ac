#include "models/core/error.h"

namespace cim {

std::string config_error::format() const {
    std::string s;
    if (!m_file.empty()) {
        s += m_file;
        if (m_line > 0) s += ":" + std::to_string(m_line);
        s += ": ";
    }
    if (!m_key.empty()) s += m_key + ": ";
    s += what();
    return s;
}

}  // namespace cim
