#include "models/config/field.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "models/core/error.h"

namespace cim::cfg {

std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string nearest(const std::string& key, const std::vector<std::string>& candidates) {
    std::string best;
    std::size_t best_d = std::numeric_limits<std::size_t>::max();
    for (const auto& c : candidates) {
        const std::size_t d = edit_distance(key, c);
        if (d < best_d) { best_d = d; best = c; }
    }
    // Close enough: at most half the key's length (and at least 2 edits allowed).
    if (best.empty() || best_d > std::max<std::size_t>(2, key.size() / 2)) return "";
    return best;
}

std::string renamed_message(const std::string& key, const std::string& path, const renamed_keys& renamed) {
    for (const auto& [old_name, new_name] : renamed)
        if (key == old_name) return "'" + key + "' was renamed: it is now " + (path.empty() ? "" : path + ".") + new_name;
    return "";
}

namespace {

std::string strip(const std::string& s) {
    std::size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    std::size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

template <class I>
I parse_integer(const std::string& raw) {
    const std::string s = strip(raw);
    if (s.empty()) throw std::invalid_argument("empty value, expected an integer");
    errno = 0;
    char* end = nullptr;
    if constexpr (std::is_unsigned_v<I>) {
        if (s[0] == '-') throw std::invalid_argument("'" + s + "' is negative");
        const unsigned long long v = std::strtoull(s.c_str(), &end, 0);
        if (end == s.c_str() || *end != '\0') throw std::invalid_argument("'" + s + "' is not an integer");
        if (errno == ERANGE || v > std::numeric_limits<I>::max()) throw std::invalid_argument("'" + s + "' is too large");
        return static_cast<I>(v);
    } else {
        const long long v = std::strtoll(s.c_str(), &end, 0);
        if (end == s.c_str() || *end != '\0') throw std::invalid_argument("'" + s + "' is not an integer");
        if (errno == ERANGE || v > std::numeric_limits<I>::max() || v < std::numeric_limits<I>::min())
            throw std::invalid_argument("'" + s + "' is out of range");
        return static_cast<I>(v);
    }
}

}  // namespace

template <>
bool parse_scalar<bool>(const std::string& raw) {
    const std::string s = strip(raw);
    if (s == "true" || s == "yes" || s == "on" || s == "1") return true;
    if (s == "false" || s == "no" || s == "off" || s == "0") return false;
    throw std::invalid_argument("'" + s + "' is not a boolean (true/false)");
}
template <>
std::string parse_scalar<std::string>(const std::string& raw) { return raw; }
template <>
double parse_scalar<double>(const std::string& raw) { return parse_quantity(raw, unit::none); }
template <>
float parse_scalar<float>(const std::string& raw) { return static_cast<float>(parse_quantity(raw, unit::none)); }
template <>
int parse_scalar<int>(const std::string& raw) { return parse_integer<int>(raw); }
template <>
unsigned parse_scalar<unsigned>(const std::string& raw) { return parse_integer<unsigned>(raw); }
template <>
long parse_scalar<long>(const std::string& raw) { return parse_integer<long>(raw); }
template <>
unsigned long parse_scalar<unsigned long>(const std::string& raw) { return parse_integer<unsigned long>(raw); }
template <>
long long parse_scalar<long long>(const std::string& raw) { return parse_integer<long long>(raw); }
template <>
unsigned long long parse_scalar<unsigned long long>(const std::string& raw) {
    return parse_integer<unsigned long long>(raw);
}

std::string range_violation(double value, const range& r, unit u, bool integer) {
    if (r.contains(value)) return "";
    if (!std::isfinite(value)) return "the value is not finite";
    // Far outside every prefix, "1e+30 Ohm" reads better than "1e+18 TOhm".
    const double a = std::fabs(value);
    std::string v = integer ? fmt::format("{:.0f}", value) : format_quantity(value, u);
    if (!integer && (a >= 1e15 || (a > 0 && a < 1e-18)))
        v = fmt::format("{:g}", value) + (u == unit::none ? "" : " " + std::string(unit_symbol(u)));
    return v + " is outside " + (r.declared ? "its range " : "the physical envelope of its unit ") +
           format_range(r, u, integer);
}

void range_checker::fail_if(const char* name, const std::string& why) const {
    if (!why.empty()) throw config_error("", 0, key(name), why);
}

}  // namespace cim::cfg
