#pragma once
#include <cstdint>
#include <vector>

namespace cim::func {

/// ADC parameters of a column read-out.
struct adc_config {
    unsigned bits = 5;

    template <class V>
    void visit(V& v) {
        v("bits", bits, "ADC resolution [bit], 1..16");
    }
    /// Throws cim::config_error naming the offending key.
    void validate() const;
};

/// Linear ADC with a fixed full scale, applied to one column sum (in units of one cell level times
/// one input unit). With L = 2^bits levels: exact when full_scale <= L-1; otherwise
/// step = full_scale / (L-1), code = clamp(llround(sum / step), 0, L-1), value = llround(code * step).
/// Immutable, so one instance may be shared by threads.
/// Does not model: non-linearity, offset/gain error, noise, calibrated references (callers pass a full
/// scale of their choosing), energy or timing (circuit::adc_*).
class adc_transfer {
public:
    adc_transfer(unsigned bits, std::int64_t full_scale);

    /// The digitised column sum, in the same units as the input.
    std::int64_t convert(std::int64_t column_sum) const {
        if (m_lossless) return column_sum;
        if (column_sum >= 0 && column_sum < static_cast<std::int64_t>(m_table.size())) return m_table[column_sum];
        return convert_slow(column_sum);
    }
    bool lossless() const { return m_lossless; }
    unsigned bits() const { return m_bits; }
    std::int64_t full_scale() const { return m_full_scale; }

private:
    std::int64_t convert_slow(std::int64_t column_sum) const;

    unsigned m_bits;
    std::int64_t m_full_scale;
    std::int64_t m_max_code;
    double m_step;
    bool m_lossless;
    // convert() of every sum in [0, full_scale], precomputed by convert_slow() so the hot loop does no
    // division or llround; empty when the full scale is too large to tabulate cheaply.
    std::vector<std::int32_t> m_table;
};

}  // namespace cim::func
