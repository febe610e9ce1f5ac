#include "models/config/yaml_reader.h"

#include <filesystem>
#include <sstream>

#include <yaml-cpp/eventhandler.h>

namespace cim::cfg {

YAML::Node load_yaml_file(const std::string& path, file_kind kind) { return load_yaml_text(read_input_file(path, kind), path); }

namespace {

/// Finds a key given twice in one map, from the parser's events: a node tree no longer holds the second key, and
/// events see an alias as one node, so a document of aliases costs no more to check than to read.
class duplicate_key_finder : public YAML::EventHandler {
public:
    struct duplicate {
        std::string key;  // dotted path of the key
        int first_line = 0, line = 0;
    };
    std::vector<duplicate> found;

    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& m, YAML::anchor_t) override { node(m, "~", true); }
    void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { node(m, "", false); }
    void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string& value) override {
        node(m, value, true);
    }
    void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
        node(m, "", false);
        m_stack.push_back({false, true, {}, ""});
    }
    void OnSequenceEnd() override { m_stack.pop_back(); }
    void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
        node(m, "", false);
        m_stack.push_back({true, true, {}, ""});
    }
    void OnMapEnd() override { m_stack.pop_back(); }

private:
    struct level {
        bool map;
        bool expect_key;                                // a map's next node is a key
        std::vector<std::pair<std::string, int>> keys;  // its scalar keys so far, with their lines
        std::string key;                                // the key whose value is being read
    };

    // A map's key or value, a list element or the document root.
    void node(const YAML::Mark& m, const std::string& text, bool scalar) {
        if (m_stack.empty() || !m_stack.back().map) return;
        level& l = m_stack.back();
        if (!l.expect_key) {
            l.expect_key = true;  // that was the value; a container value pushes its own level after this
            return;
        }
        l.expect_key = false;
        l.key = scalar ? text : "";
        if (!scalar) return;  // a complex key (a list or a map) is no config key
        const int line = m.is_null() ? 0 : m.line + 1;
        for (const auto& [k, first] : l.keys)
            if (k == text && found.empty()) {
                std::string path;
                for (std::size_t i = 0; i + 1 < m_stack.size(); ++i)
                    if (m_stack[i].map) path += m_stack[i].key + ".";
                found.push_back({path + text, first, line});
            }
        l.keys.emplace_back(text, line);
    }

    std::vector<level> m_stack;
};

}  // namespace

YAML::Node load_yaml_text(const std::string& text, const std::string& name) {
    YAML::Node root;
    duplicate_key_finder finder;
    try {
        root = YAML::Load(text);
        std::istringstream in(text);
        YAML::Parser parser(in);
        // The first document only, as YAML::Load reads it (yaml-cpp 0.7 can report endless further documents for
        // some malformed inputs: the fuzzer found it).
        parser.HandleNextDocument(finder);
    } catch (const YAML::Exception& e) {
        throw config_error(name, e.mark.is_null() ? 0 : e.mark.line + 1, "", "malformed YAML: " + e.msg);
    }
    if (!finder.found.empty()) {
        const auto& d = finder.found.front();
        const std::string k = d.key.substr(d.key.rfind('.') == std::string::npos ? 0 : d.key.rfind('.') + 1);
        throw config_error(name, d.line, d.key,
                           "duplicate key '" + k + "': first on line " + std::to_string(d.first_line) +
                               ", again on line " + std::to_string(d.line));
    }
    return root;
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
        const std::string moved = renamed_message(k, m_path, m_renamed);
        if (!moved.empty()) throw config_error(m_file, line_of(it->first), join(m_path, k), moved);
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
