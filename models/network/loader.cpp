#include "models/network/loader.h"

#include <algorithm>
#include <cmath>
#include <array>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "models/config/field.h"
#include "models/config/yaml_reader.h"
#include "models/core/error.h"
#include "models/core/file_io.h"
#include "models/network/onnx_loader.h"

namespace cim::network {

namespace {

std::string file_stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

/// "<type><n>" names that do not collide with names the file gives explicitly. n counts every layer of
/// that type so far, named or not, so "relu3" is the third relu of the file.
class auto_namer {
public:
    explicit auto_namer(std::set<std::string> taken) : m_taken(std::move(taken)) {}

    /// Count one more layer of `type`; return the name it gets unless `explicit_name` is set.
    std::string next(const std::string& type, const std::string& explicit_name) {
        int& n = m_count[type];
        ++n;
        if (!explicit_name.empty()) return explicit_name;
        std::string name = type + std::to_string(n);
        for (int k = n; m_taken.count(name) != 0; ++k) name = type + std::to_string(k + 1);
        m_taken.insert(name);
        return name;
    }

private:
    std::set<std::string> m_taken;
    std::map<std::string, int> m_count;
};

// ---------------------------------------------------------------------------------------------------------
// YAML

const std::vector<std::string>& layer_types() {
    static const std::vector<std::string> types = {"conv2d",  "linear",    "max_pool", "avg_pool",  "relu",
                                                   "add",     "flatten",   "matmul",   "softmax",   "layernorm",
                                                   "gelu",    "transpose", "reshape",  "slice",     "concat"};
    return types;
}

op op_of(const std::string& type) {
    static const std::map<std::string, op> ops = {
        {"conv2d", op::conv2d},   {"linear", op::linear},       {"max_pool", op::max_pool}, {"avg_pool", op::avg_pool},
        {"relu", op::relu},       {"add", op::add},             {"flatten", op::flatten},   {"matmul", op::matmul},
        {"softmax", op::softmax}, {"layernorm", op::layernorm}, {"gelu", op::gelu},         {"transpose", op::transpose},
        {"reshape", op::reshape}, {"slice", op::slice},         {"concat", op::concat}};
    return ops.at(type);
}

/// Keys a layer of this op accepts; the single source for both the reader and its "did you mean".
std::vector<std::string> keys_for(op kind) {
    std::vector<std::string> keys = {"name", "type", "inputs"};
    switch (kind) {
        case op::conv2d: keys.insert(keys.end(), {"out_channels", "kernel", "stride", "padding"}); break;
        case op::linear: keys.push_back("out_features"); break;
        case op::max_pool:
        case op::avg_pool: keys.insert(keys.end(), {"kernel", "stride", "padding"}); break;
        case op::add: keys.push_back("constant"); break;
        case op::matmul: keys.push_back("scale"); break;
        case op::layernorm: keys.push_back("eps"); break;
        case op::gelu: keys.push_back("approximation"); break;
        case op::transpose: keys.push_back("perm"); break;
        case op::reshape: keys.push_back("shape"); break;
        case op::slice: keys.insert(keys.end(), {"axis", "begin", "end"}); break;
        case op::concat: keys.insert(keys.end(), {"axis", "constant"}); break;
        default: break;
    }
    return keys;
}

/// Reads one YAML file into a graph. Holds only the file name, so errors can say where they are.
class yaml_graph_reader {
public:
    explicit yaml_graph_reader(std::string file) : m_file(std::move(file)) {}

