#include "models/core/units.h"

#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace cim {

namespace {

struct symbol_entry {
    std::string_view symbol;
    unit dim;
};

// Accepted spellings of each unit (after an optional SI prefix).
constexpr std::array<symbol_entry, 26> k_symbols{{
    {"s", unit::second},        {"Hz", unit::hertz},          {"Ohm", unit::ohm},
    {"ohm", unit::ohm},         {"Ω", unit::ohm},             {"S", unit::siemens},
    {"m", unit::meter},         {"m^2", unit::square_meter},  {"m2", unit::square_meter},
    {"V", unit::volt},          {"A", unit::ampere},          {"F", unit::farad},
    {"J", unit::joule},         {"W", unit::watt},            {"B", unit::byte},
    {"byte", unit::byte},       {"bytes", unit::byte},        {"bit", unit::bit},
    {"bits", unit::bit},        {"A/m", unit::ampere_per_meter}, {"F/m", unit::farad_per_meter},
    {"Ohm/m", unit::ohm_per_meter}, {"ohm/m", unit::ohm_per_meter}, {"F^2", unit::feature_square},
    {"F2", unit::feature_square}, {"%", unit::none},
}};

struct prefix_entry {
    std::string_view prefix;
    double factor;
};

constexpr std::array<prefix_entry, 12> k_prefixes{{
    {"a", 1e-18}, {"f", 1e-15}, {"p", 1e-12}, {"n", 1e-9}, {"u", 1e-6}, {"µ", 1e-6},
    {"m", 1e-3}, {"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12},
}};

constexpr std::array<prefix_entry, 3> k_binary_prefixes{{{"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}}};

// Area units scale with the square of the length prefix: "um^2" = 1e-12 m^2.
bool squared_unit(unit u) { return u == unit::square_meter; }

bool try_symbol(std::string_view rest, unit& dim, double& factor) {
    for (const auto& s : k_symbols) {
        if (rest == s.symbol) {
            dim = s.dim;
            factor = (s.symbol == "%") ? 0.01 : 1.0;
            return true;
        }
    }
    for (const auto& p : k_binary_prefixes) {
        if (rest.size() > p.prefix.size() && rest.substr(0, p.prefix.size()) == p.prefix) {
            std::string_view tail = rest.substr(p.prefix.size());
            if (tail == "B" || tail == "byte" || tail == "bytes" || tail == "bit" || tail == "bits") {
                dim = (tail[0] == 'b' && tail != "byte" && tail != "bytes") ? unit::bit : unit::byte;
                factor = p.factor;
                return true;
            }
        }
    }
    for (const auto& p : k_prefixes) {
        if (rest.size() > p.prefix.size() && rest.substr(0, p.prefix.size()) == p.prefix) {
            std::string_view tail = rest.substr(p.prefix.size());
            for (const auto& s : k_symbols) {
                if (tail == s.symbol && s.symbol != "%" && s.dim != unit::feature_square) {
                    dim = s.dim;
                    factor = squared_unit(s.dim) ? p.factor * p.factor : p.factor;
                    return true;
                }
            }
        }
    }
    return false;
}

std::string trim(std::string_view s) {
    std::size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return std::string(s.substr(b, e - b));
}

}  // namespace

std::string_view unit_symbol(unit u) {
    switch (u) {
        case unit::none: return "";
        case unit::second: return "s";
        case unit::hertz: return "Hz";
        case unit::ohm: return "Ohm";
        case unit::siemens: return "S";
        case unit::meter: return "m";
        case unit::square_meter: return "m^2";
        case unit::volt: return "V";
        case unit::ampere: return "A";
        case unit::farad: return "F";
        case unit::joule: return "J";
        case unit::watt: return "W";
        case unit::byte: return "B";
        case unit::bit: return "bit";
        case unit::ampere_per_meter: return "A/m";
        case unit::farad_per_meter: return "F/m";
        case unit::ohm_per_meter: return "Ohm/m";
        case unit::feature_square: return "F^2";
    }
    return "?";
}

double parse_quantity(std::string_view text, unit expected) {
    const std::string s = trim(text);
    if (s.empty()) throw std::invalid_argument("empty value");
    const char* begin = s.c_str();
    char* end = nullptr;
    const double number = std::strtod(begin, &end);
    if (end == begin) throw std::invalid_argument("'" + s + "' is not a number");
    if (!std::isfinite(number)) throw std::invalid_argument("'" + s + "' is not finite");
    const std::string rest = trim(std::string_view(end));
    if (rest.empty()) return number;  // bare number: already SI
    unit dim = unit::none;
    double factor = 1.0;
    if (!try_symbol(rest, dim, factor)) {
        throw std::invalid_argument("unknown unit '" + rest + "' in '" + s + "'");
    }
    if (dim != expected) {
        std::string want = expected == unit::none ? std::string("a plain number")
                                                  : "a value in " + std::string(unit_symbol(expected));
        throw std::invalid_argument("'" + s + "' has unit " + std::string(unit_symbol(dim)) + ", expected " + want);
    }
    // Checked again after the prefix: "1e300 TF/m" is a finite number but 1e312 F/m is not.
    const double si = number * factor;
    if (!std::isfinite(si)) throw std::invalid_argument("'" + s + "' is not finite in SI units");
    return si;
}

std::string format_quantity(double value, unit u) {
    const std::string_view sym = unit_symbol(u);
    if (u == unit::none || u == unit::bit || u == unit::feature_square || value == 0.0 || !std::isfinite(value)) {
        std::string r = fmt::format("{:g}", value);
        if (!sym.empty()) r += " " + std::string(sym);
        return r;
    }
    if (u == unit::byte) {
        const char* names[] = {"B", "KiB", "MiB", "GiB"};
        int i = 0;
        double v = value;
        while (i < 3 && std::fabs(v) >= 1024.0 && std::fmod(v, 1024.0) == 0.0) { v /= 1024.0; ++i; }
        return fmt::format("{:g} {}", v, names[i]);
    }
    if (u == unit::square_meter) {
        return fmt::format("{:g} m^2", value);
    }
    static const struct { double f; const char* p; } scale[] = {
        {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}, {1.0, ""}, {1e-3, "m"},
        {1e-6, "u"}, {1e-9, "n"}, {1e-12, "p"}, {1e-15, "f"}, {1e-18, "a"}};
    const double a = std::fabs(value);
    for (const auto& e : scale) {
        if (a >= e.f * 0.9999999) return fmt::format("{:g} {}{}", value / e.f, e.p, sym);
    }
    return fmt::format("{:g} {}", value, sym);
}

bool range::contains(double x) const {
    if (!std::isfinite(x)) return false;
    const bool above = lo_open ? x > lo : x >= lo;
    const bool below = hi_open ? x < hi : x <= hi;
    return above && below;
}

range default_range(unit u) {
    range r;
    r.declared = false;
    switch (u) {
        case unit::none: r.lo = -1e9; r.hi = 1e9; break;          // ratios, fractions, multipliers, counts of FO4
        case unit::second: r.lo = 0; r.hi = 1e10; break;          // up to ~300 years (retention times)
        case unit::hertz: r.lo = 0; r.hi = 1e12; break;           // up to 1 THz
        case unit::ohm: r.lo = 0; r.hi = 1e12; break;             // up to 1 TOhm
        case unit::siemens: r.lo = 0; r.hi = 1e3; break;
        case unit::meter: r.lo = 0; r.hi = 1; break;
        case unit::square_meter: r.lo = 0; r.hi = 1; break;
        case unit::volt: r.lo = -100; r.hi = 100; break;
        case unit::ampere: r.lo = -1e3; r.hi = 1e3; break;
        case unit::farad: r.lo = 0; r.hi = 1; break;
        case unit::joule: r.lo = 0; r.hi = 1e3; break;
        case unit::watt: r.lo = 0; r.hi = 1e6; break;
        case unit::byte: r.lo = 0; r.hi = 0x1.0p40; break;        // up to 1 TiB
        case unit::bit: r.lo = 0; r.hi = 1e12; break;
        case unit::ampere_per_meter: r.lo = 0; r.hi = 1e6; break;  // up to 1 A/um
        case unit::farad_per_meter: r.lo = 0; r.hi = 1e-6; break;  // up to 1 pF/um
        case unit::ohm_per_meter: r.lo = 0; r.hi = 1e12; break;    // up to 1 MOhm/um
        case unit::feature_square: r.lo = 0; r.hi = 1e6; break;
    }
    return r;
}

std::string format_range(const range& r, unit u, bool integer) {
    auto bound = [&](double v) {
        if (integer) {
            // 2^64 - 1 (a std::uint64_t's limit) is not a double: print it exactly.
            if (v >= 0x1.0p64) return std::string("18446744073709551615");
            return fmt::format("{:.0f}", v);
        }
        return format_quantity(v, u);
    };
    if (integer && !r.lo_open && !r.hi_open) return bound(r.lo) + ".." + bound(r.hi);
    return std::string(r.lo_open ? "(" : "[") + bound(r.lo) + ", " + bound(r.hi) + (r.hi_open ? ")" : "]");
}

}  // namespace cim
