#pragma once
#include <string>
#include <string_view>

namespace cim {

/// Physical dimensions a parameter can have. Values are stored in SI base units in double
/// (seconds, ohms, metres, ...). Bytes are counted in bytes. YAML may write "2 ns", "100 kOhm",
/// "64 KiB", "1 GHz" or a bare number, which is taken as already in SI.
enum class unit {
    none,          // dimensionless
    second,        // s
    hertz,         // Hz
    ohm,           // Ohm
    siemens,       // S
    meter,         // m
    square_meter,  // m^2
    volt,          // V
    ampere,        // A
    farad,         // F
    joule,         // J
    watt,          // W
    byte,          // B (KiB/MiB/GiB binary, kB/MB decimal)
    bit,           // bit
    ampere_per_meter,  // A/m (transistor current per width)
    farad_per_meter,   // F/m (capacitance per width or per wire length)
    ohm_per_meter,     // Ohm/m (wire resistance per length)
    feature_square,    // F^2 (cell area in units of the feature size squared)
};

/// The symbol printed for a unit ("s", "Ohm", "", ...).
std::string_view unit_symbol(unit u);

/// Parse "2 ns" / "2ns" / "2e-9" / "100 kOhm" into SI. Throws std::invalid_argument with a short
/// reason when the number is malformed or the unit's dimension differs from `expected`.
double parse_quantity(std::string_view text, unit expected);

/// Format an SI value with its unit for humans, e.g. 2e-9 s -> "2 ns" (used in docs and params).
std::string format_quantity(double value, unit u);

/// The documented range of a parameter, in SI units, checked after unit conversion: lo <= x <= hi, with the
/// bound excluded where it is open. A value outside it, NaN or an infinity is a config error naming the key.
/// Declared with the parameter (`v("r_on", r_on, unit::ohm, range{1, 1e12}, "...")`, config/field.h); a
/// parameter that declares none gets the envelope of its unit (default_range) or, for an integer, of its type.
struct range {
    double lo = 0;
    double hi = 0;
    bool lo_open = false;
    bool hi_open = false;
    bool declared = true;  // false: the default envelope, not a range the parameter declares

    bool contains(double x) const;
};

/// The physical envelope of a quantity of unit `u` that declares no range of its own (docs/config-reference.md
/// lists them): e.g. resistances in [0, 1 TOhm], times in [0, 1e10 s], dimensionless numbers within +-1e9. It
/// rejects values no device or circuit has, not merely unusual ones.
range default_range(unit u);

/// "[0 Ohm, 1 TOhm]", "(0, 100]"; with `integer`, "2..4096".
std::string format_range(const range& r, unit u, bool integer = false);

}  // namespace cim
