#include "models/config/yaml_reader.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace cim::cfg {

YAML::Node load_yaml_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        std::error_code ec;
        const bool exists = std::filesystem::exists(path, ec);
        throw config_error(path, 0, "", exists ? "cannot read file" : "file not found");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return load_yaml_text(ss.str(), path);
}

YAML::Node load_yaml_text(const std::string& text, const std::string& name) {
    try {
        return YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw config_error(name, e.mark.is_null() ? 0 : e.mark.line + 1, "", "malformed YAML: " + e.msg);
    }
}

std::string resolve_relative(const std::string& from_file, const std::string& ref) {
    const std::filesystem::path p(ref);
    if (p.is_absolute()) return ref;
    const std::filesystem::path base = std::filesystem::path(from_file).parent_path();
    return (base / p).lexically_normal().string();
}

std::string yaml_reader::scalar_text(const YAML::Node& n, const char* name) const {
    if (n.IsNull()) throw config_error(m_file, line_of(n), key(name), "missing value");
    if (!n.IsScalar()) throw config_error(m_file, line_of(n), key(name), "expected a single value, not a list or map");
    return n.Scalar();
}

void yaml_reader::finish(bool allow_source) const {
    if (!m_node.IsMap()) return;
    for (auto it = m_node.begin(); it != m_node.end(); ++it) {
        const std::string k = it->first.Scalar();
        if (allow_source && k == "source") continue;
        bool known = false;
        for (const auto& n : m_names) known = known || n == k;
        if (known) continue;
        std::string msg = "unknown key '" + k + "'";
        const std::string near = nearest(k, m_names);
        if (!near.empty()) msg += " (did you mean '" + near + "'?)";
        else if (!m_names.empty()) {
            msg += " (valid keys:";
            for (const auto& n : m_names) msg += " " + n;
            msg += ")";
        }
        throw config_error(m_file, line_of(it->first), join(m_path, k), msg);
    }
}

void yaml_reader::check_choice(const std::string& v, const std::vector<std::string>& choices, const std::string& file,
                               int line, const std::string& key) {
    for (const auto& c : choices)
        if (c == v) return;
    std::string msg = "'" + v + "' is not one of:";
    for (const auto& c : choices) msg += " " + c;
    const std::string near = nearest(v, choices);
    if (!near.empty()) msg += " (did you mean '" + near + "'?)";
    throw config_error(file, line, key, msg);
}

}  // namespace cim::cfg
