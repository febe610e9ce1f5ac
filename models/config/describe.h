#pragma once
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "models/config/field.h"

namespace cim::cfg {

/// One documented parameter: dotted path, unit or type, default, description and range.
struct param_doc {
    std::string path;
    std::string kind;  // unit symbol, type name, or "one of: a|b"
    std::string default_value;
    std::string description;
    std::string range;  // checked after unit conversion: "[0 Ohm, 1 TOhm]"; "" for choices, strings and bools
    bool range_declared = false;  // false: the envelope of the unit or the limits of the type
};

/// Collects the documentation of every parameter from a default-constructed config tree.
class doc_collector : public visitor<doc_collector> {
public:
    doc_collector(std::vector<param_doc>& out, std::string prefix) : m_out(out), m_prefix(std::move(prefix)) {}
    template <class T>
    void leaf(const char* name, T& field, const range& r, const char* desc) {
        std::ostringstream os;
        if constexpr (std::is_same_v<T, bool>) os << (field ? "true" : "false");
        else if constexpr (std::is_same_v<T, std::string>) os << '"' << field << '"';
        else os << field;
        std::string rt;
        if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
            rt = format_range(r, unit::none, std::is_integral_v<T>);
        m_out.push_back({path(name), type_name<T>(), os.str(), desc, rt, r.declared});
    }
    void quantity(const char* name, double& field, unit u, const range& r, const char* desc) {
        m_out.push_back({path(name), u == unit::none ? "number" : std::string(unit_symbol(u)),
                         format_quantity(field, u), desc, format_range(r, u), r.declared});
    }
    void choice_impl(const char* name, std::string& field, const std::vector<std::string>& choices, const char* desc) {
        std::string kind = "one of:";
        for (std::size_t i = 0; i < choices.size(); ++i) kind += (i ? "|" : " ") + choices[i];
        m_out.push_back({path(name), kind, '"' + field + '"', desc, "", false});
    }
    template <class S>
    void child(const char* name, S& s, const char* desc) {
        m_out.push_back({path(name), "section", "", desc, "", false});
        doc_collector sub(m_out, path(name));
        s.visit(sub);
    }

private:
    std::string path(const char* name) const { return m_prefix.empty() ? name : m_prefix + "." + name; }
    std::vector<param_doc>& m_out;
    std::string m_prefix;
};

template <class S>
std::vector<param_doc> describe(const S& s) {
    std::vector<param_doc> out;
    doc_collector c(out, "");
    S copy = s;
    copy.visit(c);
    return out;
}

}  // namespace cim::cfg