    graph read(const YAML::Node& root) const {
        if (!root.IsMap()) throw config_error(m_file, cfg::line_of(root), "", "expected a map with `input` and `layers`");
        check_keys(root, "", {"name", "source", "input", "layers"}, "a network file");

        graph g;
        g.source = m_file;
        g.name = root["name"] ? text(root["name"], "name") : file_stem(m_file);
        if (root["source"]) g.provenance = text(root["source"], "source");

        const YAML::Node in = root["input"];
        if (!in) throw config_error(m_file, 0, "input", "missing `input: {channels: C, height: H, width: W}`");
        if (!in.IsMap()) throw config_error(m_file, cfg::line_of(in), "input", "expected a map {channels, height, width}");
        if (in["tokens"] || in["features"]) {  // a sequence already embedded: (tokens, features)
            check_keys(in, "input", {"tokens", "features"}, "a token input");
            g.input = shape(std::vector<int>{required_int(in, "tokens", "input", 1), required_int(in, "features", "input", 1)});
        } else {
            check_keys(in, "input", {"channels", "height", "width"}, "the input");
            g.input = {required_int(in, "channels", "input", 1), required_int(in, "height", "input", 1),
                       required_int(in, "width", "input", 1)};
        }
        layer input_node;
        input_node.name = "input";
        input_node.kind = op::input;
        input_node.line = cfg::line_of(in);
        g.layers.push_back(input_node);

        const YAML::Node layers = root["layers"];
        if (!layers) throw config_error(m_file, 0, "layers", "missing `layers:` list");
        if (!layers.IsSequence() || layers.size() == 0)
            throw config_error(m_file, cfg::line_of(layers), "layers", "expected a non-empty list of layers");

        // Explicit names first, so an automatic "relu2" never steals a name the file uses later.
        std::set<std::string> taken = {"input"};
        for (const auto& n : layers)
            if (n.IsMap() && n["name"] && n["name"].IsScalar()) taken.insert(n["name"].Scalar());
        auto_namer namer(taken);

        for (std::size_t i = 0; i < layers.size(); ++i) g.layers.push_back(read_layer(layers[i], i, namer));
        g.infer_shapes();
        return g;
    }

private:
    layer read_layer(const YAML::Node& n, std::size_t index, auto_namer& namer) const {
        const std::string where = "layers." + std::to_string(index);
        if (!n.IsMap()) throw config_error(m_file, cfg::line_of(n), where, "expected a map such as {type: relu}");

        layer l;
        l.line = cfg::line_of(n);
        const std::string given = n["name"] ? text(n["name"], where + ".name") : "";
        if (n["name"] && given.empty()) throw config_error(m_file, cfg::line_of(n["name"]), where + ".name", "empty name");
        const std::string id = given.empty() ? where : "layers." + given;  // key prefix until the type is known

        if (!n["type"]) throw config_error(m_file, l.line, id + ".type", "missing `type` (one of " + join(layer_types()) + ")");
        const std::string type = text(n["type"], id + ".type");
        if (std::find(layer_types().begin(), layer_types().end(), type) == layer_types().end()) {
            std::string msg = "unknown layer type '" + type + "'";
            const std::string near = cfg::nearest(type, layer_types());
            msg += near.empty() ? " (valid types: " + join(layer_types()) + ")" : " (did you mean '" + near + "'?)";
            if (type == "input") msg = "the input node is implicit; describe it with the top-level `input:` map";
            throw config_error(m_file, cfg::line_of(n["type"]), id + ".type", msg);
        }
        l.kind = op_of(type);
        l.name = namer.next(type, given);
        const std::string key = "layers." + l.name;
        check_keys(n, key, keys_for(l.kind), std::string("a ") + type + " layer");

        if (const YAML::Node in = n["inputs"]) {
            if (in.IsScalar()) {
                l.inputs.push_back(in.Scalar());
            } else if (in.IsSequence()) {
                for (const auto& s : in) l.inputs.push_back(text(s, key + ".inputs"));
            } else {
                throw config_error(m_file, cfg::line_of(in), key + ".inputs", "expected a layer name or a list of names");
            }
        }

        switch (l.kind) {
            case op::conv2d:
                l.out_channels = required_int(n, "out_channels", key, 1);
                read_kernel(n, key, l);
                l.stride = optional_int(n, "stride", key, 1, 1);
                l.padding = optional_int(n, "padding", key, 0, 0);
                break;
            case op::linear:
                l.out_channels = required_int(n, "out_features", key, 1);
                break;
            case op::max_pool:
            case op::avg_pool:
                read_kernel(n, key, l);
                // Pooling windows usually tile the input, so the stride defaults to the kernel. One stride
                // serves both axes, so a non-square window has no such default.
                if (!n["stride"] && l.kernel_h != l.kernel_w)
                    throw config_error(m_file, l.line, key + ".stride", "a non-square pooling kernel needs an explicit stride");
                l.stride = optional_int(n, "stride", key, 1, l.kernel_h);
                l.padding = optional_int(n, "padding", key, 0, 0);
                break;
            case op::add:
                if (n["constant"]) l.constant_shape = shape(int_list(n["constant"], key + ".constant"));
                break;
            case op::concat:
                l.axis = optional_int(n, "axis", key, 0, 0);
                if (n["constant"]) l.constant_shape = shape(int_list(n["constant"], key + ".constant"));
                break;
            case op::matmul:
                if (n["scale"]) l.multiplier = to_double(n["scale"], key + ".scale");
                break;
            case op::layernorm:
                if (n["eps"]) l.eps = to_double(n["eps"], key + ".eps");
                break;
            case op::gelu:
                if (n["approximation"]) {
                    const std::string a = text(n["approximation"], key + ".approximation");
                    if (a != "erf" && a != "tanh")
                        throw config_error(m_file, cfg::line_of(n["approximation"]), key + ".approximation",
                                           "'" + a + "' is not one of erf, tanh");
                    l.tanh_form = a == "tanh";
                }
                break;
            case op::transpose:
                if (!n["perm"]) throw config_error(m_file, l.line, key + ".perm", "missing `perm` (a list of axes)");
                l.perm = int_list(n["perm"], key + ".perm", 0);
                break;
            case op::reshape:
                if (!n["shape"]) throw config_error(m_file, l.line, key + ".shape", "missing `shape` (a list of dims)");
                l.new_dims = int_list(n["shape"], key + ".shape");
                break;
            case op::slice:
                l.axis = optional_int(n, "axis", key, 0, 0);
                l.begin = optional_int(n, "begin", key, 0, 0);
                l.end = required_int(n, "end", key, 1);
                break;
            default:
                break;
        }
        return l;
    }

