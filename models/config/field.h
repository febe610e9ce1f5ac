#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>
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
///           v("read_pulse", read_pulse, unit::second, "read pulse width");   // quantity in SI
///           v.choice("readout", readout, {"parallel", "sequential"}, "read-out scheme");
///           v("child", child, "the child block");                           // nested struct
///       }
///       void validate() const;  // throws cim::config_error(key relative to this struct)
///   };
///
/// Every visitor (YAML reader, --set override, JSON echo, parameter docs) derives from
/// visitor<Derived> and implements leaf(), quantity(), choice() and child().

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

template <class Derived>
class visitor {
public:
    template <class T>
    void operator()(const char* name, T& field, const char* desc) {
        if constexpr (is_leaf_v<T>) {
            self().leaf(name, field, desc);
        } else {
            self().child(name, field, desc);
        }
    }
    void operator()(const char* name, double& field, unit u, const char* desc) { self().quantity(name, field, u, desc); }
    void choice(const char* name, std::string& field, std::initializer_list<const char*> choices, const char* desc) {
        std::vector<std::string> c(choices.begin(), choices.end());
        self().choice_impl(name, field, c, desc);
    }

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

/// Parse one scalar text into a leaf of type T; throws std::invalid_argument with a short reason.
template <class T>
T parse_scalar(const std::string& text);

}  // namespace cim::cfg
