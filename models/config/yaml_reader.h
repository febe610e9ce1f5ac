#pragma once
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "models/config/field.h"
#include "models/core/error.h"
#include "models/core/file_io.h"

namespace cim::cfg {

/// Load a YAML file, bounded (read_input_file(path, kind): a folder, a device or a file over the kind's limit is an
/// error); a missing file, malformed YAML or a duplicate key becomes a config_error naming the file (and line).
YAML::Node load_yaml_file(const std::string& path, file_kind kind = file_kind::config);

/// Parse YAML text (e.g. an embedded default); `name` is used in errors in place of a file name. A key given twice
/// in one map is an error naming both lines (yaml-cpp would keep the first silently).
YAML::Node load_yaml_text(const std::string& text, const std::string& name);

/// Resolve `ref` relative to the directory of `from_file`.
std::string resolve_relative(const std::string& from_file, const std::string& ref);

/// 1-based line of a node, 0 when unknown.
inline int line_of(const YAML::Node& n) { return n.Mark().is_null() ? 0 : n.Mark().line + 1; }

/// Reads a YAML map into a config struct through its visit(). Unknown keys are errors that suggest the
/// nearest valid key. A nested struct may be given inline (a map) or as a path to another YAML file
/// (a string, relative to the file that names it); errors then name the included file.
/// Every file root may carry a `source:` string (provenance), which is collected, not stored.
class yaml_reader : public visitor<yaml_reader> {
public:
    yaml_reader(YAML::Node node, std::string file, std::string path, std::vector<std::string>* sources)
        : m_node(std::move(node)), m_file(std::move(file)), m_path(std::move(path)), m_sources(sources) {}

    template <class T>
    void leaf(const char* name, T& field, const range& r, const char* /*desc*/) {
        m_names.emplace_back(name);
        const YAML::Node n = m_node[name];
        if (!n) return;
        const T v = parse<T>(n, name);
        if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
            check_range(n, name, static_cast<double>(v), r, unit::none, std::is_integral_v<T>);
        field = v;
    }

    void quantity(const char* name, double& field, unit u, const range& r, const char* /*desc*/) {
        m_names.emplace_back(name);
        const YAML::Node n = m_node[name];
        if (!n) return;
        const std::string text = scalar_text(n, name);
        double v = 0;
        try {
            v = parse_quantity(text, u);
        } catch (const std::invalid_argument& e) {
            throw config_error(m_file, line_of(n), key(name), e.what());
        }
        check_range(n, name, v, r, u, false);
        field = v;
    }

    void choice_impl(const char* name, std::string& field, const std::vector<std::string>& choices,
                     const char* /*desc*/) {
        m_names.emplace_back(name);
        const YAML::Node n = m_node[name];
        if (!n) return;
        const std::string v = scalar_text(n, name);
        check_choice(v, choices, m_file, line_of(n), key(name));
        field = v;
    }

    template <class S>
    void child(const char* name, S& s, const char* /*desc*/) {
        m_names.emplace_back(name);
        const YAML::Node n = m_node[name];
        if (!n) return;
        if (n.IsScalar()) {
            const std::string inc = resolve_relative(m_file, n.Scalar());
            YAML::Node root;
            try {
                root = load_yaml_file(inc);
            } catch (const config_error& e) {
                throw config_error(m_file, line_of(n), key(name), e.format());
            }
            s = S{};
            read_root(root, inc, key(name), s, m_sources);
            return;
        }
        // A map with a `file:` key: the file, then the map's other keys on top of it (e.g. a node at another supply).
        if (n.IsMap() && n["file"]) {
            const YAML::Node f = n["file"];
            const std::string inc = resolve_relative(m_file, scalar_text(f, "file"));
            YAML::Node root;
            try {
                root = load_yaml_file(inc);
            } catch (const config_error& e) {
                throw config_error(m_file, line_of(f), key(name) + ".file", e.format());
            }
            s = S{};
            read_root(root, inc, key(name), s, m_sources);
            YAML::Node rest = YAML::Clone(n);
            rest.remove("file");
            read_struct(rest, m_file, key(name), s, m_sources, false);
            return;
        }
        read_struct(n, m_file, key(name), s, m_sources, false);
    }

    void renamed(const char* old_name, const char* new_name) { m_renamed.emplace_back(old_name, new_name); }

    /// Throws on keys that no visit() asked for (a renamed key: naming its new name).
    void finish(bool allow_source) const;

    /// Read `s` from the map `node`, check unknown keys, then validate (errors carry file/line/path).
    template <class S>
    static void read_struct(const YAML::Node& node, const std::string& file, const std::string& path, S& s,
                            std::vector<std::string>* sources, bool file_root) {
        if (!node.IsMap() && !node.IsNull()) {
            throw config_error(file, line_of(node), path, "expected a map of keys");
        }
        yaml_reader r(node, file, path, sources);
        s.visit(r);
        r.finish(file_root);
        if (file_root && sources && node.IsMap() && node["source"]) sources->push_back(file + ": " + node["source"].Scalar());
        try {
            validate_if_any(s);
        } catch (const config_error& e) {
            if (!e.file().empty()) throw;
            const YAML::Node at = node.IsMap() ? node[first_part(e.key())] : YAML::Node();
            throw config_error(file, at ? line_of(at) : line_of(node), join(path, e.key()), e.what());
        }
    }

    template <class S>
    static void read_root(const YAML::Node& root, const std::string& file, const std::string& path, S& s,
                          std::vector<std::string>* sources) {
        read_struct(root, file, path, s, sources, true);
    }

    static std::string join(const std::string& a, const std::string& b) {
        if (a.empty()) return b;
        if (b.empty()) return a;
        return a + "." + b;
    }
    static void check_choice(const std::string& v, const std::vector<std::string>& choices, const std::string& file,
                             int line, const std::string& key);

private:
    static std::string first_part(const std::string& k) { return k.substr(0, k.find('.')); }
    void check_range(const YAML::Node& n, const char* name, double v, const range& r, unit u, bool integer) const {
        const std::string why = range_violation(v, r, u, integer);
        if (!why.empty()) throw config_error(m_file, line_of(n), key(name), why);
    }
    std::string key(const char* name) const { return join(m_path, name); }
    std::string scalar_text(const YAML::Node& n, const char* name) const;

    template <class T>
    T parse(const YAML::Node& n, const char* name) const {
        const std::string text = scalar_text(n, name);
        try {
            return parse_scalar<T>(text);
        } catch (const std::invalid_argument& e) {
            throw config_error(m_file, line_of(n), key(name), std::string(e.what()) + " (expected " + type_name<T>() + ")");
        }
    }

    YAML::Node m_node;
    std::string m_file;
    std::string m_path;
    std::vector<std::string>* m_sources;
    std::vector<std::string> m_names;
    renamed_keys m_renamed;
};

/// Load a config struct from a YAML file.
template <class S>
void load_file(const std::string& file, S& s, std::vector<std::string>* sources = nullptr) {
    const YAML::Node root = load_yaml_file(file);
    yaml_reader::read_root(root, file, "", s, sources);
}

/// Load a config struct from YAML text (an embedded default); `name` stands for the file in errors, and
/// relative includes resolve against `base_dir`.
template <class S>
void load_text(const std::string& text, const std::string& name, S& s, std::vector<std::string>* sources = nullptr) {
    const YAML::Node root = load_yaml_text(text, name);
    yaml_reader::read_root(root, name, "", s, sources);
}

}  // namespace cim::cfg