    std::vector<int> int_list(const YAML::Node& v, const std::string& key, int min = 1) const {
        if (!v.IsSequence() || v.size() == 0) throw config_error(m_file, cfg::line_of(v), key, "expected a list of integers");
        std::vector<int> r;
        for (const auto& e : v) r.push_back(to_int(e, key, min));
        return r;
    }

    double to_double(const YAML::Node& v, const std::string& key) const {
        double x = 0;
        try {
            x = cfg::parse_scalar<double>(text(v, key));
        } catch (const std::invalid_argument& e) {
            throw config_error(m_file, cfg::line_of(v), key, std::string(e.what()) + " (expected a number)");
        }
        if (!std::isfinite(x)) throw config_error(m_file, cfg::line_of(v), key, "must be a finite number");
        return x;
    }

    void read_kernel(const YAML::Node& n, const std::string& key, layer& l) const {
        const YAML::Node k = n["kernel"];
        if (!k) throw config_error(m_file, cfg::line_of(n), key + ".kernel", "missing `kernel` (an int or [kh, kw])");
        if (k.IsSequence()) {
            if (k.size() != 2) throw config_error(m_file, cfg::line_of(k), key + ".kernel", "expected an int or [kh, kw]");
            l.kernel_h = to_int(k[0], key + ".kernel", 1);
            l.kernel_w = to_int(k[1], key + ".kernel", 1);
        } else {
            l.kernel_h = l.kernel_w = to_int(k, key + ".kernel", 1);
        }
    }

    int required_int(const YAML::Node& map, const char* name, const std::string& key, int min) const {
        const YAML::Node v = map[name];
        if (!v) throw config_error(m_file, cfg::line_of(map), cfg::yaml_reader::join(key, name), std::string("missing `") + name + "`");
        return to_int(v, cfg::yaml_reader::join(key, name), min);
    }

    int optional_int(const YAML::Node& map, const char* name, const std::string& key, int min, int dflt) const {
        const YAML::Node v = map[name];
        return v ? to_int(v, cfg::yaml_reader::join(key, name), min) : dflt;
    }

    int to_int(const YAML::Node& v, const std::string& key, int min) const {
        int x = 0;
        try {
            x = cfg::parse_scalar<int>(text(v, key));
        } catch (const std::invalid_argument& e) {
            throw config_error(m_file, cfg::line_of(v), key, std::string(e.what()) + " (expected an integer)");
        }
        if (x < min)
            throw config_error(m_file, cfg::line_of(v), key, std::to_string(x) + " is too small (must be >= " + std::to_string(min) + ")");
        return x;
    }

