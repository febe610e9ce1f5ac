// The NPY header reader; why it is not xtensor's xnpy.hpp: npy_header.h and docs/architecture.md (Libraries).
#include "models/dataset/npy_header.h"

#include <cctype>
#include <limits>
#include <memory>

#include "models/core/error.h"

namespace cim::dataset {
namespace {

/// A Python literal as numpy writes it in a header. Only what a header can hold.
struct py_value {
    enum class type { string, integer, boolean, none, tuple, list, dict } kind = type::none;
    std::string text;               // string
    std::int64_t integer = 0;       // integer
    bool boolean = false;           // boolean
    std::vector<py_value> items;    // tuple, list, dict values
    std::vector<std::string> keys;  // dict keys (string keys only: a header has no other)
};

const char* type_name(py_value::type t) {
    switch (t) {
        case py_value::type::string: return "a string";
        case py_value::type::integer: return "an integer";
        case py_value::type::boolean: return "a bool";
        case py_value::type::none: return "None";
        case py_value::type::tuple: return "a tuple";
        case py_value::type::list: return "a list";
        case py_value::type::dict: return "a dict";
    }
    return "?";
}

/// Recursive descent over the header text. Errors give the column so a hand-written header can be fixed.
class literal_parser {
public:
    literal_parser(const std::string& text, const std::string& file) : m_text(text), m_file(file) {}

    py_value parse_document() {
        py_value v = parse_value(0);
        skip_space();
        if (m_pos != m_text.size()) fail("unexpected '" + std::string(1, m_text[m_pos]) + "' after the dict");
        return v;
    }

private:
    // Headers are a few hundred bytes; the bound only stops a hostile file from exhausting the stack.
    static constexpr int k_max_depth = 32;

    [[noreturn]] void fail(const std::string& what) const {
        throw config_error(m_file, 0, "npy header",
                           "malformed NPY header at column " + std::to_string(m_pos + 1) + ": " + what +
                               " (header: " + m_text + ")");
    }

    void skip_space() {
        while (m_pos < m_text.size() && std::isspace(static_cast<unsigned char>(m_text[m_pos]))) ++m_pos;
    }

    bool eat(char ch) {
        skip_space();
        if (m_pos < m_text.size() && m_text[m_pos] == ch) {
            ++m_pos;
            return true;
        }
        return false;
    }

    py_value parse_value(int depth) {
        if (depth > k_max_depth) fail("nesting too deep");
        skip_space();
        if (m_pos >= m_text.size()) fail("unexpected end of header");
        const char ch = m_text[m_pos];
        if (ch == '\'' || ch == '"') return parse_string();
        if (ch == '(') return parse_sequence(py_value::type::tuple, ')', depth);
        if (ch == '[') return parse_sequence(py_value::type::list, ']', depth);
        if (ch == '{') return parse_dict(depth);
        if (ch == '-' || ch == '+' || std::isdigit(static_cast<unsigned char>(ch))) return parse_integer();
        if (std::isalpha(static_cast<unsigned char>(ch))) return parse_name();
        fail("unexpected '" + std::string(1, ch) + "'");
    }

    py_value parse_string() {
        const char quote = m_text[m_pos++];
        py_value v;
        v.kind = py_value::type::string;
        while (true) {
            if (m_pos >= m_text.size()) fail("unterminated string");
            char ch = m_text[m_pos++];
            if (ch == quote) break;
            if (ch == '\\') {
                if (m_pos >= m_text.size()) fail("unterminated string");
                ch = m_text[m_pos++];  // \\ \' \" are all a header can need
            }
            v.text += ch;
        }
        return v;
    }

