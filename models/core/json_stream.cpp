#include "models/core/json_stream.h"

#include <cmath>

#include "models/core/check_finite.h"
#include "models/core/error.h"

namespace cim {

json_stream::json_stream(std::ostream& os, int indent, std::string what)
    : m_os(os), m_indent(indent), m_what(std::move(what)), m_ser(nlohmann::detail::output_adapter<char>(os), ' ') {}

void json_stream::newline_indent() {
    m_os.put('\n');
    const std::size_t n = static_cast<std::size_t>(m_indent) * m_stack.size();
    if (m_spaces.size() < n) m_spaces.resize(n, ' ');
    m_os.write(m_spaces.data(), static_cast<std::streamsize>(n));
}

void json_stream::separate(frame& f) {
    if (f.count) m_os.put(',');
    if (m_indent >= 0) newline_indent();
    ++f.count;
}

void json_stream::before_value() {
    if (m_stack.empty() || m_stack.back().object) return;  // top level, or key() wrote the separator
    separate(m_stack.back());
}

json_stream& json_stream::key(std::string_view k) {
    if (m_stack.empty() || !m_stack.back().object) throw std::logic_error("json_stream: a key outside an object");
    frame& f = m_stack.back();
    separate(f);
    f.key.assign(k.data(), k.size());
    write_string(k);
    if (m_indent >= 0) m_os.write(": ", 2);
    else m_os.put(':');
    return *this;
}

void json_stream::open(char c, bool object) {
    before_value();
    m_os.put(c);
    m_stack.push_back(frame{object, 0, {}, {}});
}

void json_stream::close(char c) {
    const std::size_t count = m_stack.back().count;
    m_stack.pop_back();
    if (count && m_indent >= 0) newline_indent();
    m_os.put(c);
}

void json_stream::begin_object() { open('{', true); }
void json_stream::end_object() { close('}'); }
void json_stream::begin_array() { open('[', false); }
void json_stream::end_array() { close(']'); }

void json_stream::write_string(std::string_view s) {
    bool plain = true;
    for (char c : s) plain = plain && c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    if (!plain) {  // escapes and UTF-8 as nlohmann writes (and checks) them
        m_ser.dump(json(std::string(s)), false, false, 0);
        return;
    }
    m_os.put('"');
    m_os.write(s.data(), static_cast<std::streamsize>(s.size()));
    m_os.put('"');
}

void json_stream::value(std::string_view v) {
    before_value();
    // An array element's name, for the path of a non-finite number later in it.
    if (m_stack.size() >= 2 && m_stack.back().object && !m_stack[m_stack.size() - 2].object && !v.empty() &&
        m_stack.back().name.empty() && (m_stack.back().key == "path" || m_stack.back().key == "name"))
        m_stack.back().name.assign(v.data(), v.size());
    write_string(v);
}

void json_stream::value(double v) {
    check(v);
    before_value();
    m_ser.dump(json(v), false, false, 0);
}

void json_stream::value(std::int64_t v) {
    before_value();
    m_ser.dump(json(v), false, false, 0);
}

void json_stream::value(std::uint64_t v) {
    before_value();
    m_ser.dump(json(v), false, false, 0);
}

void json_stream::value(bool v) {
    before_value();
    if (v) m_os.write("true", 4);
    else m_os.write("false", 5);
}

void json_stream::null() {
    before_value();
    m_os.write("null", 4);
}

void json_stream::value(const json& v) {
    check(v);
    before_value();
    const auto depth = static_cast<unsigned>(m_indent >= 0 ? m_indent : 0) * static_cast<unsigned>(m_stack.size());
    m_ser.dump(v, m_indent >= 0, false, static_cast<unsigned>(m_indent >= 0 ? m_indent : 0), depth);
}

std::string json_stream::path(const json* next) const {
    std::string p;
    for (std::size_t i = 0; i < m_stack.size(); ++i) {
        const frame& f = m_stack[i];
        if (f.object) {
            p = p.empty() ? f.key : p + "." + f.key;
            continue;
        }
        // An array element is named by its `path` or `name` member, else by its index.
        std::string name;
        if (i + 1 < m_stack.size()) {  // the element being written
            name = m_stack[i + 1].object ? m_stack[i + 1].name : std::string();
            if (name.empty()) name = std::to_string(f.count - 1);
        } else {  // the next element: `next`
            if (next != nullptr && next->is_object())
                for (const char* k : {"path", "name"}) {
                    const auto it = next->find(k);
                    if (it != next->end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
                        name = it->get_ref<const std::string&>();
                        break;
                    }
                }
            if (name.empty()) name = std::to_string(f.count);
        }
        p += "[" + name + "]";
    }
    return p;
}

void json_stream::check(double v) {
    if (!std::isfinite(v)) check_finite(json(v), m_what, path(nullptr));
}

void json_stream::check(const json& v) {
    if (v.is_primitive() && !v.is_number_float()) return;
    if (v.is_number_float() && std::isfinite(v.get<double>())) return;
    check_finite(v, m_what, path(&v));
}

}  // namespace cim
