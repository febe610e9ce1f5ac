#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/hw/accumulator_impl.h"

class Vpe_accumulator;   // verilated from platforms/rtl/pe_accumulator.v
class VerilatedContext;

namespace cim::rtl {

/// The RTL accumulation path: every partial-sum word goes through the verilated Verilog block
/// (pe_accumulator.v) via a pin-level transactor: drive a, b and in_valid, toggle clk, read sum when out_valid.
/// The transactor checks the protocol (out_valid one cycle after in_valid) and the value range (a partial sum
/// must fit PSUM_W bits) and throws cim::model_error on a violation. Cycle-accurate for the block itself; one
/// block serves a PE, one word per clock.
class rtl_pe_accumulator : public hw::pe_accumulator {
public:
    static constexpr int psum_bits = 40;
    rtl_pe_accumulator();
    ~rtl_pe_accumulator() override;
    std::uint64_t accumulate(std::int64_t* acc, int n_vectors, int duplication, int out_channels,
                             const std::vector<hw::psum_block>& blocks) override;
    const char* kind() const override { return "rtl"; }

private:
    void tick();
    std::unique_ptr<VerilatedContext> m_context;
    std::unique_ptr<Vpe_accumulator> m_dut;
};

/// A factory for hw::context: PEs whose path matches `scope` (glob) get the RTL block, the others TLM.
hw::accumulator_factory make_factory(const std::string& impl, const std::string& scope);

}  // namespace cim::rtl
