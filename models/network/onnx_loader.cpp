#include "models/network/onnx_loader.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
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
    "Reshape, Identity, Dropout, Constant";

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

        add_input(gp);
        for (int i = 0; i < gp.node_size(); ++i) {
            const onnx::NodeProto& n = gp.node(i);
            m_key = "nodes." + (n.name().empty() ? n.op_type() + "#" + std::to_string(i) : n.name());
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

    std::string layer_name(const onnx::NodeProto& n, int index) {
        std::string base = sanitise(n.name());
        if (base.empty()) base = lower(n.op_type()) + std::to_string(index);
        return unique_name(base);
    }

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
        } else if (dims.size() == 2) {
            m_g.input = {dim(1), 1, 1};  // (N, F): an MLP's flat input
        } else {
            fail_at(key, "the graph input must be [N,C,H,W] or [N,F], got rank " + std::to_string(dims.size()));
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
    // operators

    void convert(const onnx::NodeProto& n, int index) {
        const std::string& t = n.op_type();
        if (!n.domain().empty() && n.domain() != "ai.onnx")
            fail("unsupported operator '" + n.domain() + "." + t + "' (supported: " + k_supported + ")");
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
        if (t == "Constant") return constant(n);
        fail("unsupported operator '" + t + "' (supported: " + k_supported + ")");
    }

    void conv(const onnx::NodeProto& n, int index) {
        const attributes a(*this, n, {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"});
        const int x = activation(n, 0);
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
        rebind(n.output(0), x);
    }

    /// The folded node's output now stands for layer id (the fused layer).
    void rebind(const std::string& out, int id) {
        if (m_values.count(out) != 0 || m_tensors.count(out) != 0) fail("value '" + out + "' is defined twice");
        m_values[out] = id;
        m_meta[static_cast<std::size_t>(id)].out_value = out;
    }

    /// A linear layer over the flattened producer x with weights w[o][i] = get(o, i).
    template <class Get>
    void linear(const onnx::NodeProto& n, int index, int x, const onnx::TensorProto& wt, int in_f, int out_f, Get get,
                std::vector<double> bias) {
        const std::string name = layer_name(n, index);
        const int fx = flat(x, name, n.name());
        if (at(fx).out.size() != in_f)
            fail("weight '" + wt.name() + "' expects " + std::to_string(in_f) + " inputs but the input has " +
                 std::to_string(at(fx).out.size()) + " values");
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
        bind_output(n, id);
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
        if (tensor(input_name(n, 0)) && !tensor(input_name(n, 1)))
            fail("MatMul with the weight as the first operand is not supported (expected activation x weight)");
        const int x = activation(n, 0);
        const onnx::TensorProto& wt = weight_input(n, 1, "weight");
        if (wt.dims_size() != 2) fail("MatMul weight '" + wt.name() + "' must have 2 dims (in, out)");
        const std::vector<double> wv = floats(wt);
        const int in_f = extent(wt.dims(0), 1, "MatMul input features");
        const int out_f = extent(wt.dims(1), 1, "MatMul output features");
        const auto uo = static_cast<std::size_t>(out_f);
        linear(n, index, x, wt, in_f, out_f, [&](int o, int i) { return wv[i * uo + o]; }, {});
    }

    void add(const onnx::NodeProto& n, int index) {
        const attributes a(*this, n, {});
        if (n.input_size() != 2) fail("Add needs exactly 2 inputs");
        const onnx::TensorProto* ta = tensor(input_name(n, 0));
        const onnx::TensorProto* tb = tensor(input_name(n, 1));
        if (ta && tb) fail("Add of two constants is not supported (fold constants before export)");
        if (ta || tb) {
            // A bias after MatMul (or a second one after Gemm): fold it, the IR adds biases in the accumulator.
            const int act_i = ta ? 1 : 0;
            const std::string& v = input_name(n, act_i);
            const int x = activation(n, act_i);
            if (at(x).kind != op::linear || !sole_output(x, v))
                fail("Add of a constant is supported only as the bias of a Gemm/MatMul whose output it alone reads");
            layer& l = at(x);
            const std::vector<double> b = bias_of(ta ? *ta : *tb, l.out_channels);
            if (l.bias.empty()) l.bias.assign(b.size(), 0.0);
            for (std::size_t o = 0; o < b.size(); ++o) l.bias[o] += b[o];
            if (n.output_size() < 1 || n.output(0).empty()) fail("Add has no output");
            rebind(n.output(0), x);
            return;
        }
        const int x0 = activation(n, 0), x1 = activation(n, 1);
        layer l;
        l.kind = op::add;
        l.name = layer_name(n, index);
        bind_output(n, add_layer(std::move(l), {x0, x1}, n.name()));
    }

    void simple(const onnx::NodeProto& n, int index, op kind, std::initializer_list<const char*> allowed) {
        const attributes a(*this, n, allowed);
        const int x = activation(n, 0);
        layer l;
        l.kind = kind;
        l.name = layer_name(n, index);
        bind_output(n, add_layer(std::move(l), {x}, n.name()));
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
        simple(n, index, op::flatten, {"axis"});
    }

    void reshape(const onnx::NodeProto& n, int index) {
        const attributes a(*this, n, {"allowzero"});
        const int x = activation(n, 0);
        const std::vector<std::int64_t> s = ints(weight_input(n, 1, "shape"));
        const std::int64_t size = at(x).out.size();
        const bool allowzero = a.i("allowzero", 0) != 0;
        // (N, -1), (N, C*H*W), (0, -1) [0 copies N], (-1, C*H*W): a flatten per image, whatever N is.
        const bool ok = s.size() == 2 && !(allowzero && (s[0] == 0 || s[1] == 0)) &&
                        ((s[1] == -1 && s[0] != -1 && s[0] >= 0) || (s[1] == size && s[0] >= -1));
        if (!ok) {
            std::string shown;
            for (std::size_t i = 0; i < s.size() && i < 8; ++i) shown += (i ? "," : "") + std::to_string(s[i]);
            fail("unsupported Reshape to (" + shown + "): only a flatten to (N, -1) or (N, " + std::to_string(size) +
                 ") is supported");
        }
        layer l;
        l.kind = op::flatten;
        l.name = layer_name(n, index);
        bind_output(n, add_layer(std::move(l), {x}, n.name()));
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
        if (!j.contains("format") || j.at("format") != "cimtlm.quant/1")
            fail_at("cimtlm.quant.format", "expected \"cimtlm.quant/1\"");
        const unsigned wb = bits(j, "weight_bits", 2);
        const unsigned ib = bits(j, "input_bits", 1);
        const double input_scale = positive(j, "input_scale", "cimtlm.quant");
        const json layers = j.contains("layers") ? j.at("layers") : json::object();
        const json adds = j.contains("adds") ? j.at("adds") : json::object();
        if (!layers.is_object()) fail_at("cimtlm.quant.layers", "must be an object");
        if (!adds.is_object()) fail_at("cimtlm.quant.adds", "must be an object");
        const double m = static_cast<double>((1 << (wb - 1)) - 1);

        std::set<std::string> used_layers, used_adds;
        for (std::size_t i = 0; i < m_g.layers.size(); ++i) {
            layer& l = m_g.layers[i];
            const double in_scale = i == 0 ? 0.0 : m_g.layers[static_cast<std::size_t>(l.input_ids[0])].out_scale;
            switch (l.kind) {
                case op::input: l.out_scale = input_scale; break;
                case op::relu:
                case op::max_pool:
                case op::avg_pool:
                case op::flatten: l.out_scale = in_scale; break;
                case op::add: {
                    const std::string name = m_meta[i].node_name.empty() ? l.name : m_meta[i].node_name;
                    const std::string key = "cimtlm.quant.adds." + name;
                    if (!adds.contains(name)) fail_at(key, "missing: the Add '" + name + "' needs its out_scale");
                    l.out_scale = positive(adds.at(name), "out_scale", key);
                    used_adds.insert(name);
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
                    l.qweights.resize(l.fweights.size());
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
                        l.qweights[k] = static_cast<std::int32_t>(q);
                    }
                    break;
                }
            }
        }
        // Entries that match nothing are a mismatch between the metadata and the model (a renamed tensor).
        for (const auto& [name, v] : layers.items())
            if (used_layers.count(name) == 0)
                fail_at("cimtlm.quant.layers." + name, "no weight layer of the model uses an initializer of this name");
        for (const auto& [name, v] : adds.items())
            if (used_adds.count(name) == 0) fail_at("cimtlm.quant.adds." + name, "no Add node of the model has this name");
        m_g.quantized = true;
        m_g.weight_bits = wb;
        m_g.input_bits = ib;
    }

    const std::string m_path;
    onnx::ModelProto m_model;
    graph m_g;
    std::vector<layer_meta> m_meta;                            // parallel to m_g.layers
    std::map<std::string, const onnx::TensorProto*> m_tensors;  // initializers, Constant outputs (owned by m_model)
    std::map<std::string, int> m_values;                        // activation value -> IR layer
    std::map<std::string, int> m_consumers;                     // value -> number of readers
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
