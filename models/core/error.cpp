#include "models/core/error.h"

#include <fmt/format.h>

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
    return one_line(s);
}

std::string model_error::format() const { return one_line(m_key.empty() ? what() : m_key + ": " + what()); }

std::string one_line(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (u < 0x20 || u == 0x7f) {
            out += fmt::format("\\x{:02X}", u);
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace cim