    py_value parse_integer() {
        py_value v;
        v.kind = py_value::type::integer;
        bool negative = false;
        if (m_text[m_pos] == '-' || m_text[m_pos] == '+') negative = m_text[m_pos++] == '-';
        if (m_pos >= m_text.size() || !std::isdigit(static_cast<unsigned char>(m_text[m_pos]))) {
            fail("expected digits");
        }
        std::uint64_t value = 0;
        while (m_pos < m_text.size() && std::isdigit(static_cast<unsigned char>(m_text[m_pos]))) {
            const auto digit = static_cast<std::uint64_t>(m_text[m_pos++] - '0');
            if (value > (static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) - digit) / 10) {
                fail("integer too large");
            }
            value = value * 10 + digit;
        }
        // Python 2 numpy wrote long dimensions as 10L.
        if (m_pos < m_text.size() && (m_text[m_pos] == 'L' || m_text[m_pos] == 'l')) ++m_pos;
        if (m_pos < m_text.size() && std::isalnum(static_cast<unsigned char>(m_text[m_pos]))) {
            fail("not an integer");
        }
        v.integer = negative ? -static_cast<std::int64_t>(value) : static_cast<std::int64_t>(value);
        return v;
    }

    py_value parse_name() {
        const std::size_t start = m_pos;
        while (m_pos < m_text.size() && (std::isalnum(static_cast<unsigned char>(m_text[m_pos])) ||
                                         m_text[m_pos] == '_')) {
            ++m_pos;
        }
        const std::string name = m_text.substr(start, m_pos - start);
        py_value v;
        if (name == "True" || name == "False") {
            v.kind = py_value::type::boolean;
            v.boolean = name == "True";
        } else if (name == "None") {
            v.kind = py_value::type::none;
        } else {
            m_pos = start;
            fail("unknown name '" + name + "'");
        }
        return v;
    }

    py_value parse_sequence(py_value::type kind, char close, int depth) {
        ++m_pos;  // opening bracket
        py_value v;
        v.kind = kind;
        bool trailing_comma = false;
        while (!eat(close)) {
            if (!v.items.empty() && !trailing_comma) fail(std::string("expected ',' or '") + close + "'");
            v.items.push_back(parse_value(depth + 1));
            trailing_comma = eat(',');
        }
        // (3) is an int in Python, not a tuple; a shape must be written (3,).
        if (kind == py_value::type::tuple && v.items.size() == 1 && !trailing_comma) return v.items.front();
        return v;
    }

    py_value parse_dict(int depth) {
        ++m_pos;  // {
        py_value v;
        v.kind = py_value::type::dict;
        bool trailing_comma = false;
        while (!eat('}')) {
            if (!v.items.empty() && !trailing_comma) fail("expected ',' or '}'");
            skip_space();
            const py_value key = parse_value(depth + 1);
            if (key.kind != py_value::type::string) fail("dict keys must be strings");
            for (const auto& k : v.keys) {
                if (k == key.text) fail("duplicate key '" + k + "'");
            }
            if (!eat(':')) fail("expected ':' after key '" + key.text + "'");
            v.keys.push_back(key.text);
            v.items.push_back(parse_value(depth + 1));
            trailing_comma = eat(',');
        }
        return v;
    }

    const std::string& m_text;
    const std::string& m_file;
    std::size_t m_pos = 0;
};

std::uint32_t little_endian(const std::string& b, std::size_t at, int bytes) {
    std::uint32_t v = 0;
    for (int k = bytes - 1; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<std::size_t>(k)]);
    return v;
}

}  // namespace

int npy_header::item_size() const {
    if (descr.size() < 3) return 0;
    int size = 0;
    for (std::size_t k = 2; k < descr.size(); ++k) {
        if (!std::isdigit(static_cast<unsigned char>(descr[k])) || size > 1000) return 0;
        size = size * 10 + (descr[k] - '0');
    }
    return size;
}

std::int64_t npy_header::count() const {
    // Saturates instead of overflowing, so a hostile shape reads as "too big" rather than wrapping to small.
    std::int64_t n = 1;
    for (std::int64_t d : shape) {
        if (d != 0 && n > std::numeric_limits<std::int64_t>::max() / d) return std::numeric_limits<std::int64_t>::max();
        n *= d;
    }
    return n;
}