    std::string text(const YAML::Node& v, const std::string& key) const {
        if (!v.IsScalar()) throw config_error(m_file, cfg::line_of(v), key, "expected a single value, not a list or map");
        return v.Scalar();
    }

    void check_keys(const YAML::Node& map, const std::string& prefix, const std::vector<std::string>& valid,
                    const std::string& what) const {
        for (auto it = map.begin(); it != map.end(); ++it) {
            const std::string k = it->first.Scalar();
            if (std::find(valid.begin(), valid.end(), k) != valid.end()) continue;
            std::string msg = "unknown key '" + k + "' for " + what;
            const std::string near = cfg::nearest(k, valid);
            msg += near.empty() ? " (valid keys: " + join(valid) + ")" : " (did you mean '" + near + "'?)";
            throw config_error(m_file, cfg::line_of(it->first), cfg::yaml_reader::join(prefix, k), msg);
        }
    }

    static std::string join(const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
        return s;
    }

    std::string m_file;
};

// ---------------------------------------------------------------------------------------------------------
// NeuroSim CSV

constexpr std::array<const char*, 8> csv_columns = {"IFM_H", "IFM_W", "C_in", "K_h", "K_w", "C_out", "pool", "stride"};

struct csv_row {
    int h, w, c_in, k_h, k_w, c_out, pool, stride;
    int line;
};

std::string trim(const std::string& s) {
    const std::size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::vector<csv_row> parse_csv(const std::string& text, const std::string& file) {
    std::vector<csv_row> rows;
    std::istringstream in(text);
    std::string raw;
    for (int line = 1; std::getline(in, raw); ++line) {
        if (trim(raw).empty()) continue;
        std::vector<std::string> fields;
        std::stringstream ss(raw);
        for (std::string f; std::getline(ss, f, ',');) fields.push_back(trim(f));
        if (fields.size() == csv_columns.size() + 1 && fields.back().empty()) fields.pop_back();  // trailing comma
        if (fields.size() != csv_columns.size())
            throw config_error(file, line, "", "expected 8 fields IFM_H,IFM_W,C_in,K_h,K_w,C_out,pool,stride, got " +
                                                   std::to_string(fields.size()));
        std::array<int, 8> v{};
        for (std::size_t i = 0; i < v.size(); ++i) {
            try {
                v[i] = cfg::parse_scalar<int>(fields[i]);
            } catch (const std::invalid_argument& e) {
                throw config_error(file, line, csv_columns[i],
                                   std::string(e.what()) + " (column " + std::to_string(i + 1) +
                                       " of IFM_H,IFM_W,C_in,K_h,K_w,C_out,pool,stride)");
            }
            const bool is_pool = i == 6;
            if (is_pool ? (v[i] != 0 && v[i] != 1) : v[i] < 1)
                throw config_error(file, line, csv_columns[i],
                                   std::to_string(v[i]) + (is_pool ? " must be 0 or 1" : " must be >= 1"));
        }
        if (v[3] != v[4])
            throw config_error(file, line, "K_w", "non-square kernels are not supported (NeuroSim pads (K-1)/2 on both axes)");
        rows.push_back({v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], line});
    }
    if (rows.empty()) throw config_error(file, 0, "", "no layer rows");
    return rows;
}

/// Most recent layer (highest index) whose output satisfies `pred`, or -1.
template <class Pred>
int most_recent(const graph& g, Pred pred) {
    for (int i = static_cast<int>(g.layers.size()) - 1; i >= 0; --i)
        if (pred(g.layers[static_cast<std::size_t>(i)].out)) return i;
    return -1;
}

/// Builds a graph from CSV rows, inferring each new layer at once so later rows can match tensors by shape.
class csv_builder {
public:
    explicit csv_builder(graph& g) : m_g(g), m_namer({}) {}

