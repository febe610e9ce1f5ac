#pragma once
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "models/core/units.h"

namespace cim::cfg {

/// The one protocol every config struct speaks:
///
///   struct config {
///       unsigned rows = 128;
///       double read_pulse = 10e-9;
///       std::string readout = "parallel";
///       child::config child;
///       template <class V> void visit(V& v) {
///           v("rows", rows, "word lines per subarray");                     // plain value
///           v("bits", bits, range{1, 8}, "bits per cell");                   // plain value with its range
///           v("read_pulse", read_pulse, unit::second, "read pulse width");   // quantity in SI
///           v("r_on", r_on, unit::ohm, range{1e2, 1e10}, "on resistance");   // quantity with its range
///           v.choice("readout", readout, {"parallel", "sequential"}, "read-out scheme");
///           v("child", child, "the child block");                           // nested struct
///       }
///       void validate() const;  // throws cim::config_error(key relative to this struct)
///   };
///
/// A key that was renamed stays declared as `v.renamed("old", "new")`: the readers (YAML and --set) then refuse the
/// old key with one line that names the new one, where they would report an unknown key; other visitors ignore it.
///
/// Every visitor (YAML reader, --set override, JSON echo, parameter docs, range check) derives from
/// visitor<Derived> and implements leaf(name, field, range, desc), quantity(name, field, unit, range, desc),
/// choice_impl() and child(). A number that declares no range gets the envelope of its unit (default_range) or,
/// for an integer, of its type; the readers check every value against its range after unit conversion, so a
/// value out of range is an error naming the file, the line and the key before anything runs.

template <class T>
inline constexpr bool is_leaf_v = std::is_arithmetic_v<T> || std::is_same_v<T, std::string>;

template <class T, class = void>
struct has_validate : std::false_type {};
template <class T>
struct has_validate<T, std::void_t<decltype(std::declval<const T&>().validate())>> : std::true_type {};

/// Call validate() when the struct has one.
template <class T>
void validate_if_any(const T& t) {
    if constexpr (has_validate<T>::value) t.validate();
}

/// The range a leaf of type T has when it declares none: the unit-less envelope for a floating-point number, the
/// type's own limits for an integer, and none (declared = false, unbounded) for bool and string.
template <class T>
range default_range_of() {
    if constexpr (std::is_floating_point_v<T>) {
        return default_range(unit::none);
    } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        range r{static_cast<double>(std::numeric_limits<T>::lowest()), static_cast<double>(std::numeric_limits<T>::max())};
        r.declared = false;
        return r;
    } else {
        range r{-std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
        r.declared = false;
        return r;
    }
}

template <class Derived>
class visitor {
public:
    template <class T>
    void operator()(const char* name, T& field, const char* desc) {
        if constexpr (is_leaf_v<T>) {
            self().leaf(name, field, default_range_of<T>(), desc);
        } else {
            self().child(name, field, desc);
        }
    }
    template <class T>
    void operator()(const char* name, T& field, const range& r, const char* desc) {
        static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>, "a range applies to a number");
        self().leaf(name, field, r, desc);
    }
    void operator()(const char* name, double& field, unit u, const char* desc) {
        self().quantity(name, field, u, default_range(u), desc);
    }
    void operator()(const char* name, double& field, unit u, const range& r, const char* desc) {
        self().quantity(name, field, u, r, desc);
    }
    void choice(const char* name, std::string& field, std::initializer_list<const char*> choices, const char* desc) {
        std::vector<std::string> c(choices.begin(), choices.end());
        self().choice_impl(name, field, c, desc);
    }
    /// A key that was renamed: no field; the readers hide this with their own renamed() and refuse the old name.
    void renamed(const char* /*old_name*/, const char* /*new_name*/) {}

private:
    Derived& self() { return static_cast<Derived&>(*this); }
};

/// Type name for docs.
template <class T>
const char* type_name() {
    if constexpr (std::is_same_v<T, bool>) return "bool";
    else if constexpr (std::is_same_v<T, std::string>) return "string";
    else if constexpr (std::is_floating_point_v<T>) return "number";
    else if constexpr (std::is_unsigned_v<T>) return "unsigned";
    else return "integer";
}

/// Edit distance, for "did you mean" suggestions.
std::size_t edit_distance(const std::string& a, const std::string& b);

/// The candidate nearest to `key`, or "" when none is reasonably close.
std::string nearest(const std::string& key, const std::vector<std::string>& candidates);

/// Old and new names of the renamed keys of one section (visitor::renamed).
using renamed_keys = std::vector<std::pair<std::string, std::string>>;

/// The message for `key` when it is an old name in `renamed` ("'trace' was renamed: it is now run.activity", with
/// the section `path` put before the new name), else "".
std::string renamed_message(const std::string& key, const std::string& path, const renamed_keys& renamed);

/// Parse one scalar text into a leaf of type T; throws std::invalid_argument with a short reason.
template <class T>
T parse_scalar(const std::string& text);

/// "" when `value` (of unit u; integer for integer leaves) lies in `r`, else the reason, e.g.
/// "1e+30 Ohm is outside [0 Ohm, 1 TOhm]" (or "... its physical envelope [...]" for a default range).
std::string range_violation(double value, const range& r, unit u, bool integer);

/// Checks every number of a config struct (children included) against its declared range; throws
/// cim::config_error with the dotted key relative to the struct. For validate() of configs built in code, which
/// no reader checked.
class range_checker : public visitor<range_checker> {
public:
    explicit range_checker(std::string prefix = "") : m_prefix(std::move(prefix)) {}
    template <class T>
    void leaf(const char* name, T& field, const range& r, const char*) {
        if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
            fail_if(name, range_violation(static_cast<double>(field), r, unit::none, std::is_integral_v<T>));
    }
    void quantity(const char* name, double& field, unit u, const range& r, const char*) {
        fail_if(name, range_violation(field, r, u, false));
    }
    void choice_impl(const char*, std::string&, const std::vector<std::string>&, const char*) {}
    template <class S>
    void child(const char* name, S& s, const char*) {
        range_checker sub(key(name));
        s.visit(sub);
    }

private:
    std::string key(const char* name) const { return m_prefix.empty() ? name : m_prefix + "." + name; }
    void fail_if(const char* name, const std::string& why) const;
    std::string m_prefix;
};

/// range_checker over a copy of `s` (visit() hands out references, so it is not const).
template <class S>
void check_ranges(const S& s) {
    S copy = s;
    range_checker c;
    copy.visit(c);
}

}  // namespace cim::cfg
