#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/circuit/action_table.h"
#include "models/circuit/calibration.h"
#include "models/circuit/periphery.h"
#include "models/circuit/technology.h"

namespace cim::circuit {

/// One lane of a digital unit: the circuit (periphery.h) that processes one element per action, uncalibrated.
struct lane_circuit {
    double area = 0;     // m^2
    double leakage = 0;  // W
    action_cost op;      // one element
    action_cost row;     // one row (a reciprocal, a square root) of a row-wise function; zero for none
    bool has_row() const { return row.energy > 0 || row.latency > 0; }
};

/// A digital unit (accumulation, activation, pooling, the transformer's function units and digital attention):
/// `lanes` copies of a lane circuit, each processing one element per clock cycle (or per op latency, if longer).
/// A lane with a row operation (softmax, layer norm) also has `row` (one per row of the tensor) and `row_beat`
/// (rows spread over the lanes, each taking the row operation's latency) actions.
class digital_unit {
public:
    enum action_id : std::size_t { element, beat, row, row_beat, action_count };
    /// `accumulation`: the unit is priced in the accumulation cost class and category, otherwise in the digital
    /// class and the `other` category. `kind` names the unit in its action table ("accumulator", ...).
    digital_unit(const std::string& kind, const calibration& k, bool accumulation, unsigned lanes, const lane_circuit& lane,
                 double clock_hz);
    const action_table& table() const { return m_table; }
    double area() const { return m_table.area(); }
    double leakage_power() const { return m_table.leakage(); }
    /// Counts of processing `elements` in `rows` rows (rows: 0 for an element-wise unit): elements and lane beats,
    /// rows and row beats.
    void count(std::uint64_t elements, std::vector<double>& counts, std::uint64_t rows = 0) const;
    action_cost process(std::uint64_t elements, std::uint64_t rows = 0) const;
    unsigned lanes() const { return m_lanes; }

private:
    unsigned m_lanes;
    bool m_rows = false;
    action_table m_table;
};

/// The lanes of the chip's digital units, built from periphery.h: an accumulator of `bits` (adder and register);
/// an activation lane: a ReLU of the `acc_bits` sum and its requantisation, a multiplier by an 8-bit fixed-point
/// scale; a max-pooling lane comparing `bits` elements.
lane_circuit accumulator_lane(const technology& t, unsigned bits);
lane_circuit activation_lane(const technology& t, unsigned acc_bits);
lane_circuit pooling_lane(const technology& t, unsigned bits);
/// The transformer's lanes (docs/transformers.md §3), for activations of `input_bits` (A = 2^input_bits - 1):
///  - softmax: per element a comparator (the row maximum), the exponential table (2A + 1 words of 17 bits), a 32-bit
///    adder (the row sum), a 24 x 24 multiplier by the row's reciprocal and a 24-bit rounding adder; per row a 32-bit
///    divider (the reciprocal);
///  - layer norm: per element a 24-bit adder (the sum), a 20 x 20 multiplier and a 48-bit adder (the sum of squares),
///    multipliers by the reciprocal (24 x 24), gamma (24 x 8) and the output scale (32 x 16) and a 32-bit adder
///    (beta); per row a 48-bit square root and a 32-bit divider;
///  - GELU: per element one read of its table (2A + 1 words of input_bits + 1 bits);
///  - multiply-accumulate (digital attention products): an (input_bits + 1)-bit multiplier, a 32-bit adder and
///    register, per product.
lane_circuit softmax_lane(const technology& t, unsigned input_bits);
lane_circuit layernorm_lane(const technology& t);
lane_circuit gelu_lane(const technology& t, unsigned input_bits);
lane_circuit mac_lane(const technology& t, unsigned input_bits);

}  // namespace cim::circuit
