#include "models/config/overrides.h"

namespace cim::cfg {

override_spec parse_override(const std::string& arg) {
    const auto eq = arg.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw config_error("--set", 0, arg, "expected key.path=value");
    }
    override_spec o;
    o.path = arg.substr(0, eq);
    o.value = arg.substr(eq + 1);
    return o;
}

setter::setter(const override_spec& o) : m_spec(o) {
    std::size_t start = 0;
    while (true) {
        const auto dot = m_spec.path.find('.', start);
        m_parts.push_back(m_spec.path.substr(start, dot - start));
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    for (const auto& p : m_parts)
        if (p.empty()) throw config_error(m_spec.origin, m_spec.line, m_spec.path, "empty component in key path");
}

bool setter::at_level(const char* name) {
    if (m_done) return false;
    m_names.emplace_back(name);
    return m_parts[m_depth] == name;
}

void setter::finish_level() {
    if (m_done) return;
    std::string section;
    for (std::size_t i = 0; i < m_depth; ++i) section += (i ? "." : "") + m_parts[i];
    const std::string moved = renamed_message(m_parts[m_depth], section, m_renamed);
    if (!moved.empty()) throw config_error(m_spec.origin, m_spec.line, m_spec.path, moved);
    std::string msg = "unknown key '" + m_parts[m_depth] + "'";
    const std::string near = nearest(m_parts[m_depth], m_names);
    if (!near.empty()) msg += " (did you mean '" + near + "'?)";
    throw config_error(m_spec.origin, m_spec.line, m_spec.path, msg);
}

void setter::fail(const std::string& msg) const { throw config_error(m_spec.origin, m_spec.line, m_spec.path, msg); }

void setter::fail_not_section(const char* name) const {
    fail(std::string("'") + name + "' is a value, not a section");
}

const override_spec& origin_of(const std::vector<override_spec>& overrides, const std::string& key) {
    auto within = [](const std::string& outer, const std::string& inner) {
        return inner == outer || (inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
                                  inner[outer.size()] == '.');
    };
    for (auto it = overrides.rbegin(); it != overrides.rend(); ++it)
        if (within(it->path, key) || within(key, it->path)) return *it;
    return overrides.back();
}

}  // namespace cim::cfg
