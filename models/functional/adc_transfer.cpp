#include "models/functional/adc_transfer.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "models/core/error.h"

namespace cim::func {

void adc_config::validate() const {
    if (bits < 1 || bits > 16) throw config_error("", 0, "bits", "must be in 1..16, got " + std::to_string(bits));
}

namespace {
// Column sums of a block stay below 2^24 (the float-exactness bound of the crossbar kernel), but a
// table of that size would cost 64 MiB per transfer; typical full scales (rows x levels) are a few
// thousand, so tabulate up to 2^20 entries (4 MiB) and compute above that.
constexpr std::int64_t max_table = std::int64_t{1} << 20;
}  // namespace

adc_transfer::adc_transfer(unsigned bits, std::int64_t full_scale)
    : m_bits(bits), m_full_scale(full_scale), m_max_code(0), m_step(1.0), m_lossless(true) {
    if (bits < 1 || bits > 16) throw model_error("adc.bits", "must be in 1..16, got " + std::to_string(bits));
    if (full_scale < 0) throw model_error("adc.full_scale", "must not be negative");
    m_max_code = (std::int64_t{1} << bits) - 1;
    m_lossless = full_scale <= m_max_code;
    if (m_lossless) return;
    m_step = static_cast<double>(full_scale) / static_cast<double>(m_max_code);
    if (full_scale < max_table) {
        m_table.resize(static_cast<std::size_t>(full_scale) + 1);
        for (std::int64_t s = 0; s <= full_scale; ++s) m_table[s] = static_cast<std::int32_t>(convert_slow(s));
    }
}

std::int64_t adc_transfer::convert_slow(std::int64_t column_sum) const {
    if (m_lossless) return column_sum;
    const double ratio = static_cast<double>(column_sum) / m_step;
    // Clamp before llround so a huge sum cannot overflow the conversion.
    const std::int64_t code = ratio <= 0.0                           ? 0
                              : ratio >= static_cast<double>(m_max_code) ? m_max_code
                                                                         : std::llround(ratio);
    return std::llround(static_cast<double>(code) * m_step);
}

}  // namespace cim::func
