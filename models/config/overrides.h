#pragma once
#include <string>
#include <vector>

#include "models/config/field.h"
#include "models/config/yaml_reader.h"

namespace cim::cfg {

/// One `--set a.b.c=value` override. Applied after the files are loaded; the last one wins.
struct override_spec {
    std::string path;   // dotted key path
    std::string value;  // text as typed
    std::string origin = "--set";  // where it was given: "--set", "--seed", or a sweep file
    int line = 0;                  // line in `origin` (a sweep file), 0 for the command line
};

/// Parse "a.b.c=value"; throws config_error naming the --set argument when malformed.
override_spec parse_override(const std::string& arg);

/// Walks a config struct and sets the one field the dotted path names. Setting a section to a text value
/// reads that section from the YAML file the text names (relative to the working directory), so
/// `--set technology=configs/tech/7nm.yaml` swaps a whole include.
class setter : public visitor<setter> {
public:
    explicit setter(const override_spec& o);

    template <class T>
    void leaf(const char* name, T& field, const range& r, const char* /*desc*/) {
        if (!at_level(name)) return;
        if (!last()) fail_not_section(name);
        T v{};
        try {
            v = parse_scalar<T>(m_spec.value);
        } catch (const std::invalid_argument& e) {
            fail(std::string(e.what()) + " (expected " + type_name<T>() + ")");
        }
        if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
            fail_if(range_violation(static_cast<double>(v), r, unit::none, std::is_integral_v<T>));
        field = v;
        m_done = true;
    }
    void quantity(const char* name, double& field, unit u, const range& r, const char* /*desc*/) {
        if (!at_level(name)) return;
        if (!last()) fail_not_section(name);
        double v = 0;
        try {
            v = parse_quantity(m_spec.value, u);
        } catch (const std::invalid_argument& e) {
            fail(e.what());
        }
        fail_if(range_violation(v, r, u, false));
        field = v;
        m_done = true;
    }
    void choice_impl(const char* name, std::string& field, const std::vector<std::string>& choices, const char*) {
        if (!at_level(name)) return;
        if (!last()) fail_not_section(name);
        yaml_reader::check_choice(m_spec.value, choices, m_spec.origin, m_spec.line, m_spec.path);
        field = m_spec.value;
        m_done = true;
    }
    template <class S>
    void child(const char* name, S& s, const char* /*desc*/) {
        if (!at_level(name)) return;
        if (last()) {
            YAML::Node root;
            try {
                root = load_yaml_file(m_spec.value);
            } catch (const config_error& e) {
                fail(e.format());
            }
            s = S{};
            yaml_reader::read_root(root, m_spec.value, m_spec.path, s, nullptr);
            m_done = true;
            return;
        }
        ++m_depth;
        m_names.clear();
        m_renamed.clear();
        s.visit(*this);
        if (!m_done) finish_level();
        --m_depth;
        try {
            validate_if_any(s);
        } catch (const config_error& e) {
            if (!e.file().empty()) throw;
            // The section's own check may name another key than the one set (cols_per_adc after rows): name that key.
            std::string section;
            for (std::size_t i = 0; i <= m_depth; ++i) section += (i ? "." : "") + m_parts[i];
            throw config_error(m_spec.origin, m_spec.line, e.key().empty() ? section : section + "." + e.key(), e.what());
        }
    }

    void renamed(const char* old_name, const char* new_name) {
        if (!m_done) m_renamed.emplace_back(old_name, new_name);
    }

    /// After visiting the root: throws when nothing matched.
    void finish_level();
    bool done() const { return m_done; }

private:
    bool at_level(const char* name);
    bool last() const { return m_depth + 1 == m_parts.size(); }
    [[noreturn]] void fail(const std::string& msg) const;
    void fail_if(const std::string& msg) const {
        if (!msg.empty()) fail(msg);
    }
    [[noreturn]] void fail_not_section(const char* name) const;

    override_spec m_spec;
    std::vector<std::string> m_parts;
    std::size_t m_depth = 0;
    std::vector<std::string> m_names;  // names seen at the current matching level
    renamed_keys m_renamed;            // renamed keys of the current matching level
    bool m_done = false;
};

/// The override a root validate() error on `key` most likely comes from: the last one that sets the key, a section
/// holding it, or a key inside it; else the last override.
const override_spec& origin_of(const std::vector<override_spec>& overrides, const std::string& key);

/// Apply overrides in order to a loaded config, then validate the root again.
template <class S>
void apply_overrides(S& s, const std::vector<override_spec>& overrides) {
    for (const auto& o : overrides) {
        setter st(o);
        s.visit(st);
        if (!st.done()) st.finish_level();
    }
    if (!overrides.empty()) {
        try {
            validate_if_any(s);
        } catch (const config_error& e) {
            if (!e.file().empty()) throw;
            const override_spec& o = origin_of(overrides, e.key());
            throw config_error(o.origin, o.line, e.key(), e.what());
        }
    }
}

}  // namespace cim::cfg
