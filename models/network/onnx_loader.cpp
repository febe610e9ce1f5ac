#include "models/network/onnx_loader.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "models/core/error.h"
#include "models/core/file_io.h"

namespace cim::network {

namespace {

using json = nlohmann::json;

const char* const k_supported =
    "Conv, BatchNormalization, Gemm, MatMul, Add, Relu, MaxPool, AveragePool, GlobalAveragePool, Flatten, "
    "Reshape, Identity, Dropout, Constant, Softmax, LayerNormalization (or its decomposed form), GELU (Erf or Tanh "
    "form), Transpose, Split, Slice, Concat, Gather, Squeeze, Unsqueeze, Expand, and shape arithmetic on constants "
    "(Shape, ConstantOfShape, Cast, Equal, Where, Add, Sub, Mul, Div)";

// Bounds on what the file may claim. A tensor's element count must also match the data actually present,
// so these only keep the arithmetic (products of int64 dims, int layer fields) far from overflow.
constexpr std::int64_t k_max_elements = std::int64_t{1} << 34;
constexpr std::int64_t k_max_extent = std::int64_t{1} << 24;  // any one dimension, kernel, stride or pad

std::string sanitise(const std::string& name) {
    std::string s = name;
    for (char& c : s)
        if (c == '/' || c == '.' || c == ':') c = '_';
    const std::size_t first = s.find_first_not_of('_');
    return first == std::string::npos ? std::string() : s.substr(first);
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

/// Bookkeeping of one IR layer that the IR itself does not hold, for fusion and for the metadata.
struct layer_meta {
    std::string node_name;    // ONNX node name ("" if unnamed): key of "adds" in the metadata
    std::string weight_name;  // weight initializer name: key of "layers" in the metadata
    std::string out_value;    // ONNX value this layer's output currently stands for (moves on when BN/Add fold)
};

/// The ONNX -> IR conversion of one file. Holds the path so every error names it.
class onnx_importer {
public:
    explicit onnx_importer(std::string path) : m_path(std::move(path)) {}

    graph run(const std::string& bytes) {
        parse_model(bytes);
        const onnx::GraphProto& gp = m_model.graph();
        m_g.source = m_path;
        m_g.name = graph_name(gp.name());
        m_g.provenance = provenance();

        for (const auto& t : gp.initializer()) {
            if (t.name().empty()) fail_at("graph.initializer", "an initializer has no name");
            m_tensors[t.name()] = &t;
        }
        // Consumer counts decide whether a BatchNormalization or a bias Add may be folded into its producer:
        // only when nothing else (another node or a graph output) reads the unfused value.
        for (const auto& n : gp.node())
            for (const auto& in : n.input())
                if (!in.empty()) ++m_consumers[in];
        for (const auto& o : gp.output()) ++m_consumers[o.name()];

        m_gp = &gp;
        for (const auto& o : m_model.opset_import())
            if (o.domain().empty() || o.domain() == "ai.onnx") m_opset = static_cast<int>(o.version());
        index_nodes(gp);
        add_input(gp);
        for (int i = 0; i < gp.node_size(); ++i) {
            const onnx::NodeProto& n = gp.node(i);
            m_key = node_key(n, i);
            if (m_skip.count(i) != 0) continue;  // inside a fused pattern, or folded into its producer
            const auto pat = m_patterns.find(i);
            if (pat != m_patterns.end()) {
                emit_pattern(n, i, pat->second);
                continue;
            }
            convert(n, i);
        }
        m_key.clear();
        if (m_g.layers.size() < 2) fail_at("graph", "the graph has no supported layers");
        m_g.infer_shapes();  // incremental inference ran per layer; this adds the whole-graph checks

        for (const auto& p : m_model.metadata_props())
            if (p.key() == "cimtlm.quant") import_quantisation(p.value());
        return std::move(m_g);
    }

private:
    // ------------------------------------------------------------------------------------------------------
    // errors

    [[noreturn]] void fail(const std::string& msg) const { throw config_error(m_path, 0, m_key, msg); }
    [[noreturn]] void fail_at(const std::string& key, const std::string& msg) const {
        throw config_error(m_path, 0, key, msg);
    }

    // ------------------------------------------------------------------------------------------------------
    // file

    void parse_model(const std::string& bytes) {
        if (bytes.empty()) fail_at("", "empty file: not an ONNX model");
        // protobuf's array parser takes an int size (read_input_file's model limit keeps files below it).
        if (bytes.size() > static_cast<std::size_t>(INT_MAX)) fail_at("", "file larger than 2 GiB");
        if (!m_model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
            fail_at("", "not a valid ONNX model: the protobuf data is corrupt or truncated");
        // Arbitrary bytes occasionally parse as some protobuf; every real ONNX file sets ir_version and a graph.
        if (m_model.ir_version() <= 0) fail_at("ir_version", "not an ONNX model (no ir_version); corrupt or truncated file?");
        if (!m_model.has_graph()) fail_at("graph", "the ONNX model has no graph");
    }

    std::string graph_name(const std::string& onnx_name) const {
        static const std::set<std::string> generic = {"main_graph", "torch_jit", "torch-jit-export"};
        if (onnx_name.empty() || generic.count(onnx_name) != 0)
            return std::filesystem::path(m_path).stem().string();
        return onnx_name;
    }

    std::string provenance() const {
        std::string p = "ONNX";
        if (!m_model.producer_name().empty()) p += " from " + m_model.producer_name();
        if (!m_model.producer_version().empty()) p += " " + m_model.producer_version();
        for (const auto& o : m_model.opset_import())
            if (o.domain().empty() || o.domain() == "ai.onnx") p += ", opset " + std::to_string(o.version());
        return p;
    }

    // ------------------------------------------------------------------------------------------------------
    // tensors

    const onnx::TensorProto* tensor(const std::string& name) const {
        const auto it = m_tensors.find(name);
        return it == m_tensors.end() ? nullptr : it->second;
    }

    /// Dims of t, each checked, and their product (bounded, so it never overflows).
    std::int64_t checked_count(const onnx::TensorProto& t) const {
        std::int64_t n = 1;
        for (const std::int64_t d : t.dims()) {
            if (d < 0 || d > k_max_elements) fail("tensor '" + t.name() + "' has an invalid dimension " + std::to_string(d));
            n *= d;
            if (n > k_max_elements) fail("tensor '" + t.name() + "' is too large");
        }
        if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL || t.external_data_size() > 0)
            fail("tensor '" + t.name() + "' uses external data, which is not supported (save the model with the weights inside)");
        if (t.has_segment()) fail("tensor '" + t.name() + "' is segmented, which is not supported");
        return n;
    }

    /// Little-endian element i of raw_data, whatever the host's byte order.
    template <class U>
    static U raw_le(const std::string& raw, std::size_t i) {
        U u = 0;
        for (std::size_t b = 0; b < sizeof(U); ++b)
            u |= static_cast<U>(static_cast<unsigned char>(raw[i * sizeof(U) + b])) << (8 * b);
        return u;
    }

    void check_count(const onnx::TensorProto& t, std::int64_t want, std::int64_t have) const {
        if (want != have)
            fail("tensor '" + t.name() + "' declares " + std::to_string(want) + " elements but holds " +
                 std::to_string(have) + " (corrupt or truncated?)");
    }

    /// Values of a FLOAT or DOUBLE tensor.
    std::vector<double> floats(const onnx::TensorProto& t) const {
        const std::int64_t n = checked_count(t);
        const auto un = static_cast<std::size_t>(n);
        std::vector<double> v;
        v.reserve(un);
        const bool raw = t.has_raw_data();
        if (t.data_type() == onnx::TensorProto_DataType_FLOAT) {
            if (raw) {
                check_count(t, n * 4, static_cast<std::int64_t>(t.raw_data().size()));
                for (std::size_t i = 0; i < un; ++i) {
                    const std::uint32_t u = raw_le<std::uint32_t>(t.raw_data(), i);
                    float f;
                    std::memcpy(&f, &u, sizeof f);
                    v.push_back(f);
                }
            } else {
                check_count(t, n, t.float_data_size());
                v.assign(t.float_data().begin(), t.float_data().end());
            }
        } else if (t.data_type() == onnx::TensorProto_DataType_DOUBLE) {
            if (raw) {
                check_count(t, n * 8, static_cast<std::int64_t>(t.raw_data().size()));
                for (std::size_t i = 0; i < un; ++i) {
                    const std::uint64_t u = raw_le<std::uint64_t>(t.raw_data(), i);
                    double d;
                    std::memcpy(&d, &u, sizeof d);
                    v.push_back(d);
                }
            } else {
                check_count(t, n, t.double_data_size());
                v.assign(t.double_data().begin(), t.double_data().end());
            }
        } else {
            fail("tensor '" + t.name() + "' has data type " + std::to_string(t.data_type()) +
                 "; only float32 and float64 weights are supported");
        }
        for (double x : v)
            if (!std::isfinite(x)) fail("tensor '" + t.name() + "' holds a non-finite value");
        return v;
    }

    /// Values of an INT64 or INT32 tensor (Reshape's shape).
    std::vector<std::int64_t> ints(const onnx::TensorProto& t) const {
        const std::int64_t n = checked_count(t);
        const auto un = static_cast<std::size_t>(n);
        std::vector<std::int64_t> v;
        const bool raw = t.has_raw_data();
        if (t.data_type() == onnx::TensorProto_DataType_INT64) {
            if (raw) {
                check_count(t, n * 8, static_cast<std::int64_t>(t.raw_data().size()));
                for (std::size_t i = 0; i < un; ++i)
                    v.push_back(static_cast<std::int64_t>(raw_le<std::uint64_t>(t.raw_data(), i)));
            } else {
                check_count(t, n, t.int64_data_size());
                v.assign(t.int64_data().begin(), t.int64_data().end());
            }
        } else if (t.data_type() == onnx::TensorProto_DataType_INT32) {
            if (raw) {
                check_count(t, n * 4, static_cast<std::int64_t>(t.raw_data().size()));
                for (std::size_t i = 0; i < un; ++i)
                    v.push_back(static_cast<std::int32_t>(raw_le<std::uint32_t>(t.raw_data(), i)));
            } else {
                check_count(t, n, t.int32_data_size());
                v.assign(t.int32_data().begin(), t.int32_data().end());
            }
        } else {
            fail("tensor '" + t.name() + "' must be int64, got data type " + std::to_string(t.data_type()));
        }
        return v;
    }

    /// The initializer or Constant named by input i of n; fails naming `what` when absent.
    const onnx::TensorProto& weight_input(const onnx::NodeProto& n, int i, const std::string& what) const {
        const std::string& name = input_name(n, i);
        if (name.empty()) fail(n.op_type() + " needs its " + what + " input");
        const onnx::TensorProto* t = tensor(name);
        if (!t) fail(what + " '" + name + "' must be an initializer or a Constant (computed weights are not supported)");
        return *t;
    }

    // ------------------------------------------------------------------------------------------------------
    // node inputs, outputs and attributes

    static const std::string& input_name(const onnx::NodeProto& n, int i) {
        static const std::string none;
        return i < n.input_size() ? n.input(i) : none;
    }

    /// The IR layer producing activation input i of n.
    int activation(const onnx::NodeProto& n, int i) const {
        const std::string& name = input_name(n, i);
        if (name.empty()) fail(n.op_type() + " is missing input " + std::to_string(i));
        const auto it = m_values.find(name);
        if (it != m_values.end()) return it->second;
        if (tensor(name)) fail("input '" + name + "' is a constant tensor where an activation is expected");
        fail("input '" + name + "' is not produced by an earlier node or the graph input");
    }

    /// Binds output 0 of n to IR layer `id`.
    void bind_output(const onnx::NodeProto& n, int id) {
        if (n.output_size() < 1 || n.output(0).empty()) fail(n.op_type() + " has no output");
        const std::string& out = n.output(0);
        if (m_values.count(out) != 0 || m_tensors.count(out) != 0) fail("value '" + out + "' is defined twice");
        m_values[out] = id;
        m_meta[static_cast<std::size_t>(id)].out_value = out;
    }

    /// A node's attributes by name; rejects any not in `allowed`, so an ignored attribute never changes meaning.
    class attributes {
    public:
        attributes(const onnx_importer& imp, const onnx::NodeProto& n, std::initializer_list<const char*> allowed)
            : m_imp(imp), m_op(n.op_type()) {
            for (const auto& a : n.attribute()) {
                if (std::none_of(allowed.begin(), allowed.end(), [&](const char* s) { return a.name() == s; }))
                    m_imp.fail("unsupported attribute '" + a.name() + "' of " + m_op);
                m_by_name[a.name()] = &a;
            }
        }

        std::int64_t i(const std::string& name, std::int64_t def) const {
            const onnx::AttributeProto* a = get(name, onnx::AttributeProto_AttributeType_INT);
            return a ? a->i() : def;
        }
        double f(const std::string& name, double def) const {
            const onnx::AttributeProto* a = get(name, onnx::AttributeProto_AttributeType_FLOAT);
            return a ? a->f() : def;
        }
        std::string s(const std::string& name, const std::string& def) const {
            const onnx::AttributeProto* a = get(name, onnx::AttributeProto_AttributeType_STRING);
            return a ? a->s() : def;
        }
        std::vector<std::int64_t> ints(const std::string& name, std::vector<std::int64_t> def) const {
            const onnx::AttributeProto* a = get(name, onnx::AttributeProto_AttributeType_INTS);
            return a ? std::vector<std::int64_t>(a->ints().begin(), a->ints().end()) : def;
        }
        const onnx::TensorProto* t(const std::string& name) const {
            const onnx::AttributeProto* a = get(name, onnx::AttributeProto_AttributeType_TENSOR);
            return a ? &a->t() : nullptr;
        }
        bool has(const std::string& name) const { return m_by_name.count(name) != 0; }

    private:
        const onnx::AttributeProto* get(const std::string& name, onnx::AttributeProto_AttributeType type) const {
            const auto it = m_by_name.find(name);
            if (it == m_by_name.end()) return nullptr;
            if (it->second->type() != type)
                m_imp.fail("attribute '" + name + "' of " + m_op + " has type " +
                           std::to_string(static_cast<int>(it->second->type())) + ", expected " +
                           std::to_string(static_cast<int>(type)));
            return it->second;
        }

        const onnx_importer& m_imp;
        std::string m_op;
        std::map<std::string, const onnx::AttributeProto*> m_by_name;
    };

    [[noreturn]] void unsupported_attr(const std::string& op_type, const std::string& what) const {
        fail("unsupported attribute " + what + " of " + op_type);
    }

    /// An int64 from the file as an int in [lo, k_max_extent].
    int extent(std::int64_t v, std::int64_t lo, const std::string& what) const {
        if (v < lo || v > k_max_extent) fail(what + " " + std::to_string(v) + " is out of range");
        return static_cast<int>(v);
    }

    /// Window parameters shared by Conv and the pools: equal strides, symmetric equal pads, dilations 1.
    struct window {
        int kh = 0, kw = 0, stride = 1, pad = 0;
    };

    window read_window(const onnx::NodeProto& n, const attributes& a, bool kernel_required) const {
        window w;
        const std::string& op = n.op_type();
        const auto ks = a.ints("kernel_shape", {});
        if (!ks.empty() || kernel_required) {
            if (ks.size() != 2) unsupported_attr(op, "kernel_shape (need 2 values, a 2-D window)");
            w.kh = extent(ks[0], 1, "kernel_shape");
            w.kw = extent(ks[1], 1, "kernel_shape");
        }
        const auto st = a.ints("strides", {1, 1});
        if (st.size() != 2 || st[0] != st[1]) unsupported_attr(op, "strides (need two equal values)");
        w.stride = extent(st[0], 1, "stride");
        const auto pd = a.ints("pads", {0, 0, 0, 0});
        if (pd.size() != 4 || std::any_of(pd.begin(), pd.end(), [&](std::int64_t p) { return p != pd[0]; }))
            unsupported_attr(op, "pads (need four equal values: symmetric padding)");
        w.pad = extent(pd[0], 0, "pad");
        const auto dl = a.ints("dilations", {1, 1});
        if (std::any_of(dl.begin(), dl.end(), [](std::int64_t d) { return d != 1; }))
            unsupported_attr(op, "dilations (only 1 is supported)");
        const std::string ap = a.s("auto_pad", "NOTSET");
        if (ap != "NOTSET" && !(ap == "VALID" && w.pad == 0))
            unsupported_attr(op, "auto_pad '" + ap + "' (only NOTSET, with explicit pads, is supported)");
        if (a.i("ceil_mode", 0) != 0) unsupported_attr(op, "ceil_mode 1 (only floor is supported)");
        return w;
    }

    // ------------------------------------------------------------------------------------------------------
    // IR construction

    std::string unique_name(const std::string& base) {
        std::string name = base;
        for (int k = 2; m_names.count(name) != 0; ++k) name = base + "_" + std::to_string(k);
        m_names.insert(name);
        return name;
    }

    static std::string base_name(const onnx::NodeProto& n, int index) {
        std::string base = sanitise(n.name());
        if (base.empty()) base = lower(n.op_type()) + std::to_string(index);
        return base;
    }

    std::string layer_name(const onnx::NodeProto& n, int index) { return unique_name(base_name(n, index)); }

    /// Appends l, reading the given producers, and infers its shape right away so later nodes can check theirs.
    int add_layer(layer l, const std::vector<int>& producers, const std::string& node_name) {
        for (int p : producers) l.inputs.push_back(m_g.layers[static_cast<std::size_t>(p)].name);
        m_g.layers.push_back(std::move(l));
        layer_meta m;
        m.node_name = node_name;
        m_meta.push_back(m);
        const int id = static_cast<int>(m_g.layers.size()) - 1;
        m_g.infer_layer(id);
        return id;
    }

    const layer& at(int id) const { return m_g.layers[static_cast<std::size_t>(id)]; }
    layer& at(int id) { return m_g.layers[static_cast<std::size_t>(id)]; }

    /// The producer `id`, flattened to (N,1,1) by an inserted IR flatten unless it already is.
    int flat(int id, const std::string& name, const std::string& node_name) {
        const shape s = at(id).out;
        if (s.h() == 1 && s.w() == 1) return id;
        layer f;
        f.kind = op::flatten;
        f.name = unique_name(name + "_flatten");
        return add_layer(f, {id}, node_name);
    }

    /// True when value `v` is the current output of layer `id` and nothing but one node reads it.
    bool sole_output(int id, const std::string& v) const {
        const auto it = m_consumers.find(v);
        return m_meta[static_cast<std::size_t>(id)].out_value == v && it != m_consumers.end() && it->second == 1;
    }

    void add_input(const onnx::GraphProto& gp) {
        const onnx::ValueInfoProto* in = nullptr;
        for (const auto& v : gp.input())
            if (m_tensors.count(v.name()) == 0) {
                in = &v;
                break;
            }
        if (!in) fail_at("graph.input", "the graph has no input that is not an initializer");
        const std::string key = "graph.input." + in->name();
        if (!in->type().has_tensor_type() || !in->type().tensor_type().has_shape())
            fail_at(key, "the graph input has no tensor shape");
        const auto& dims = in->type().tensor_type().shape().dim();
        auto dim = [&](int i) {
            const auto& d = dims.Get(i);
            if (!d.has_dim_value() || d.dim_value() < 1 || d.dim_value() > k_max_extent)
                fail_at(key, "dimension " + std::to_string(i) + " of the input must be a fixed size >= 1");
            return static_cast<int>(d.dim_value());
        };
        if (dims.size() == 4) {
            m_g.input = {dim(1), dim(2), dim(3)};
        } else if (dims.size() == 3) {
            m_g.input = shape(std::vector<int>{dim(1), dim(2)});  // (N, T, D): tokens
        } else if (dims.size() == 2) {
            m_g.input = {dim(1), 1, 1};  // (N, F): an MLP's flat input
            m_info[in->name()] = act_info{0, true};
        } else {
            fail_at(key, "the graph input must be [N,C,H,W], [N,T,D] or [N,F], got rank " + std::to_string(dims.size()));
        }
        layer l;
        l.name = "input";
        l.kind = op::input;
        m_names.insert(l.name);
        m_g.layers.push_back(l);
        m_meta.push_back({});
        m_g.infer_layer(0);
        m_values[in->name()] = 0;
        m_meta[0].out_value = in->name();
    }

    // ------------------------------------------------------------------------------------------------------
    // constant tensors (shape arithmetic folded at import)

    /// A small constant tensor as the folding sees it: values as doubles (int64 shape values and float32 data are
    /// exact in a double), and whether it is a floating-point tensor (results are rounded to float32 then).
    struct ctensor {
        std::vector<std::int64_t> dims;
        std::vector<double> v;
        bool is_float = false;
    };

    ctensor ctensor_of(const onnx::TensorProto& t) const {
        ctensor c;
        c.dims.assign(t.dims().begin(), t.dims().end());
        const int dt = t.data_type();
        if (dt == onnx::TensorProto_DataType_FLOAT || dt == onnx::TensorProto_DataType_DOUBLE) {
            c.v = floats(t);
            c.is_float = true;
        } else if (dt == onnx::TensorProto_DataType_INT64 || dt == onnx::TensorProto_DataType_INT32) {
            for (std::int64_t x : ints(t)) c.v.push_back(static_cast<double>(x));
        } else if (dt == onnx::TensorProto_DataType_BOOL || dt == onnx::TensorProto_DataType_UINT8 ||
                   dt == onnx::TensorProto_DataType_INT8) {
            const std::int64_t n = checked_count(t);
            if (t.has_raw_data()) {
                check_count(t, n, static_cast<std::int64_t>(t.raw_data().size()));
                for (char ch : t.raw_data())
                    c.v.push_back(dt == onnx::TensorProto_DataType_INT8 ? static_cast<double>(static_cast<signed char>(ch))
                                                                         : static_cast<double>(static_cast<unsigned char>(ch)));
            } else {
                check_count(t, n, t.int32_data_size());
                for (std::int32_t x : t.int32_data()) c.v.push_back(x);
            }
        } else {
            fail("constant '" + t.name() + "' has data type " + std::to_string(dt) + ", which shape arithmetic does not support");
        }
        return c;
    }

    static std::int64_t count_of(const std::vector<std::int64_t>& d) {
        std::int64_t n = 1;
        for (auto x : d) n *= x;
        return n;
    }

    /// Stores a folded tensor under `name`, so later nodes read it like an initializer.
    void store(const std::string& name, const ctensor& c) {
        if (name.empty()) return;
        if (m_values.count(name) != 0 || m_tensors.count(name) != 0) fail("value '" + name + "' is defined twice");
        if (count_of(c.dims) != static_cast<std::int64_t>(c.v.size())) fail("internal: folded tensor size mismatch");
        m_folded.emplace_back();
        onnx::TensorProto& t = m_folded.back();
        t.set_name(name);
        for (auto d : c.dims) t.add_dims(d);
        if (c.is_float) {
            t.set_data_type(onnx::TensorProto_DataType_FLOAT);
            for (double x : c.v) t.add_float_data(static_cast<float>(x));
        } else {
            t.set_data_type(onnx::TensorProto_DataType_INT64);
            for (double x : c.v) t.add_int64_data(static_cast<std::int64_t>(x));
        }
        m_tensors[name] = &t;
    }

    /// Numpy broadcasting of several shapes; fails on a mismatch.
    std::vector<std::int64_t> broadcast(const std::vector<std::vector<std::int64_t>>& shapes) const {
        std::size_t r = 0;
        for (const auto& s : shapes) r = std::max(r, s.size());
        std::vector<std::int64_t> out(r, 1);
        for (const auto& s : shapes)
            for (std::size_t k = 0; k < s.size(); ++k) {
                std::int64_t& o = out[r - s.size() + k];
                const std::int64_t d = s[k];
                if (d == o || d == 1) continue;
                if (o == 1) {
                    o = d;
                    continue;
                }
                fail("shapes do not broadcast (" + std::to_string(o) + " against " + std::to_string(d) + ")");
            }
        if (count_of(out) > k_max_extent) fail("a folded constant is too large");
        return out;
    }

    /// Index into a tensor of dims `in` for output element i of dims `out` (broadcast: size-1 dims repeat).
    static std::size_t bcast_index(std::int64_t i, const std::vector<std::int64_t>& out, const std::vector<std::int64_t>& in) {
        std::int64_t src = 0, stride = 1;
        for (std::size_t k = out.size(); k-- > 0;) {
            const std::int64_t coord = i % out[k];
            i /= out[k];
            const std::size_t ik = k + in.size();
            if (ik >= out.size()) {
                const std::int64_t d = in[ik - out.size()];
                if (d != 1) src += coord * stride;
                stride *= d;
            }
        }
        return static_cast<std::size_t>(src);
    }

    /// Axes from an attribute (older opsets) or from input i (opset 13+); empty when neither is given.
    std::vector<std::int64_t> axes_of(const onnx::NodeProto& n, const attributes& a, int i) const {
        if (a.has("axes")) return a.ints("axes", {});
        const std::string& name = input_name(n, i);
        if (name.empty()) return {};
        const onnx::TensorProto* t = tensor(name);
        if (!t) fail("axes '" + name + "' must be a constant");
        return ints(*t);
    }

    int norm_axis(std::int64_t a, std::size_t rank) const {
        const auto r = static_cast<std::int64_t>(rank);
        if (a < -r || a >= r) fail("axis " + std::to_string(a) + " is outside a rank-" + std::to_string(rank) + " tensor");
        return static_cast<int>(a < 0 ? a + r : a);
    }

    /// Output dims of a Reshape of `in` to `target` (0 copies the input dim unless allowzero, one -1 is inferred).
    std::vector<std::int64_t> reshape_dims(const std::vector<std::int64_t>& in, std::vector<std::int64_t> target,
                                           bool allowzero) const {
        std::int64_t known = 1;
        int infer = -1;
        for (std::size_t k = 0; k < target.size(); ++k) {
            if (target[k] == 0 && !allowzero) {
                if (k >= in.size()) fail("Reshape copies dim " + std::to_string(k) + " the input does not have");
                target[k] = in[k];
            }
            if (target[k] == -1) {
                if (infer >= 0) fail("Reshape target has more than one -1");
                infer = static_cast<int>(k);
            } else if (target[k] < 0) {
                fail("Reshape target has a negative dim " + std::to_string(target[k]));
            } else {
                known *= target[k];
            }
        }
        const std::int64_t total = count_of(in);
        if (infer >= 0) {
            if (known == 0 || total % known != 0) fail("Reshape target does not divide the input size");
            target[static_cast<std::size_t>(infer)] = total / known;
        }
        if (count_of(target) != total)
            fail("Reshape to " + dims_text(target) + " changes the size of " + dims_text(in));
        return target;
    }

    static std::string dims_text(const std::vector<std::int64_t>& d) {
        std::string s = "(";
        for (std::size_t k = 0; k < d.size() && k < 8; ++k) s += (k ? "," : "") + std::to_string(d[k]);
        return s + (d.size() > 8 ? ",...)" : ")");
    }

    /// Evaluates n when all its inputs are constants (or, for Shape, when the shape of its input is known).
    /// Returns false when n is not shape arithmetic or reads an activation.
    bool fold(const onnx::NodeProto& n) {
        static const std::set<std::string> foldable = {"Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "ConstantOfShape",
                                                       "Mul", "Add", "Sub", "Div", "Equal", "Where", "Cast", "Slice",
                                                       "Reshape", "Expand", "Sqrt", "Neg", "Identity", "Range"};
        const std::string& op = n.op_type();
        if (foldable.count(op) == 0 || n.output_size() < 1) return false;
        if (op == "Shape") {
            const std::string& in = input_name(n, 0);
            if (!tensor(in) && m_values.count(in) == 0) return false;
            const attributes a(*this, n, {"start", "end"});
            const std::vector<std::int64_t> d = tensor(in) ? ctensor_of(*tensor(in)).dims : onnx_dims(in);
            const auto r = static_cast<std::int64_t>(d.size());
            auto clampi = [&](std::int64_t x) { return std::clamp<std::int64_t>(x < 0 ? x + r : x, 0, r); };
            const std::int64_t b = clampi(a.i("start", 0)), e = clampi(a.i("end", r));
            ctensor c;
            for (std::int64_t k = b; k < e; ++k) c.v.push_back(static_cast<double>(d[static_cast<std::size_t>(k)]));
            c.dims = {static_cast<std::int64_t>(c.v.size())};
            store(n.output(0), c);
            return true;
        }
        std::vector<ctensor> in;
        for (int i = 0; i < n.input_size(); ++i) {
            if (n.input(i).empty()) {
                in.emplace_back();
                continue;
            }
            const onnx::TensorProto* t = tensor(n.input(i));
            if (!t) return false;
            in.push_back(ctensor_of(*t));
        }
        if (in.empty()) return false;
        auto need = [&](std::size_t k) -> const ctensor& {
            if (in.size() <= k) fail(op + " needs input " + std::to_string(k));
            return in[k];
        };
        auto round_float = [](ctensor& c) {
            if (c.is_float)
                for (double& x : c.v) x = static_cast<float>(x);
        };
        ctensor out;
        if (op == "Identity") {
            const attributes a(*this, n, {});
            out = need(0);
        } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Equal") {
            const attributes a(*this, n, {});
            const ctensor& x = need(0);
            const ctensor& y = need(1);
            out.dims = broadcast({x.dims, y.dims});
            out.is_float = op != "Equal" && (x.is_float || y.is_float);
            const std::int64_t cnt = count_of(out.dims);
            for (std::int64_t i = 0; i < cnt; ++i) {
                const double p = x.v[bcast_index(i, out.dims, x.dims)], q = y.v[bcast_index(i, out.dims, y.dims)];
                double r = 0;
                if (op == "Add") r = p + q;
                if (op == "Sub") r = p - q;
                if (op == "Mul") r = p * q;
                if (op == "Equal") r = p == q ? 1.0 : 0.0;
                if (op == "Div") {
                    if (!out.is_float && q == 0) fail("integer division by zero");
                    r = out.is_float ? p / q : std::trunc(p / q);
                }
                out.v.push_back(r);
            }
            round_float(out);
        } else if (op == "Sqrt" || op == "Neg") {
            const attributes a(*this, n, {});
            out = need(0);
            for (double& x : out.v) x = op == "Sqrt" ? std::sqrt(x) : -x;
            round_float(out);
        } else if (op == "Where") {
            const attributes a(*this, n, {});
            const ctensor &c = need(0), &x = need(1), &y = need(2);
            out.dims = broadcast({c.dims, x.dims, y.dims});
            out.is_float = x.is_float || y.is_float;
            for (std::int64_t i = 0; i < count_of(out.dims); ++i)
                out.v.push_back(c.v[bcast_index(i, out.dims, c.dims)] != 0 ? x.v[bcast_index(i, out.dims, x.dims)]
                                                                          : y.v[bcast_index(i, out.dims, y.dims)]);
        } else if (op == "Expand") {
            const attributes a(*this, n, {});
            const ctensor& x = need(0);
            std::vector<std::int64_t> shp;
            for (double d : need(1).v) shp.push_back(static_cast<std::int64_t>(d));
            out.dims = broadcast({x.dims, shp});
            out.is_float = x.is_float;
            for (std::int64_t i = 0; i < count_of(out.dims); ++i) out.v.push_back(x.v[bcast_index(i, out.dims, x.dims)]);
        } else if (op == "Cast") {
            const attributes a(*this, n, {"to", "saturate"});
            out = need(0);
            const auto to = a.i("to", 0);
            out.is_float = to == onnx::TensorProto_DataType_FLOAT || to == onnx::TensorProto_DataType_DOUBLE ||
                           to == onnx::TensorProto_DataType_FLOAT16;
            if (to == onnx::TensorProto_DataType_BOOL)
                for (double& x : out.v) x = x != 0 ? 1.0 : 0.0;
            else if (!out.is_float)
                for (double& x : out.v) x = std::trunc(x);
            round_float(out);
        } else if (op == "ConstantOfShape") {
            const attributes a(*this, n, {"value"});
            const onnx::TensorProto* t = a.t("value");
            double fill = 0;
            out.is_float = true;
            if (t) {
                const ctensor f = ctensor_of(*t);
                if (f.v.size() != 1) fail("ConstantOfShape value must have one element");
                fill = f.v[0];
                out.is_float = f.is_float;
            }
            for (double d : need(0).v) {
                if (d < 0 || d > k_max_extent) fail("ConstantOfShape dim " + std::to_string(d) + " out of range");
                out.dims.push_back(static_cast<std::int64_t>(d));
            }
            if (count_of(out.dims) > k_max_extent) fail("a folded constant is too large");
            out.v.assign(static_cast<std::size_t>(count_of(out.dims)), fill);
        } else if (op == "Gather") {
            const attributes a(*this, n, {"axis"});
            const ctensor &x = need(0), &idx = need(1);
            if (x.dims.empty()) fail("Gather of a scalar");
            const int ax = norm_axis(a.i("axis", 0), x.dims.size());
            const std::int64_t dim = x.dims[static_cast<std::size_t>(ax)];
            std::int64_t outer = 1, inner = 1;
            for (int k = 0; k < ax; ++k) outer *= x.dims[static_cast<std::size_t>(k)];
            for (std::size_t k = static_cast<std::size_t>(ax) + 1; k < x.dims.size(); ++k) inner *= x.dims[k];
            out.dims.assign(x.dims.begin(), x.dims.begin() + ax);
            out.dims.insert(out.dims.end(), idx.dims.begin(), idx.dims.end());
            out.dims.insert(out.dims.end(), x.dims.begin() + ax + 1, x.dims.end());
            out.is_float = x.is_float;
            for (std::int64_t o = 0; o < outer; ++o)
                for (double jd : idx.v) {
                    auto j = static_cast<std::int64_t>(jd);
                    if (j < 0) j += dim;
                    if (j < 0 || j >= dim) fail("Gather index " + std::to_string(jd) + " out of range");
                    for (std::int64_t e = 0; e < inner; ++e) out.v.push_back(x.v[static_cast<std::size_t>((o * dim + j) * inner + e)]);
                }
        } else if (op == "Unsqueeze" || op == "Squeeze") {
            const attributes a(*this, n, {"axes"});
            out = need(0);
            const auto axes = axes_of(n, a, 1);
            out.dims = op == "Unsqueeze" ? unsqueeze_dims(out.dims, axes) : squeeze_dims(out.dims, axes);
        } else if (op == "Concat") {
            const attributes a(*this, n, {"axis"});
            if (!a.has("axis")) fail("Concat needs an axis");
            std::vector<const ctensor*> parts;
            for (const auto& c : in)
                if (!c.dims.empty() || !c.v.empty()) parts.push_back(&c);
            if (parts.empty()) fail("Concat of nothing");
            const int ax = norm_axis(a.i("axis", 0), parts[0]->dims.size());
            out.dims = parts[0]->dims;
            out.dims[static_cast<std::size_t>(ax)] = 0;
            for (const ctensor* c : parts) {
                if (c->dims.size() != out.dims.size()) fail("Concat inputs differ in rank");
                out.dims[static_cast<std::size_t>(ax)] += c->dims[static_cast<std::size_t>(ax)];
                out.is_float = out.is_float || c->is_float;
            }
            std::int64_t outer = 1;
            for (int k = 0; k < ax; ++k) outer *= out.dims[static_cast<std::size_t>(k)];
            for (std::int64_t o = 0; o < outer; ++o)
                for (const ctensor* c : parts) {
                    const std::int64_t slab = static_cast<std::int64_t>(c->v.size()) / std::max<std::int64_t>(outer, 1);
                    for (std::int64_t e = 0; e < slab; ++e) out.v.push_back(c->v[static_cast<std::size_t>(o * slab + e)]);
                }
        } else if (op == "Reshape") {
            const attributes a(*this, n, {"allowzero"});
            out = need(0);
            std::vector<std::int64_t> target;
            for (double d : need(1).v) target.push_back(static_cast<std::int64_t>(d));
            out.dims = reshape_dims(out.dims, target, a.i("allowzero", 0) != 0);
        } else if (op == "Slice") {
            const attributes a(*this, n, {"starts", "ends", "axes"});
            const ctensor& x = need(0);
            const auto sl = slice_spec(n, a, x.dims);
            out.is_float = x.is_float;
            out.dims = x.dims;
            for (const auto& s : sl) out.dims[static_cast<std::size_t>(s.axis)] = s.end - s.begin;
            for (std::int64_t i = 0; i < count_of(out.dims); ++i) {
                std::int64_t rem = i, src = 0, stride = 1;
                std::vector<std::int64_t> coord(out.dims.size());
                for (std::size_t k = out.dims.size(); k-- > 0;) {
                    coord[k] = rem % out.dims[k];
                    rem /= out.dims[k];
                }
                for (const auto& s : sl) coord[static_cast<std::size_t>(s.axis)] += s.begin;
                for (std::size_t k = x.dims.size(); k-- > 0;) {
                    src += coord[k] * stride;
                    stride *= x.dims[k];
                }
                out.v.push_back(x.v[static_cast<std::size_t>(src)]);
            }
        } else if (op == "Range") {
            const attributes a(*this, n, {});
            if (need(0).v.size() != 1 || need(1).v.size() != 1 || need(2).v.size() != 1) fail("Range needs scalars");
            const double start = need(0).v[0], limit = need(1).v[0], delta = need(2).v[0];
            if (delta == 0) fail("Range with delta 0");
            const double cnt = std::max(0.0, std::ceil((limit - start) / delta));
            if (cnt > k_max_extent) fail("Range too long");
            for (std::int64_t k = 0; k < static_cast<std::int64_t>(cnt); ++k) out.v.push_back(start + static_cast<double>(k) * delta);
            out.dims = {static_cast<std::int64_t>(out.v.size())};
            out.is_float = need(0).is_float;
        }
        store(n.output(0), out);
        return true;
    }

    std::vector<std::int64_t> unsqueeze_dims(std::vector<std::int64_t> d, const std::vector<std::int64_t>& axes) const {
        if (axes.empty()) fail("Unsqueeze needs axes");
        const std::size_t r = d.size() + axes.size();
        std::vector<int> pos;
        for (auto a : axes) pos.push_back(norm_axis(a, r));
        std::sort(pos.begin(), pos.end());
        for (int p : pos) d.insert(d.begin() + p, 1);
        return d;
    }

    std::vector<std::int64_t> squeeze_dims(const std::vector<std::int64_t>& d, const std::vector<std::int64_t>& axes) const {
        std::set<int> drop;
        for (auto a : axes) drop.insert(norm_axis(a, d.size()));
        std::vector<std::int64_t> out;
        for (std::size_t k = 0; k < d.size(); ++k) {
            const bool listed = drop.count(static_cast<int>(k)) != 0;
            if (listed && d[k] != 1) fail("Squeeze of axis " + std::to_string(k) + " whose size is " + std::to_string(d[k]));
            if (listed || (axes.empty() && d[k] == 1)) continue;
            out.push_back(d[k]);
        }
        return out;
    }

    struct slice_axis {
        int axis = 0;
        std::int64_t begin = 0, end = 0;
    };

    /// The ranges of a Slice (steps 1 only), clamped as ONNX does.
    std::vector<slice_axis> slice_spec(const onnx::NodeProto& n, const attributes& a,
                                       const std::vector<std::int64_t>& dims) const {
        auto vec = [&](int i, const char* attr) -> std::vector<std::int64_t> {
            if (a.has(attr)) return a.ints(attr, {});
            const std::string& name = input_name(n, i);
            if (name.empty()) return {};
            const onnx::TensorProto* t = tensor(name);
            if (!t) fail(std::string("Slice ") + attr + " must be constant");
            return ints(*t);
        };
        const auto starts = vec(1, "starts"), ends = vec(2, "ends");
        auto axes = vec(3, "axes");
        const auto steps = vec(4, "steps");
        if (starts.size() != ends.size()) fail("Slice starts and ends differ in length");
        if (axes.empty())
            for (std::size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<std::int64_t>(k));
        if (axes.size() != starts.size()) fail("Slice axes and starts differ in length");
        for (auto st : steps)
            if (st != 1) fail("Slice with step " + std::to_string(st) + " is not supported (only 1)");
        std::vector<slice_axis> out;
        for (std::size_t k = 0; k < starts.size(); ++k) {
            slice_axis s;
            s.axis = norm_axis(axes[k], dims.size());
            const std::int64_t d = dims[static_cast<std::size_t>(s.axis)];
            auto clampi = [&](std::int64_t x) { return std::clamp<std::int64_t>(x < 0 ? x + d : x, 0, d); };
            s.begin = clampi(starts[k]);
            s.end = std::max(s.begin, clampi(ends[k]));
            out.push_back(s);
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------------
    // activations: the batch axis and the flat form

    /// How an activation value's ONNX tensor relates to its IR tensor. The IR has no batch axis: the ONNX dims
    /// are the IR dims with the batch (size 1) inserted at `batch`, except for a flat value, an ONNX (N, F)
    /// held as the IR's (F, 1, 1).
    struct act_info {
        int batch = 0;
        bool flat = false;
    };

    act_info info(const std::string& v) const {
        const auto it = m_info.find(v);
        return it == m_info.end() ? act_info{} : it->second;
    }

    /// The ONNX dims of activation v with the batch as 1.
    std::vector<std::int64_t> onnx_dims(const std::string& v) const {
        const auto it = m_values.find(v);
        if (it == m_values.end()) fail("input '" + v + "' is not produced by an earlier node or the graph input");
        const act_info ai = info(v);
        const shape& s = at(it->second).out;
        if (ai.flat) return {1, s.size()};
        std::vector<std::int64_t> d(s.dims.begin(), s.dims.end());
        d.insert(d.begin() + ai.batch, 1);
        return d;
    }

    /// IR dims of an ONNX dims vector of a value laid out as `ai` (the batch dim must be 1 and is dropped).
    std::vector<int> ir_dims(const std::vector<std::int64_t>& d, const act_info& ai, const std::string& what) const {
        if (ai.batch >= static_cast<int>(d.size()) || d[static_cast<std::size_t>(ai.batch)] != 1)
            fail(what + " " + dims_text(d) + " would change the batch axis, which is not supported");
        std::vector<int> r;
        for (std::size_t k = 0; k < d.size(); ++k)
            if (static_cast<int>(k) != ai.batch) r.push_back(extent(d[k], 1, what + " dim"));
        return r;
    }

    /// An axis of the ONNX tensor of v as an IR axis; the batch axis is refused.
    int ir_axis(const std::string& v, std::int64_t axis, const std::string& op_type) const {
        const auto d = onnx_dims(v);
        const int a = norm_axis(axis, d.size());
        const act_info ai = info(v);
        if (ai.flat) {
            if (a != 1) fail(op_type + " along the batch axis is not supported");
            return 0;
        }
        if (a == ai.batch) fail(op_type + " along the batch axis is not supported");
        return a > ai.batch ? a - 1 : a;
    }

    /// Binds output 0 of n to layer id with the given layout.
    void bind(const onnx::NodeProto& n, int id, act_info ai) {
        bind_output(n, id);
        m_info[n.output(0)] = ai;
    }

    /// Binds output `out` to an existing layer without a new one (an op that moves no data in the IR).
    void alias(const std::string& out, int id, act_info ai) {
        if (out.empty()) fail("node has no output");
        if (m_values.count(out) != 0 || m_tensors.count(out) != 0) fail("value '" + out + "' is defined twice");
        m_values[out] = id;
        m_info[out] = ai;
    }

    /// The IR tensor of layer x reshaped to ONNX dims `d` (batch at `batch`): a flatten when that is an ONNX
    /// (N, F), nothing when the IR dims do not change, else an IR reshape. Binds output `out` of n.
    void reshape_to(const onnx::NodeProto& n, int index, int x, const std::vector<std::int64_t>& d, int batch,
                    const std::string& out, const std::string& suffix = "") {
        act_info ai;
        ai.batch = batch;
        if (d.size() == 2 && batch == 0) {
            ai.flat = true;
            const shape& s = at(x).out;
            if (s.rank() == 3 && s.h() == 1 && s.w() == 1) return alias(out, x, ai);
            layer l;
            l.kind = op::flatten;
            l.name = suffix.empty() ? layer_name(n, index) : unique_name(base_name(n, index) + suffix);
            const int id = add_layer(std::move(l), {x}, n.name());
            return alias_new(out, id, ai);
        }
        const std::vector<int> dims = ir_dims(d, ai, n.op_type() + " result");
        if (dims.empty()) fail(n.op_type() + " to a scalar per image is not supported");
        if (dims == at(x).out.dims) return alias(out, x, ai);
        layer l;
        l.kind = op::reshape;
        l.name = suffix.empty() ? layer_name(n, index) : unique_name(base_name(n, index) + suffix);
        l.new_dims = dims;
        const int id = add_layer(std::move(l), {x}, n.name());
        alias_new(out, id, ai);
    }

    void alias_new(const std::string& out, int id, act_info ai) {
        alias(out, id, ai);
        m_meta[static_cast<std::size_t>(id)].out_value = out;
    }

    // ------------------------------------------------------------------------------------------------------
    // pattern matching (before conversion): decomposed LayerNorm, GELU

    /// A fused sub-graph (decomposed LayerNorm, GELU), keyed by the index of its last node.
    struct pattern {
        op kind = op::gelu;
        std::string x;  // its activation input
        std::vector<double> gamma, beta;
        double eps = 0;
        bool tanh_form = false;
        std::vector<int> reduce;  // the LayerNorm's ReduceMean nodes (their axes are checked at emission)
    };


    static std::string node_key(const onnx::NodeProto& n, int i) {
        return "nodes." + (n.name().empty() ? n.op_type() + "#" + std::to_string(i) : n.name());
    }

    void index_nodes(const onnx::GraphProto& gp) {
        for (int i = 0; i < gp.node_size(); ++i) {
            const onnx::NodeProto& n = gp.node(i);
            m_node_index[&n] = i;
            for (const auto& in : n.input())
                if (!in.empty()) m_readers[in].push_back(i);
            for (const auto& o : n.output())
                if (!o.empty()) m_producer[o] = i;
            if (n.op_type() == "Constant" && n.output_size() > 0)
                for (const auto& a : n.attribute())
                    if (a.name() == "value" && a.type() == onnx::AttributeProto_AttributeType_TENSOR) m_static[n.output(0)] = &a.t();
        }
        for (const auto& o : gp.output()) m_readers[o.name()].push_back(-1);
        for (int i = 0; i < gp.node_size(); ++i) {
            const std::string& t = gp.node(i).op_type();
            m_key = node_key(gp.node(i), i);
            if (t == "Add") match_layernorm(i);
            if (t == "Mul") match_gelu(i);
        }
        m_key.clear();
    }

    /// A constant known before conversion: an initializer or a Constant node's value.
    const onnx::TensorProto* static_tensor(const std::string& v) const {
        if (const onnx::TensorProto* t = tensor(v)) return t;
        const auto it = m_static.find(v);
        return it == m_static.end() ? nullptr : it->second;
    }

    /// The value of a one-element float or int constant; NaN if v is not one.
    double scalar(const std::string& v) const {
        const onnx::TensorProto* t = static_tensor(v);
        if (!t) return std::nan("");
        std::int64_t n = 1;
        for (auto d : t->dims()) n *= d;
        if (n != 1) return std::nan("");
        const int dt = t->data_type();
        if (dt == onnx::TensorProto_DataType_FLOAT || dt == onnx::TensorProto_DataType_DOUBLE) return floats(*t)[0];
        if (dt == onnx::TensorProto_DataType_INT64 || dt == onnx::TensorProto_DataType_INT32)
            return static_cast<double>(ints(*t)[0]);
        return std::nan("");
    }

    const onnx::NodeProto* producer(const std::string& v, const char* op_type = nullptr) const {
        const auto it = m_producer.find(v);
        if (it == m_producer.end()) return nullptr;
        const onnx::NodeProto& n = m_gp->node(it->second);
        if (op_type != nullptr && n.op_type() != op_type) return nullptr;
        return &n;
    }

    int index_of(const onnx::NodeProto* n) const { return m_node_index.at(n); }  // nodes are not contiguous

    const std::vector<int>& readers(const std::string& v) const {
        static const std::vector<int> none;
        const auto it = m_readers.find(v);
        return it == m_readers.end() ? none : it->second;
    }

    /// Whether every output of the nodes in `inner` is read only by nodes of inner or by `end`.
    bool closed(const std::set<int>& inner, int end) const {
        for (int i : inner)
            for (const auto& o : m_gp->node(i).output())
                for (int r : readers(o))
                    if (r != end && inner.count(r) == 0) return false;
        return true;
    }

    /// The (constant, other) inputs of a two-input node with exactly one constant input.
    std::pair<std::string, std::string> split_const(const onnx::NodeProto* n) const {
        if (n == nullptr || n->input_size() != 2) return {};
        const bool c0 = static_tensor(n->input(0)) != nullptr, c1 = static_tensor(n->input(1)) != nullptr;
        if (c0 == c1) return {};
        return c0 ? std::make_pair(n->input(0), n->input(1)) : std::make_pair(n->input(1), n->input(0));
    }

    /// Add(Mul(Div(Sub(x, ReduceMean(x)), Sqrt(Add(ReduceMean(Pow(Sub, 2)), eps))), gamma), beta): LayerNorm.
    void match_layernorm(int end) {
        const onnx::NodeProto* e = &m_gp->node(end);
        const auto [beta, mv] = split_const(e);
        const onnx::NodeProto* mul = mv.empty() ? nullptr : producer(mv, "Mul");
        const auto [gamma, dv] = split_const(mul);
        const onnx::NodeProto* div = dv.empty() ? nullptr : producer(dv, "Div");
        if (div == nullptr || div->input_size() != 2) return;
        const onnx::NodeProto* sub = producer(div->input(0), "Sub");
        const onnx::NodeProto* sq = producer(div->input(1), "Sqrt");
        if (sub == nullptr || sq == nullptr || sub->input_size() != 2) return;
        const std::string x = sub->input(0);
        const onnx::NodeProto* rm = producer(sub->input(1), "ReduceMean");
        if (rm == nullptr || rm->input_size() < 1 || rm->input(0) != x) return;
        const auto [eps, vv] = split_const(producer(sq->input(0), "Add"));
        const onnx::NodeProto* add_eps = producer(sq->input(0), "Add");
        const onnx::NodeProto* rm2 = vv.empty() ? nullptr : producer(vv, "ReduceMean");
        const onnx::NodeProto* pw = rm2 == nullptr || rm2->input_size() < 1 ? nullptr : producer(rm2->input(0), "Pow");
        if (pw == nullptr || pw->input_size() != 2 || pw->input(0) != sub->output(0) || scalar(pw->input(1)) != 2.0) return;
        const double eps_v = scalar(eps);
        if (!(eps_v >= 0)) return;
        pattern p;
        p.kind = op::layernorm;
        p.x = x;
        p.gamma = floats(*static_tensor(gamma));
        p.beta = floats(*static_tensor(beta));
        p.eps = eps_v;
        p.reduce = {index_of(rm), index_of(rm2)};
        std::set<int> inner;
        for (const onnx::NodeProto* k : {rm, sub, pw, rm2, add_eps, sq, div, mul}) inner.insert(index_of(k));
        if (!closed(inner, end)) return;
        m_patterns[end] = p;
        m_skip.insert(inner.begin(), inner.end());
    }

    /// Value of the sub-graph computing v from x and scalar constants (Mul, Add, Sub, Div, Pow) at x = xv; NaN if
    /// it needs anything else. Its nodes are added to `nodes`.
    double eval_chain(const std::string& v, const std::string& x, double xv, std::set<int>& nodes, int depth = 0) const {
        if (v == x) return xv;
        const double c = scalar(v);
        if (!std::isnan(c)) return c;
        const onnx::NodeProto* p = producer(v);
        if (p == nullptr || depth > 16 || p->input_size() != 2) return std::nan("");
        const std::string& t = p->op_type();
        if (t != "Mul" && t != "Add" && t != "Sub" && t != "Div" && t != "Pow") return std::nan("");
        nodes.insert(index_of(p));
        const double a = eval_chain(p->input(0), x, xv, nodes, depth + 1);
        const double b = eval_chain(p->input(1), x, xv, nodes, depth + 1);
        if (t == "Mul") return a * b;
        if (t == "Add") return a + b;
        if (t == "Sub") return a - b;
        if (t == "Div") return a / b;
        return std::pow(a, b);
    }

    /// Mul(Mul(x, Add(f(g(x)), 1)), 0.5) in any nesting, f = Erf with g(x) = x / sqrt 2, or f = Tanh with
    /// g(x) = sqrt(2/pi) (x + 0.044715 x^3): GELU.
    void match_gelu(int end) {
        const onnx::NodeProto* e = &m_gp->node(end);
        if (e->input_size() != 2) return;
        std::vector<std::string> factors;
        std::set<int> inner;
        for (const auto& v : e->input()) {
            const onnx::NodeProto* p = producer(v, "Mul");
            if (p != nullptr && p->input_size() == 2 && readers(v).size() == 1 && !static_tensor(v)) {
                factors.push_back(p->input(0));
                factors.push_back(p->input(1));
                inner.insert(index_of(p));
            } else {
                factors.push_back(v);
            }
        }
        if (factors.size() != 3) return;
        std::vector<std::string> rest;
        int halves = 0, other_constants = 0;
        for (const auto& f : factors) {
            if (!static_tensor(f))
                rest.push_back(f);
            else if (std::fabs(scalar(f) - 0.5) < 1e-6)
                ++halves;
            else
                ++other_constants;
        }
        if (halves != 1 || other_constants != 0 || rest.size() != 2) return;
        for (int order = 0; order < 2; ++order) {
            const std::string& pv = rest[static_cast<std::size_t>(order)];
            const std::string& x = rest[static_cast<std::size_t>(1 - order)];
            const onnx::NodeProto* add = producer(pv, "Add");
            const auto [one, other] = split_const(add);
            if (add == nullptr || one.empty() || scalar(one) != 1.0) continue;
            const onnx::NodeProto* fn = producer(other);
            if (fn == nullptr || (fn->op_type() != "Erf" && fn->op_type() != "Tanh") || fn->input_size() != 1) continue;
            const bool tanh_form = fn->op_type() == "Tanh";
            std::set<int> chain;
            bool ok = true;
            for (double xv : {-1.5, 0.5, 1.0, 2.0}) {
                const double want = tanh_form ? 0.7978845608028654 * (xv + 0.044715 * xv * xv * xv) : xv * 0.7071067811865476;
                const double got = eval_chain(fn->input(0), x, xv, chain);
                if (!(std::fabs(got - want) <= 1e-5 * std::fabs(want))) ok = false;
            }
            if (!ok) continue;
            std::set<int> all = inner;
            all.insert(chain.begin(), chain.end());
            all.insert(index_of(fn));
            all.insert(index_of(add));
            if (!closed(all, end)) continue;
            pattern p;
            p.kind = op::gelu;
            p.x = x;
            p.tanh_form = tanh_form;
            m_patterns[end] = p;
            m_skip.insert(all.begin(), all.end());
            return;
        }
    }

    void emit_pattern(const onnx::NodeProto& n, int index, const pattern& p) {
        const int x = activation_named(p.x);
        const act_info ai = info(p.x);
        layer l;
        l.kind = p.kind;
        l.name = layer_name(n, index);
        if (p.kind == op::layernorm) {
            const auto d = onnx_dims(p.x);
            if (ai.flat || ai.batch == static_cast<int>(d.size()) - 1)
                fail("LayerNorm over the batch axis or a flat tensor is not supported");
            for (int r : p.reduce) {
                const onnx::NodeProto& rn = m_gp->node(r);
                const attributes a(*this, rn, {"axes", "keepdims", "noop_with_empty_axes"});
                const auto axes = axes_of(rn, a, 1);
                if (axes.size() != 1 || norm_axis(axes[0], d.size()) != static_cast<int>(d.size()) - 1 ||
                    a.i("keepdims", 1) != 1)
                    fail("the decomposed LayerNorm must reduce over the last axis only (ReduceMean '" + rn.name() + "')");
            }
            l.gamma = broadcast_param(p.gamma, at(x).out.last(), "gamma");
            l.beta = broadcast_param(p.beta, at(x).out.last(), "beta");
            l.eps = p.eps;
        } else {
            l.tanh_form = p.tanh_form;
        }
        bind(n, add_layer(std::move(l), {x}, n.name()), ai);
    }

    std::vector<double> broadcast_param(std::vector<double> v, int n, const std::string& what) const {
        if (v.size() == 1) v.assign(static_cast<std::size_t>(n), v[0]);
        if (static_cast<int>(v.size()) != n)
            fail("LayerNorm " + what + " has " + std::to_string(v.size()) + " values for " + std::to_string(n) + " features");
        return v;
    }

    int activation_named(const std::string& name) const {
        const auto it = m_values.find(name);
        if (it != m_values.end()) return it->second;
        if (tensor(name)) fail("input '" + name + "' is a constant tensor where an activation is expected");
        fail("input '" + name + "' is not produced by an earlier node or the graph input");
    }

    // ------------------------------------------------------------------------------------------------------
    // operators

    void convert(const onnx::NodeProto& n, int index) {
        const std::string& t = n.op_type();
        if (!n.domain().empty() && n.domain() != "ai.onnx")
            fail("unsupported operator '" + n.domain() + "." + t + "' (supported: " + k_supported + ")");
        if (t == "Constant") return constant(n);
        if (fold(n)) return;
        if (t == "Conv") return conv(n, index);
        if (t == "BatchNormalization") return batch_norm(n);
        if (t == "Gemm") return gemm(n, index);
        if (t == "MatMul") return matmul(n, index);
        if (t == "Add") return add(n, index);
        if (t == "Relu") return simple(n, index, op::relu, {});
        if (t == "MaxPool" || t == "AveragePool") return pool(n, index);
        if (t == "GlobalAveragePool") return global_avg_pool(n, index);
        if (t == "Flatten") return flatten(n, index);
        if (t == "Reshape") return reshape(n, index);
        if (t == "Identity" || t == "Dropout") return pass_through(n);
        if (t == "Softmax") return softmax(n, index);
        if (t == "LayerNormalization") return layer_norm(n, index);
        if (t == "Transpose") return transpose(n, index);
        if (t == "Split") return split(n, index);
        if (t == "Slice") return slice(n, index);
        if (t == "Gather") return gather(n, index);
        if (t == "Squeeze" || t == "Unsqueeze") return squeeze(n, index);
        if (t == "Concat") return concat(n, index);
        if (t == "Expand") return expand(n);
        if (t == "Erf" || t == "Tanh" || t == "Div" || t == "Mul" || t == "Sub" || t == "Pow" || t == "Sqrt" ||
            t == "ReduceMean")
            fail("unsupported operator '" + t + "' on an activation: supported only inside a decomposed LayerNorm, a "
                 "GELU (Erf or Tanh form), or as a Div/Mul by a constant right after a MatMul of two activations");
        fail("unsupported operator '" + t + "' (supported: " + k_supported + ")");
    }

    void conv(const onnx::NodeProto& n, int index) {
        const attributes a(*this, n, {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"});
        const int x = activation(n, 0);
        if (info(input_name(n, 0)).flat || at(x).out.rank() != 3)
            fail("Conv needs an (N, C, H, W) input, got " + dims_text(onnx_dims(input_name(n, 0))));
        const onnx::TensorProto& wt = weight_input(n, 1, "weight");
        if (a.i("group", 1) != 1) unsupported_attr("Conv", "group " + std::to_string(a.i("group", 1)) + " (only 1)");
        window w = read_window(n, a, false);
        if (wt.dims_size() != 4) fail("Conv weight '" + wt.name() + "' must have 4 dims (C_out, C_in, kh, kw)");
        const std::vector<double> wv = floats(wt);
        const int cout = extent(wt.dims(0), 1, "weight C_out");
        const int cin = extent(wt.dims(1), 1, "weight C_in");
        const int kh = extent(wt.dims(2), 1, "weight kh");
        const int kw = extent(wt.dims(3), 1, "weight kw");
        if (w.kh != 0 && (w.kh != kh || w.kw != kw)) fail("kernel_shape does not match the weight's " + std::to_string(kh) + "x" + std::to_string(kw));
        if (cin != at(x).out.c())
            fail("weight '" + wt.name() + "' expects " + std::to_string(cin) + " input channels but the input has " +
                 std::to_string(at(x).out.c()));

        layer l;
        l.kind = op::conv2d;
        l.name = layer_name(n, index);
        l.out_channels = cout;
        l.kernel_h = kh;
        l.kernel_w = kw;
        l.stride = w.stride;
        l.padding = w.pad;
        // ONNX OIHW -> IR [o][(ky*kw + kx)*C_in + c]: channel fastest, as the crossbar rows are unrolled.
        const std::size_t rows = static_cast<std::size_t>(kh) * kw * cin;
        l.fweights.resize(rows * cout);
        std::size_t src = 0;
        for (int o = 0; o < cout; ++o)
            for (int c = 0; c < cin; ++c)
                for (int ky = 0; ky < kh; ++ky)
                    for (int kx = 0; kx < kw; ++kx)
                        l.fweights[o * rows + (static_cast<std::size_t>(ky) * kw + kx) * cin + c] =
                            static_cast<float>(wv[src++]);
        if (!input_name(n, 2).empty()) {
            const onnx::TensorProto& bt = weight_input(n, 2, "bias");
            l.bias = floats(bt);
            if (static_cast<int>(l.bias.size()) != cout)
                fail("bias '" + bt.name() + "' has " + std::to_string(l.bias.size()) + " values for " + std::to_string(cout) + " channels");
        }
        const int id = add_layer(std::move(l), {x}, n.name());
        m_meta.back().weight_name = wt.name();
        bind_output(n, id);
    }

    void batch_norm(const onnx::NodeProto& n) {
        const attributes a(*this, n, {"epsilon", "momentum", "training_mode", "spatial", "is_test"});
        const std::string& in = input_name(n, 0);
        const int x = activation(n, 0);
        if (at(x).kind != op::conv2d || !sole_output(x, in))
            fail("unsupported operator 'BatchNormalization' here: it is supported only directly after a Conv whose "
                 "output it alone reads (it is folded into the conv's weights)");
        if (a.i("training_mode", 0) != 0) unsupported_attr("BatchNormalization", "training_mode 1");
        if (a.i("spatial", 1) != 1) unsupported_attr("BatchNormalization", "spatial 0");
        const double eps = a.f("epsilon", 1e-5);
        layer& l = at(x);
        const auto c = static_cast<std::size_t>(l.out_channels);
        const std::vector<double> gamma = floats(weight_input(n, 1, "scale"));
        const std::vector<double> beta = floats(weight_input(n, 2, "B"));
        const std::vector<double> mean = floats(weight_input(n, 3, "mean"));
        const std::vector<double> var = floats(weight_input(n, 4, "var"));
        for (const auto* v : {&gamma, &beta, &mean, &var})
            if (v->size() != c)
                fail("BatchNormalization parameters must have " + std::to_string(c) + " values (one per channel), got " +
                     std::to_string(v->size()));
        if (l.bias.empty()) l.bias.assign(c, 0.0);
        const std::size_t rows = l.fweights.size() / c;
        for (std::size_t o = 0; o < c; ++o) {
            const double d = var[o] + eps;
            if (!(d > 0.0)) fail("BatchNormalization var + epsilon must be > 0 (channel " + std::to_string(o) + ")");
            const double s = gamma[o] / std::sqrt(d);
            for (std::size_t r = 0; r < rows; ++r) {
                float& w = l.fweights[o * rows + r];
                w = static_cast<float>(static_cast<double>(w) * s);
            }
            l.bias[o] = (l.bias[o] - mean[o]) * s + beta[o];
        }
        if (n.output_size() < 1 || n.output(0).empty()) fail("BatchNormalization has no output");
        rebind(n.output(0), x, info(in));
    }

    /// The folded node's output now stands for layer id (the fused layer).
    void rebind(const std::string& out, int id, act_info ai) {
        if (m_values.count(out) != 0 || m_tensors.count(out) != 0) fail("value '" + out + "' is defined twice");
        m_values[out] = id;
        m_info[out] = ai;
        m_meta[static_cast<std::size_t>(id)].out_value = out;
    }

    /// A linear layer with weights w[o][i] = get(o, i): over the flattened producer x (flat), or per token on a
    /// (T, D) producer (per_token). Binds output 0 of n.
    template <class Get>
    void linear(const onnx::NodeProto& n, int index, int x, const onnx::TensorProto& wt, int in_f, int out_f, Get get,
                std::vector<double> bias, bool per_token = false, act_info out_info = {0, true}) {
        const std::string name = layer_name(n, index);
        const int fx = per_token ? x : flat(x, name, n.name());
        const std::int64_t have = per_token ? at(fx).out.last() : at(fx).out.size();
        if (have != in_f)
            fail("weight '" + wt.name() + "' expects " + std::to_string(in_f) + " inputs but the input has " +
                 std::to_string(have) + (per_token ? " features per token" : " values"));
        layer l;
        l.kind = op::linear;
        l.name = name;
        l.out_channels = out_f;
        l.fweights.resize(static_cast<std::size_t>(in_f) * out_f);
        for (int o = 0; o < out_f; ++o)
            for (int i = 0; i < in_f; ++i) l.fweights[static_cast<std::size_t>(o) * in_f + i] = static_cast<float>(get(o, i));
        l.bias = std::move(bias);
        const int id = add_layer(std::move(l), {fx}, n.name());
        m_meta.back().weight_name = wt.name();
        bind(n, id, out_info);
    }

    /// A bias of out_f values, or one value broadcast to all.
    std::vector<double> bias_of(const onnx::TensorProto& t, int out_f) const {
        std::vector<double> b = floats(t);
        if (b.size() == 1) b.assign(static_cast<std::size_t>(out_f), b[0]);
        if (static_cast<int>(b.size()) != out_f)
            fail("bias '" + t.name() + "' has " + std::to_string(b.size()) + " values for " + std::to_string(out_f) + " outputs");
        return b;
    }

    void gemm(const onnx::NodeProto& n, int index) {
        const attributes a(*this, n, {"alpha", "beta", "transA", "transB"});
        const int x = activation(n, 0);
        const onnx::TensorProto& wt = weight_input(n, 1, "weight");
        if (a.f("alpha", 1.0) != 1.0) unsupported_attr("Gemm", "alpha " + std::to_string(a.f("alpha", 1.0)) + " (only 1)");
        if (a.i("transA", 0) != 0) unsupported_attr("Gemm", "transA 1 (only 0)");
        const std::int64_t tb = a.i("transB", 0);
        if (tb != 0 && tb != 1) unsupported_attr("Gemm", "transB " + std::to_string(tb));
        if (wt.dims_size() != 2) fail("Gemm weight '" + wt.name() + "' must have 2 dims");
        const std::vector<double> wv = floats(wt);
        // transB 1: B is (out, in), PyTorch's nn.Linear layout; transB 0: B is (in, out).
        const int out_f = extent(wt.dims(tb ? 0 : 1), 1, "Gemm output features");
        const int in_f = extent(wt.dims(tb ? 1 : 0), 1, "Gemm input features");
        std::vector<double> bias;
        if (!input_name(n, 2).empty()) {
            if (a.f("beta", 1.0) != 1.0) unsupported_attr("Gemm", "beta " + std::to_string(a.f("beta", 1.0)) + " (only 1)");
            bias = bias_of(weight_input(n, 2, "bias"), out_f);
        }
        const auto ui = static_cast<std::size_t>(in_f), uo = static_cast<std::size_t>(out_f);
        linear(n, index, x, wt, in_f, out_f,
               [&](int o, int i) { return tb ? wv[o * ui + i] : wv[i * uo + o]; }, std::move(bias));
    }


    void matmul(const onnx::NodeProto& n, int index) {
        const attributes a(*this, n, {});
        if (n.input_size() != 2) fail("MatMul needs exactly 2 inputs");
        const bool w0 = tensor(input_name(n, 0)) != nullptr, w1 = tensor(input_name(n, 1)) != nullptr;
        if (w0 && !w1) fail("MatMul with the weight as the first operand is not supported (expected activation x weight)");
        if (!w1) return matmul_activations(n, index);
        const std::string& in = input_name(n, 0);
        const int x = activation(n, 0);
        const onnx::TensorProto& wt = weight_input(n, 1, "weight");
        if (wt.dims_size() != 2) fail("MatMul weight '" + wt.name() + "' must have 2 dims (in, out)");
        const std::vector<double> wv = floats(wt);
        const int in_f = extent(wt.dims(0), 1, "MatMul input features");
        const int out_f = extent(wt.dims(1), 1, "MatMul output features");
        const auto uo = static_cast<std::size_t>(out_f);
        auto get = [&](int o, int i) { return wv[i * uo + o]; };
        const act_info ai = info(in);
        const shape& s = at(x).out;
        if (ai.flat || (s.rank() == 3 && s.h() == 1 && s.w() == 1 && s.c() == in_f && in_f > 1))
            return linear(n, index, x, wt, in_f, out_f, get, {});  // an (N, F) input
        if (s.rank() == 2 && ai.batch == 0) return linear(n, index, x, wt, in_f, out_f, get, {}, true, ai);  // tokens
        // Any other rank: the product is over the last axis, so the rows are the leading dims.
        const auto d = onnx_dims(in);
        if (ai.batch == static_cast<int>(d.size()) - 1) fail("MatMul over the batch axis is not supported");
        if (s.last() != in_f)
            fail("weight '" + wt.name() + "' expects " + std::to_string(in_f) + " features but the input has " +
                 std::to_string(s.last()));
        layer r;
        r.kind = op::reshape;
        r.name = unique_name(base_name(n, index) + "_rows");
        r.new_dims = {static_cast<int>(s.size() / s.last()), s.last()};
        const int rows = add_layer(std::move(r), {x}, n.name());
        const std::string tmp = "\x01" + n.output(0);  // internal value name, never an ONNX name
        onnx::NodeProto inner = n;
        inner.set_output(0, tmp);
        linear(inner, index, rows, wt, in_f, out_f, get, {}, true, act_info{0, false});
        std::vector<std::int64_t> od = d;
        od.back() = out_f;
        reshape_to(n, index, m_values.at(tmp), od, ai.batch, n.output(0), "_out");
    }

    /// MatMul of two activations (attention), with a Div or Mul by a constant that is its output's only reader
    /// folded into the layer's multiplier (the scale 1/sqrt(d)); the fused layer answers to that node's name.
    void matmul_activations(const onnx::NodeProto& n, int index) {
        const std::string &va = input_name(n, 0), &vb = input_name(n, 1);
        const int xa = activation(n, 0), xb = activation(n, 1);
        const act_info ia = info(va), ib = info(vb);
        const auto da = onnx_dims(va), db = onnx_dims(vb);
        if (ia.flat || ib.flat || da.size() != db.size() || ia.batch != ib.batch ||
            ia.batch >= static_cast<int>(da.size()) - 2)
            fail("MatMul of two activations needs operands of equal rank >= 3 with the batch on a leading axis, got " +
                 dims_text(da) + " and " + dims_text(db));
        layer l;
        l.kind = op::matmul;
        l.name = layer_name(n, index);
        std::string key_name = n.name();
        int folded = -1;
        const auto& rd = readers(n.output(0));
        if (rd.size() == 1 && rd[0] >= 0) {
            const onnx::NodeProto& r = m_gp->node(rd[0]);
            if ((r.op_type() == "Div" || r.op_type() == "Mul") && r.input_size() == 2 && r.attribute_size() == 0) {
                const bool first = r.input(0) == n.output(0);
                const double k = scalar(r.input(first ? 1 : 0));
                if (!std::isnan(k) && (first || r.op_type() == "Mul")) {
                    if (!(k > 0)) fail("the constant " + std::to_string(k) + " after MatMul must be positive");
                    l.multiplier = r.op_type() == "Div" ? 1.0 / k : k;
                    folded = rd[0];
                    key_name = r.name();
                }
            }
        }
        const int id = add_layer(std::move(l), {xa, xb}, key_name);
        bind(n, id, ia);
        if (folded >= 0) {
            const onnx::NodeProto& r = m_gp->node(folded);
            if (r.output_size() < 1 || r.output(0).empty()) fail(r.op_type() + " has no output");
            rebind(r.output(0), id, ia);
            m_skip.insert(folded);
        }
    }

    void add(const onnx::NodeProto& n, int index) {
        const attributes a(*this, n, {});
        if (n.input_size() != 2) fail("Add needs exactly 2 inputs");
        const onnx::TensorProto* ta = tensor(input_name(n, 0));
        const onnx::TensorProto* tb = tensor(input_name(n, 1));
        if (ta || tb) {
            const int act_i = ta ? 1 : 0;
            const std::string& v = input_name(n, act_i);
            const int x = activation(n, act_i);
            const onnx::TensorProto& c = ta ? *ta : *tb;
            // A bias after Gemm/MatMul whose output it alone reads: fold it, the IR adds biases in the accumulator.
            // It must be one value per output feature (or one for all).
            const std::int64_t cnt = count_of(ctensor_of(c).dims);
            if (at(x).kind == op::linear && sole_output(x, v) && (cnt == 1 || cnt == at(x).out_channels)) {
                layer& l = at(x);
                const std::vector<double> b = bias_of(c, l.out_channels);
                if (l.bias.empty()) l.bias.assign(b.size(), 0.0);
                for (std::size_t o = 0; o < b.size(); ++o) l.bias[o] += b[o];
                if (n.output_size() < 1 || n.output(0).empty()) fail("Add has no output");
                rebind(n.output(0), x, info(v));
                return;
            }
            return add_constant(n, index, v, x, c);
        }
        const int x0 = activation(n, 0), x1 = activation(n, 1);
        if (onnx_dims(input_name(n, 0)) != onnx_dims(input_name(n, 1)))
            fail("Add of two activations of different shapes " + dims_text(onnx_dims(input_name(n, 0))) + " and " +
                 dims_text(onnx_dims(input_name(n, 1))) + " (broadcasting) is not supported");
        layer l;
        l.kind = op::add;
        l.name = layer_name(n, index);
        bind(n, add_layer(std::move(l), {x0, x1}, n.name()), info(input_name(n, 0)));
    }

    /// Add of a constant (a positional embedding): the constant broadcast to the activation's shape per image.
    void add_constant(const onnx::NodeProto& n, int index, const std::string& v, int x, const onnx::TensorProto& t) {
        const ctensor c = ctensor_of(t);
        const auto d = onnx_dims(v);
        const act_info ai = info(v);
        const auto out = broadcast({d, c.dims});
        if (out != d) fail("Add of a constant of shape " + dims_text(c.dims) + " would grow the activation " + dims_text(d));
        layer l;
        l.kind = op::add;
        l.name = layer_name(n, index);
        l.constant_shape = at(x).out;
        // The output elements in IR order are the ONNX elements in order (the batch is 1), so index them alike.
        const std::int64_t cnt = count_of(d);
        for (std::int64_t i = 0; i < cnt; ++i) l.constant.push_back(c.v[bcast_index(i, d, c.dims)]);
        bind(n, add_layer(std::move(l), {x}, n.name()), ai);
    }

    void simple(const onnx::NodeProto& n, int index, op kind, std::initializer_list<const char*> allowed) {
        const attributes a(*this, n, allowed);
        const int x = activation(n, 0);
        layer l;
        l.kind = kind;
        l.name = layer_name(n, index);
        bind(n, add_layer(std::move(l), {x}, n.name()), info(input_name(n, 0)));
    }

    void softmax(const onnx::NodeProto& n, int index) {
        const attributes a(*this, n, {"axis"});
        const std::string& v = input_name(n, 0);
        activation(n, 0);  // names the node if the input is missing or a constant
        const auto d = onnx_dims(v);
        const int ax = norm_axis(a.i("axis", m_opset >= 13 ? -1 : 1), d.size());
        if (ax != static_cast<int>(d.size()) - 1 || info(v).flat || info(v).batch == ax)
            fail("Softmax is supported over the last axis of a tensor with more than one axis per image only (axis " +
                 std::to_string(a.i("axis", -1)) + " of " + dims_text(d) + ")");
        simple(n, index, op::softmax, {"axis"});
    }

    void layer_norm(const onnx::NodeProto& n, int index) {
        const attributes a(*this, n, {"axis", "epsilon", "stash_type"});
        const std::string& v = input_name(n, 0);
        const int x = activation(n, 0);
        const auto d = onnx_dims(v);
        if (norm_axis(a.i("axis", -1), d.size()) != static_cast<int>(d.size()) - 1 || info(v).flat ||
            info(v).batch == static_cast<int>(d.size()) - 1)
            fail("LayerNormalization is supported over the last axis only (axis " + std::to_string(a.i("axis", -1)) + ")");
        for (int k = 1; k < n.output_size(); ++k)
            if (!n.output(k).empty() && !readers(n.output(k)).empty())
                fail("LayerNormalization's Mean and InvStdDev outputs are not supported");
        layer l;
        l.kind = op::layernorm;
        l.name = layer_name(n, index);
        l.eps = a.f("epsilon", 1e-5);
        const int dn = at(x).out.last();
        l.gamma = broadcast_param(floats(weight_input(n, 1, "scale")), dn, "scale");
        if (!input_name(n, 2).empty()) l.beta = broadcast_param(floats(weight_input(n, 2, "bias")), dn, "bias");
        bind(n, add_layer(std::move(l), {x}, n.name()), info(v));
    }

    void transpose(const onnx::NodeProto& n, int index) {
        const attributes a(*this, n, {"perm"});
        const std::string& v = input_name(n, 0);
        const int x = activation(n, 0);
        const auto d = onnx_dims(v);
        const act_info ai = info(v);
        std::vector<std::int64_t> perm = a.ints("perm", {});
        if (perm.empty())
            for (std::size_t k = d.size(); k-- > 0;) perm.push_back(static_cast<std::int64_t>(k));
        if (perm.size() != d.size()) fail("Transpose perm has " + std::to_string(perm.size()) + " axes for " + dims_text(d));
        std::vector<int> seen(d.size(), 0);
        for (auto p : perm)
            if (p < 0 || p >= static_cast<std::int64_t>(d.size()) || seen[static_cast<std::size_t>(p)]++)
                fail("Transpose perm is not a permutation");
        if (ai.flat) {
            if (perm[0] != 0) fail("Transpose of the batch axis is not supported");
            return alias(n.output(0), x, ai);
        }
        act_info out = ai;
        std::vector<int> ir_perm;
        for (std::size_t k = 0; k < perm.size(); ++k) {
            if (perm[k] == ai.batch) {
                out.batch = static_cast<int>(k);
                continue;
            }
            ir_perm.push_back(static_cast<int>(perm[k] > ai.batch ? perm[k] - 1 : perm[k]));
        }
        bool identity = true;
        for (std::size_t k = 0; k < ir_perm.size(); ++k) identity = identity && ir_perm[k] == static_cast<int>(k);
        if (identity) return alias(n.output(0), x, out);
        layer l;
        l.kind = op::transpose;
        l.name = layer_name(n, index);
        l.perm = ir_perm;
        bind(n, add_layer(std::move(l), {x}, n.name()), out);
    }

    /// IR slice of x along IR axis ax, [b, e); returns the layer (x itself when the range is the whole axis).
    int slice_layer(const std::string& name, int x, int ax, std::int64_t b, std::int64_t e, const std::string& node_name) {
        const int dim = at(x).out.dims[static_cast<std::size_t>(ax)];
        if (b == 0 && e == dim) return x;
        if (e <= b) fail("empty slice");
        layer l;
        l.kind = op::slice;
        l.name = unique_name(name);
        l.axis = ax;
        l.begin = static_cast<int>(b);
        l.end = static_cast<int>(e);
        return add_layer(std::move(l), {x}, node_name);
    }

    void bind_value(const std::string& out, int id, act_info ai) {
        if (id == static_cast<int>(m_g.layers.size()) - 1 && m_meta[static_cast<std::size_t>(id)].out_value.empty())
            alias_new(out, id, ai);
        else
            alias(out, id, ai);
    }

    void split(const onnx::NodeProto& n, int index) {
        const attributes a(*this, n, {"axis", "split", "num_outputs"});
        const std::string& v = input_name(n, 0);
        const int x = activation(n, 0);
        const auto d = onnx_dims(v);
        const int onnx_ax = norm_axis(a.i("axis", 0), d.size());
        const int ax = ir_axis(v, onnx_ax, "Split");
        std::vector<std::int64_t> parts = a.ints("split", {});
        if (parts.empty() && !input_name(n, 1).empty()) {
            const onnx::TensorProto* t = tensor(input_name(n, 1));
            if (!t) fail("Split sizes must be constant");
            parts = ints(*t);
        }
        const std::int64_t dim = d[static_cast<std::size_t>(onnx_ax)];
        const auto outs = static_cast<std::int64_t>(n.output_size());
        if (parts.empty()) {
            if (outs < 1 || dim % outs != 0) fail("Split into " + std::to_string(outs) + " equal parts of " + std::to_string(dim));
            parts.assign(static_cast<std::size_t>(outs), dim / outs);
        }
        if (static_cast<std::int64_t>(parts.size()) != outs) fail("Split sizes and outputs differ in number");
        std::int64_t b = 0;
        const std::string base = base_name(n, index);
        for (int k = 0; k < n.output_size(); ++k) {
            const std::int64_t e = b + parts[static_cast<std::size_t>(k)];
            if (e > dim || parts[static_cast<std::size_t>(k)] < 1) fail("Split sizes exceed the axis");
            if (!n.output(k).empty())
                bind_value(n.output(k), slice_layer(base + "_" + std::to_string(k), x, ax, b, e, n.name()), info(v));
            b = e;
        }
        if (b != dim) fail("Split sizes do not cover the axis");
    }

    void slice(const onnx::NodeProto& n, int index) {
        const attributes a(*this, n, {"starts", "ends", "axes"});
        const std::string& v = input_name(n, 0);
        int x = activation(n, 0);
        const auto d = onnx_dims(v);
        const std::string base = base_name(n, index);
        for (const auto& s : slice_spec(n, a, d)) x = slice_layer(base, x, ir_axis(v, s.axis, "Slice"), s.begin, s.end, n.name());
        bind_value(n.output(0), x, info(v));
    }

    /// Gather of constant indices on an activation: a contiguous range of one axis (a slice); a scalar index also
    /// drops the axis (the class token's readout).
    void gather(const onnx::NodeProto& n, int index) {
        const attributes a(*this, n, {"axis"});
        const std::string& v = input_name(n, 0);
        const int x = activation(n, 0);
        const onnx::TensorProto* t = tensor(input_name(n, 1));
        if (!t) fail("Gather indices must be constant");
        const ctensor idx = ctensor_of(*t);
        const auto d = onnx_dims(v);
        const int onnx_ax = norm_axis(a.i("axis", 0), d.size());
        const int ax = ir_axis(v, onnx_ax, "Gather");
        const std::int64_t dim = d[static_cast<std::size_t>(onnx_ax)];
        if (idx.v.empty() || idx.dims.size() > 1) fail("Gather needs a scalar or a 1-D list of indices");
        std::vector<std::int64_t> js;
        for (double jd : idx.v) {
            auto j = static_cast<std::int64_t>(jd);
            if (j < 0) j += dim;
            if (j < 0 || j >= dim) fail("Gather index " + std::to_string(static_cast<std::int64_t>(jd)) + " out of range");
            js.push_back(j);
        }
        for (std::size_t k = 1; k < js.size(); ++k)
            if (js[k] != js[k - 1] + 1) fail("Gather of non-contiguous indices is not supported");
        const int s = slice_layer(base_name(n, index), x, ax, js.front(), js.back() + 1, n.name());
        if (!idx.dims.empty()) return bind_value(n.output(0), s, info(v));
        std::vector<std::int64_t> od = d;
        od.erase(od.begin() + onnx_ax);
        const act_info ai = info(v);
        reshape_to(n, index, s, od, onnx_ax < ai.batch ? ai.batch - 1 : ai.batch, n.output(0), "_squeeze");
    }

    void squeeze(const onnx::NodeProto& n, int index) {
        const attributes a(*this, n, {"axes"});
        const std::string& v = input_name(n, 0);
        const int x = activation(n, 0);
        const auto d = onnx_dims(v);
        const auto axes = axes_of(n, a, 1);
        if (axes.empty()) fail(n.op_type() + " without axes is not supported (it would depend on the batch size)");
        const act_info ai = info(v);
        // Follow the batch axis through: mark it, transform, find it again.
        std::vector<std::int64_t> marked = d;
        marked[static_cast<std::size_t>(ai.flat ? 0 : ai.batch)] = -7;
        std::vector<std::int64_t> od;
        if (n.op_type() == "Unsqueeze") {
            od = unsqueeze_dims(d, axes);
            marked = unsqueeze_dims(marked, axes);
        } else {
            for (auto ax : axes)
                if (norm_axis(ax, d.size()) == (ai.flat ? 0 : ai.batch)) fail("Squeeze of the batch axis is not supported");
            od = squeeze_dims(d, axes);
            marked = squeeze_dims(marked, axes);
        }
        const int batch = static_cast<int>(std::find(marked.begin(), marked.end(), -7) - marked.begin());
        reshape_to(n, index, x, od, batch, n.output(0));
    }

    /// Concat of activations along a non-batch axis; constants (the class token) may come before them.
    void concat(const onnx::NodeProto& n, int index) {
        const attributes a(*this, n, {"axis"});
        if (!a.has("axis")) fail("Concat needs an axis");
        std::vector<int> xs;
        std::vector<ctensor> consts;
        std::string first;
        for (int i = 0; i < n.input_size(); ++i) {
            if (n.input(i).empty()) continue;
            if (const onnx::TensorProto* t = tensor(n.input(i))) {
                if (!xs.empty()) fail("Concat with a constant after an activation is not supported (constants must come first)");
                consts.push_back(ctensor_of(*t));
            } else {
                if (xs.empty()) first = n.input(i);
                xs.push_back(activation(n, i));
            }
        }
        const auto d = onnx_dims(first);
        const act_info ai = info(first);
        const int onnx_ax = norm_axis(a.i("axis", 0), d.size());
        const int ax = ir_axis(first, onnx_ax, "Concat");
        for (int i = 0; i < n.input_size(); ++i)
            if (!n.input(i).empty() && !tensor(n.input(i)) && info(n.input(i)).flat != ai.flat)
                fail("Concat of activations with different layouts");
        layer l;
        l.kind = op::concat;
        l.name = layer_name(n, index);
        l.axis = ax;
        if (!consts.empty()) {
            // The constants joined along the axis, in ONNX order (the batch is 1), give the IR constant.
            std::vector<std::int64_t> cd = consts[0].dims;
            if (cd.size() != d.size()) fail("Concat constant of rank " + std::to_string(cd.size()) + " with a rank-" +
                                            std::to_string(d.size()) + " activation");
            cd[static_cast<std::size_t>(onnx_ax)] = 0;
            for (const auto& c : consts) {
                if (c.dims.size() != d.size()) fail("Concat constants differ in rank");
                for (std::size_t k = 0; k < d.size(); ++k)
                    if (static_cast<int>(k) != onnx_ax && c.dims[k] != d[k])
                        fail("Concat constant " + dims_text(c.dims) + " does not join " + dims_text(d));
                cd[static_cast<std::size_t>(onnx_ax)] += c.dims[static_cast<std::size_t>(onnx_ax)];
            }
            std::int64_t outer = 1;
            for (int k = 0; k < onnx_ax; ++k) outer *= d[static_cast<std::size_t>(k)];
            for (std::int64_t o = 0; o < outer; ++o)
                for (const auto& c : consts) {
                    const std::int64_t slab = static_cast<std::int64_t>(c.v.size()) / outer;
                    for (std::int64_t e = 0; e < slab; ++e) l.constant.push_back(c.v[static_cast<std::size_t>(o * slab + e)]);
                }
            std::vector<int> ird = ir_dims(cd, ai, "Concat constant");
            if (ai.flat) ird = {static_cast<int>(count_of(cd)), 1, 1};
            l.constant_shape = shape(ird);
        }
        bind(n, add_layer(std::move(l), xs, n.name()), ai);
    }

    /// Expand of an activation that leaves its shape unchanged (a batch of 1); Expand of a constant is folded.
    void expand(const onnx::NodeProto& n) {
        const attributes a(*this, n, {});
        const std::string& v = input_name(n, 0);
        const int x = activation(n, 0);
        const onnx::TensorProto* t = tensor(input_name(n, 1));
        if (!t) fail("Expand needs a constant shape");
        const auto d = onnx_dims(v);
        const auto out = broadcast({d, ints(*t)});
        if (out != d) fail("Expand of an activation " + dims_text(d) + " to " + dims_text(out) + " is not supported");
        alias(n.output(0), x, info(v));
    }

    void pool(const onnx::NodeProto& n, int index) {
        const bool is_max = n.op_type() == "MaxPool";
        const attributes a = is_max ? attributes(*this, n, {"kernel_shape", "strides", "pads", "dilations", "auto_pad",
                                                            "ceil_mode", "storage_order"})
                                    : attributes(*this, n, {"kernel_shape", "strides", "pads", "dilations", "auto_pad",
                                                            "ceil_mode", "count_include_pad"});
        const int x = activation(n, 0);
        const window w = read_window(n, a, true);
        if (is_max && 2 * w.pad > std::min(w.kh, w.kw))
            unsupported_attr("MaxPool", "pads " + std::to_string(w.pad) + " (at most half the kernel)");
        if (!is_max && w.pad > 0 && a.i("count_include_pad", 0) != 1)
            unsupported_attr("AveragePool", "count_include_pad 0 with pads > 0 (the IR average counts padding as zeros; "
                                            "export with count_include_pad=1)");
        layer l;
        l.kind = is_max ? op::max_pool : op::avg_pool;
        l.name = layer_name(n, index);
        l.kernel_h = w.kh;
        l.kernel_w = w.kw;
        l.stride = w.stride;
        l.padding = w.pad;
        bind_output(n, add_layer(std::move(l), {x}, n.name()));
    }

    void global_avg_pool(const onnx::NodeProto& n, int index) {
        const attributes a(*this, n, {});
        const int x = activation(n, 0);
        const shape s = at(x).out;
        layer l;
        l.kind = op::avg_pool;
        l.name = layer_name(n, index);
        l.kernel_h = s.h();
        l.kernel_w = s.w();
        l.stride = s.h();  // one window: any stride >= 1 gives a 1x1 output (as the NeuroSim CSV loader does)
        bind_output(n, add_layer(std::move(l), {x}, n.name()));
    }


    void flatten(const onnx::NodeProto& n, int index) {
        const attributes a(*this, n, {"axis"});
        if (a.i("axis", 1) != 1) unsupported_attr("Flatten", "axis " + std::to_string(a.i("axis", 1)) + " (only 1)");
        const std::string& v = input_name(n, 0);
        const int x = activation(n, 0);
        if (!info(v).flat && info(v).batch != 0) fail("Flatten of a tensor whose batch axis is not the first is not supported");
        if (info(v).flat) return alias(n.output(0), x, info(v));
        layer l;
        l.kind = op::flatten;
        l.name = layer_name(n, index);
        bind(n, add_layer(std::move(l), {x}, n.name()), act_info{0, true});
    }

    void reshape(const onnx::NodeProto& n, int index) {
        const attributes a(*this, n, {"allowzero"});
        const std::string& v = input_name(n, 0);
        const int x = activation(n, 0);
        const onnx::TensorProto* t = tensor(input_name(n, 1));
        if (!t) fail("Reshape needs a constant shape (or shape arithmetic that folds to one)");
        const auto d = onnx_dims(v);
        const act_info ai = info(v);
        if (!ai.flat && ai.batch != 0) fail("Reshape of a tensor whose batch axis is not the first is not supported");
        const auto target = ints(*t);
        const auto od = reshape_dims(d, target, a.i("allowzero", 0) != 0);
        if (od.size() < 2 || od[0] != 1)
            fail("unsupported Reshape to " + dims_text(target) + ": the first axis must stay the batch (N, ...)");
        reshape_to(n, index, x, od, 0, n.output(0));
    }

    void pass_through(const onnx::NodeProto& n) {
        const attributes a(*this, n, {"ratio", "seed", "is_test"});  // Identity has none; Dropout is inert at inference
        const std::string& in = input_name(n, 0);
        if (n.output_size() < 1 || n.output(0).empty()) fail(n.op_type() + " has no output");
        const std::string& out = n.output(0);
        if (m_values.count(out) != 0 || m_tensors.count(out) != 0) fail("value '" + out + "' is defined twice");
        if (const onnx::TensorProto* t = tensor(in)) {
            m_tensors[out] = t;  // an Identity on a weight (shared parameters) stays a weight
            return;
        }
        m_values[out] = activation(n, 0);  // out_value is left alone: a fold across the skipped node is refused
        m_info[out] = info(in);
    }

    void constant(const onnx::NodeProto& n) {
        const attributes a(*this, n, {"value"});
        const onnx::TensorProto* t = a.t("value");
        if (!t) fail("Constant without a tensor `value` is not supported");
        if (n.output_size() < 1 || n.output(0).empty()) fail("Constant has no output");
        const std::string& out = n.output(0);
        if (m_values.count(out) != 0 || m_tensors.count(out) != 0) fail("value '" + out + "' is defined twice");
        m_tensors[out] = t;
    }


    // ------------------------------------------------------------------------------------------------------
    // cimtlm.quant metadata

    /// A positive finite number at j[name], or null when `nullable`; fails naming key.name.
    double positive(const json& j, const std::string& name, const std::string& key, bool nullable = false) const {
        if (!j.is_object() || !j.contains(name)) fail_at(key + "." + name, "missing");
        const json& v = j.at(name);
        if (nullable && v.is_null()) return 0.0;
        if (!v.is_number()) fail_at(key + "." + name, "must be a number");
        const double d = v.get<double>();
        if (!std::isfinite(d) || d <= 0.0) fail_at(key + "." + name, "must be a positive number, got " + v.dump());
        return d;
    }

    unsigned bits(const json& j, const std::string& name, unsigned lo) const {
        const std::string key = "cimtlm.quant." + name;
        if (!j.contains(name) || !j.at(name).is_number_integer()) fail_at(key, "missing or not an integer");
        const auto v = j.at(name).get<std::int64_t>();
        if (v < lo || v > 16) fail_at(key, "must be in " + std::to_string(lo) + "..16, got " + std::to_string(v));
        return static_cast<unsigned>(v);
    }

    void import_quantisation(const std::string& text) {
        const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (j.is_discarded() || !j.is_object()) fail_at("cimtlm.quant", "metadata is not a JSON object");
        const bool v2 = j.contains("format") && j.at("format") == "cimtlm.quant/2";
        if (!v2 && (!j.contains("format") || j.at("format") != "cimtlm.quant/1"))
            fail_at("cimtlm.quant.format", "expected \"cimtlm.quant/1\" (CNNs) or \"cimtlm.quant/2\" (transformers)");
        const unsigned wb = bits(j, "weight_bits", 2);
        const unsigned ib = bits(j, "input_bits", 1);
        const double input_scale = positive(j, "input_scale", "cimtlm.quant");
        // cimtlm.quant/1 keys the scales of residual Adds under "adds"; /2 keys every requantising node that is
        // not a weight layer (Add, Concat, LayerNorm, GELU, attention MatMul) under "nodes".
        const std::string table = v2 ? "nodes" : "adds";
        const json layers = j.contains("layers") ? j.at("layers") : json::object();
        const json nodes = j.contains(table) ? j.at(table) : json::object();
        if (!layers.is_object()) fail_at("cimtlm.quant.layers", "must be an object");
        if (!nodes.is_object()) fail_at("cimtlm.quant." + table, "must be an object");
        const double m = static_cast<double>((1 << (wb - 1)) - 1);
        const double a = static_cast<double>((1u << ib) - 1u);

        std::set<std::string> used_layers, used_nodes;
        for (std::size_t i = 0; i < m_g.layers.size(); ++i) {
            layer& l = m_g.layers[i];
            const double in_scale = i == 0 ? 0.0 : m_g.layers[static_cast<std::size_t>(l.input_ids[0])].out_scale;
            switch (l.kind) {
                case op::input: l.out_scale = input_scale; break;
                case op::relu:
                case op::max_pool:
                case op::avg_pool:
                case op::flatten:
                case op::transpose:
                case op::reshape:
                case op::slice: l.out_scale = in_scale; break;
                case op::softmax: l.out_scale = 1.0 / a; break;  // the contract: outputs in [0, A], scale 1/A
                case op::add:
                case op::matmul:
                case op::layernorm:
                case op::gelu:
                case op::concat: {
                    const std::string name = m_meta[i].node_name.empty() ? l.name : m_meta[i].node_name;
                    const std::string key = "cimtlm.quant." + table + "." + name;
                    if (!v2 && l.kind != op::add)
                        fail_at(key, std::string("cimtlm.quant/1 has no scale for a ") + op_name(l.kind) +
                                         " layer; transformers need \"cimtlm.quant/2\"");
                    if (!nodes.contains(name))
                        fail_at(key, "missing: the " + std::string(op_name(l.kind)) + " node '" + name + "' needs its out_scale");
                    l.out_scale = positive(nodes.at(name), "out_scale", key);
                    used_nodes.insert(name);
                    break;
                }
                case op::conv2d:
                case op::linear: {
                    const std::string& name = m_meta[i].weight_name;
                    const std::string key = "cimtlm.quant.layers." + name;
                    if (!layers.contains(name)) fail_at(key, "missing: the weight '" + name + "' needs its scales");
                    const json& e = layers.at(name);
                    const double ws = positive(e, "weight_scale", key);  // metadata scales are per tensor
                    l.weight_scale = {ws};
                    const bool logits = std::all_of(m_g.layers.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                                    m_g.layers.end(), [](const layer& k) { return k.kind == op::flatten; });
                    const double out = positive(e, "out_scale", key, /*nullable=*/logits);
                    // The logits layer is not requantised: its scale is the accumulator's (engine convention).
                    l.out_scale = logits ? ws * in_scale : out;
                    used_layers.insert(name);
                    l.qweights = int_weights::zeros(l.fweights.size(), static_cast<std::int32_t>(m));
                    for (std::size_t k = 0; k < l.fweights.size(); ++k) {
                        const double r = static_cast<double>(l.fweights[k]) / ws;
                        if (!(std::fabs(r) <= m + 0.5))
                            fail_at(key, "weight " + std::to_string(k) + " = " + std::to_string(l.fweights[k]) +
                                             " is beyond " + std::to_string(wb) + "-bit range at weight_scale " +
                                             std::to_string(ws));
                        const long long q = std::llround(r);
                        if (std::fabs(r - static_cast<double>(q)) > 1e-3)
                            fail_at(key, "weight " + std::to_string(k) + " = " + std::to_string(l.fweights[k]) +
                                             " is not an integer multiple of weight_scale " + std::to_string(ws));
                        if (std::llabs(q) > static_cast<long long>(m))
                            fail_at(key, "weight " + std::to_string(k) + " quantises to " + std::to_string(q) +
                                             ", beyond +-" + std::to_string(static_cast<long long>(m)));
                        l.qweights.set(k, static_cast<std::int32_t>(q));
                    }
                    break;
                }
            }
        }
        // Entries that match nothing are a mismatch between the metadata and the model (a renamed tensor).
        for (const auto& [name, v] : layers.items())
            if (used_layers.count(name) == 0)
                fail_at("cimtlm.quant.layers." + name, "no weight layer of the model uses an initializer of this name");
        for (const auto& [name, v] : nodes.items())
            if (used_nodes.count(name) == 0)
                fail_at("cimtlm.quant." + table + "." + name,
                        v2 ? "no node of the model that requantises (Add, Concat, LayerNorm, GELU, MatMul of two "
                             "activations or the Div/Mul folded into it) has this name"
                           : "no Add node of the model has this name");
        m_g.quantized = true;
        m_g.weight_bits = wb;
        m_g.input_bits = ib;
    }

    const std::string m_path;
    onnx::ModelProto m_model;
    const onnx::GraphProto* m_gp = nullptr;
    int m_opset = 13;
    graph m_g;
    std::vector<layer_meta> m_meta;                            // parallel to m_g.layers
    std::map<std::string, const onnx::TensorProto*> m_tensors;  // initializers, Constant outputs, folded constants
    std::deque<onnx::TensorProto> m_folded;                     // folded constants (stable addresses)
    std::map<std::string, const onnx::TensorProto*> m_static;   // Constant node values, for pattern matching
    std::map<std::string, int> m_values;                        // activation value -> IR layer
    std::map<std::string, act_info> m_info;                     // activation value -> batch axis, flat form
    std::map<std::string, int> m_consumers;                     // value -> number of readers
    std::map<std::string, std::vector<int>> m_readers;          // value -> reading node indices (-1: graph output)
    std::map<std::string, int> m_producer;                      // value -> producing node index
    std::map<const onnx::NodeProto*, int> m_node_index;         // node -> its index in the graph
    std::set<int> m_skip;                                       // nodes inside a fused pattern or folded away
    std::map<int, pattern> m_patterns;                          // last node of a pattern -> the pattern
    std::set<std::string> m_names;                              // IR layer names taken
    std::string m_key;                                          // "nodes.<name>" of the node being converted
};

}  // namespace

graph load_onnx(const std::string& path) { return load_onnx_bytes(read_input_file(path, file_kind::model), path); }

graph load_onnx_bytes(const std::string& bytes, const std::string& name) {
    onnx_importer imp(name);
    return imp.run(bytes);
}

}  // namespace cim::network