    /// Append a layer reading `producer`; return its index.
    int add(layer l, const std::string& type, int producer) {
        l.name = m_namer.next(type, l.name);
        l.inputs = {m_g.layers[static_cast<std::size_t>(producer)].name};
        m_g.layers.push_back(std::move(l));
        const int id = static_cast<int>(m_g.layers.size()) - 1;
        m_g.infer_layer(id);
        return id;
    }

private:
    graph& m_g;
    auto_namer m_namer;
};

layer make(op kind, int line) {
    layer l;
    l.kind = kind;
    l.line = line;
    return l;
}

}  // namespace

graph load_yaml(const std::string& path) {
    return yaml_graph_reader(path).read(cfg::load_yaml_file(path, file_kind::network));
}

graph load_yaml_text(const std::string& text, const std::string& name) {
    return yaml_graph_reader(name).read(cfg::load_yaml_text(text, name));
}

graph load_neurosim_csv(const std::string& path) {
    return load_neurosim_csv_text(read_input_file(path, file_kind::network), path);
}

graph load_neurosim_csv_text(const std::string& text, const std::string& name) {
    const std::vector<csv_row> rows = parse_csv(text, name);

    graph g;
    g.name = file_stem(name);
    g.source = name;
    g.input = {rows.front().c_in, rows.front().h, rows.front().w};
    layer input_node = make(op::input, rows.front().line);
    input_node.name = "input";
    g.layers.push_back(input_node);
    g.infer_layer(0);

    csv_builder b(g);
    int convs = 0, fcs = 0;
    for (std::size_t r = 0; r < rows.size(); ++r) {
        const csv_row& row = rows[r];
        const shape want{row.c_in, row.h, row.w};
        const bool is_linear = row.h == 1 && row.w == 1 && row.k_h == 1 && row.k_w == 1;

        int producer = most_recent(g, [&](const shape& s) { return s == want; });
        if (producer < 0 && is_linear) {
            // NeuroSim lists a classifier by its flat input size only; recover the flatten (VGG) or the
            // global average pool + flatten (ResNet) that PyTorch would have in front of it.
            producer = most_recent(g, [&](const shape& s) { return s.size() == row.c_in; });
            if (producer < 0) {
                producer = most_recent(g, [&](const shape& s) { return s.c() == row.c_in; });
                if (producer >= 0) {
                    const shape s = g.layers[static_cast<std::size_t>(producer)].out;
                    layer gap = make(op::avg_pool, row.line);
                    gap.kernel_h = s.h();
                    gap.kernel_w = s.w();
                    gap.stride = s.h();
                    producer = b.add(gap, "avg_pool", producer);
                }
            }
            if (producer >= 0) producer = b.add(make(op::flatten, row.line), "flatten", producer);
        }
        if (producer < 0)
            throw config_error(name, row.line, "",
                               "no earlier layer produces the row's input shape (C_in,H,W) = (" + std::to_string(row.c_in) +
                                   "," + std::to_string(row.h) + "," + std::to_string(row.w) + ")");

        layer w = make(is_linear ? op::linear : op::conv2d, row.line);
        w.out_channels = row.c_out;
        if (is_linear) {
            w.name = "fc" + std::to_string(++fcs);
        } else {
            w.name = "conv" + std::to_string(++convs);
            w.kernel_h = row.k_h;
            w.kernel_w = row.k_w;
            w.stride = row.stride;
            w.padding = (row.k_h - 1) / 2;  // NeuroSim assumes "same" padding
        }
        int last = b.add(w, op_name(w.kind), producer);

        // The network's last layer emits logits, so it has no activation.
        if (r + 1 < rows.size()) last = b.add(make(op::relu, row.line), "relu", last);
        if (row.pool == 1) {
            layer p = make(op::max_pool, row.line);
            p.kernel_h = p.kernel_w = p.stride = 2;
            b.add(p, "max_pool", last);
        }
    }
    g.infer_shapes();  // already inferred row by row; this adds the whole-graph checks (unique names)
    return g;
}

graph load(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".yaml" || ext == ".yml") return load_yaml(path);
    if (ext == ".csv") return load_neurosim_csv(path);
    if (ext == ".onnx") return load_onnx(path);
    throw config_error(path, 0, "",
                       "unsupported network format '" + ext + "' (expected .yaml, .yml, .onnx or a NeuroSim .csv)");
}

}  // namespace cim::network
