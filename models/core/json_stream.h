#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cim {

/// Writes one JSON document piece by piece, in exactly the text nlohmann's dump(indent) (indent >= 0) or dump()
/// (indent < 0) gives for the same document, so a report of megabytes is never built in memory first. Scalars and
/// small sub-documents go through nlohmann's own serializer, so numbers and strings read as dump writes them.
///
/// Every number is checked as cim::check_finite checks a document: a non-finite one throws cim::model_error keyed by
/// its JSON path (an array element that is an object is named by its string `path` or `name` member when that was
/// written before the number, else by its index), naming `what`.
class json_stream {
public:
    using json = nlohmann::ordered_json;

    json_stream(std::ostream& os, int indent, std::string what);

    void begin_object();
    void end_object();
    void begin_array();
    void end_array();
    /// The next member's key (inside an object).
    json_stream& key(std::string_view k);

    void value(double v);
    void value(std::int64_t v);
    void value(std::uint64_t v);
    void value(int v) { value(static_cast<std::int64_t>(v)); }
    void value(unsigned v) { value(static_cast<std::uint64_t>(v)); }
    void value(bool v);
    void value(std::string_view v);
    void value(const char* v) { value(std::string_view(v)); }
    void value(const std::string& v) { value(std::string_view(v)); }
    void null();
    /// Any sub-document, checked and written at the current depth.
    void value(const json& v);

    /// A member: key(k) then value(v).
    template <class T>
    void member(std::string_view k, const T& v) {
        key(k);
        value(v);
    }

private:
    struct frame {
        bool object;
        std::size_t count = 0;
        std::string key;   // the member being written (objects)
        std::string name;  // an array element's `path` or `name` member, once written
    };
    void before_value();
    /// A member's or element's separator in frame f: a comma after the first, then (indented) a new line.
    void separate(frame& f);
    /// A new line, indented to the current depth.
    void newline_indent();
    void open(char c, bool object);
    void close(char c);
    void write_string(std::string_view s);
    /// The JSON path of the value written next (`next`, when known, names an array element).
    std::string path(const json* next) const;
    void check(const json& v);
    void check(double v);

    std::ostream& m_os;
    int m_indent;
    std::string m_what;
    std::vector<frame> m_stack;
    std::string m_spaces;
    nlohmann::detail::serializer<json> m_ser;
};

}  // namespace cim