std::string npy_header::shape_text() const {
    std::string s = "(";
    for (std::size_t k = 0; k < shape.size(); ++k) {
        if (k > 0) s += ", ";
        s += std::to_string(shape[k]);
    }
    if (shape.size() == 1) s += ",";
    return s + ")";
}

npy_header parse_npy_header(const std::string& bytes, const std::string& file) {
    static const std::string magic = "\x93NUMPY";
    if (bytes.size() < 10 || bytes.compare(0, magic.size(), magic) != 0) {
        throw config_error(file, 0, "", "not an NPY file: it does not start with the magic \\x93NUMPY");
    }
    npy_header h;
    h.major = static_cast<unsigned char>(bytes[6]);
    h.minor = static_cast<unsigned char>(bytes[7]);
    std::size_t length_bytes = 0;
    if (h.major == 1) {
        length_bytes = 2;
    } else if (h.major == 2 || h.major == 3) {
        length_bytes = 4;  // 3.0 only differs by allowing UTF-8 in the dict, which this parser passes through
    } else {
        throw config_error(file, 0, "",
                           "unsupported NPY format version " + std::to_string(h.major) + "." +
                               std::to_string(h.minor) + " (supported: 1.0, 2.0, 3.0)");
    }
    const std::size_t preamble = 8 + length_bytes;
    if (bytes.size() < preamble) {
        throw config_error(file, 0, "", "truncated NPY header: " + std::to_string(bytes.size()) + " bytes");
    }
    const std::size_t length = little_endian(bytes, 8, static_cast<int>(length_bytes));
    if (bytes.size() < preamble + length) {
        throw config_error(file, 0, "",
                           "truncated NPY header: expected " + std::to_string(preamble + length) +
                               " bytes of header, the file has " + std::to_string(bytes.size()));
    }
    h.data_offset = preamble + length;
    const std::string text = bytes.substr(preamble, length);

    const py_value dict = literal_parser(text, file).parse_document();
    auto bad = [&](const std::string& what) {
        return config_error(file, 0, "npy header", what + " (header: " + text + ")");
    };
    if (dict.kind != py_value::type::dict) throw bad("the header is not a dict");
    bool have_descr = false, have_order = false, have_shape = false;
    for (std::size_t k = 0; k < dict.keys.size(); ++k) {
        const std::string& key = dict.keys[k];
        const py_value& v = dict.items[k];
        if (key == "descr") {
            if (v.kind == py_value::type::list) {
                throw bad("structured dtypes (a list 'descr') are not supported; save a plain numeric array");
            }
            if (v.kind != py_value::type::string) {
                throw bad("'descr' is " + std::string(type_name(v.kind)) + ", expected a string");
            }
            h.descr = v.text;
            have_descr = true;
        } else if (key == "fortran_order") {
            if (v.kind != py_value::type::boolean) {
                throw bad("'fortran_order' is " + std::string(type_name(v.kind)) + ", expected True or False");
            }
            h.fortran_order = v.boolean;
            have_order = true;
        } else if (key == "shape") {
            if (v.kind != py_value::type::tuple) {
                throw bad("'shape' is " + std::string(type_name(v.kind)) + ", expected a tuple");
            }
            for (const py_value& d : v.items) {
                if (d.kind != py_value::type::integer || d.integer < 0) throw bad("'shape' holds a non-dimension");
                h.shape.push_back(d.integer);
            }
            have_shape = true;
        } else {
            // numpy itself rejects extra keys: a header we do not fully understand may mean different bytes.
            throw bad("unexpected key '" + key + "' (an NPY header has exactly 'descr', 'fortran_order', 'shape')");
        }
    }
    if (!have_descr || !have_order || !have_shape) {
        throw bad(std::string("missing key '") + (!have_descr ? "descr" : !have_order ? "fortran_order" : "shape") +
                  "'");
    }
    return h;
}

}  // namespace cim::dataset
