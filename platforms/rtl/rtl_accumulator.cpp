#include "platforms/rtl/rtl_accumulator.h"

#include <fnmatch.h>

#include <verilated.h>

#include "Vpe_accumulator.h"
#include "models/core/error.h"

namespace cim::rtl {

rtl_pe_accumulator::rtl_pe_accumulator()
    : m_context(std::make_unique<VerilatedContext>()), m_dut(std::make_unique<Vpe_accumulator>(m_context.get())) {
    // Synchronous reset for two cycles.
    m_dut->rst = 1;
    m_dut->in_valid = 0;
    m_dut->clk = 0;
    m_dut->eval();
    tick();
    tick();
    m_dut->rst = 0;
}

rtl_pe_accumulator::~rtl_pe_accumulator() {
    if (m_dut) m_dut->final();
}

void rtl_pe_accumulator::tick() {
    m_dut->clk = 1;
    m_dut->eval();
    m_dut->clk = 0;
    m_dut->eval();
}

std::uint64_t rtl_pe_accumulator::accumulate(std::int64_t* acc, int n_vectors, int duplication, int out_channels,
                                             const std::vector<hw::psum_block>& blocks) {
    constexpr std::int64_t lim = std::int64_t{1} << (psum_bits - 1);
    constexpr std::uint64_t mask = (std::uint64_t{1} << psum_bits) - 1;
    const std::uint32_t start = m_dut->cycles;
    for (const auto& b : blocks) {
        int i = 0;
        for (int v = b.copy; v < n_vectors; v += duplication, ++i) {
            std::int64_t* dst = acc + static_cast<std::size_t>(v) * out_channels + b.ch_begin;
            const std::int64_t* src = b.psums + static_cast<std::size_t>(i) * b.chans;
            for (int c = 0; c < b.chans; ++c) {
                if (src[c] >= lim || src[c] < -lim)
                    throw model_error("pe.accumulator", "partial sum " + std::to_string(src[c]) + " exceeds the RTL block's " +
                                                            std::to_string(psum_bits) + "-bit input");
                // Pins: a (64-bit two's complement), b (40-bit two's complement), in_valid; one rising edge.
                m_dut->a = static_cast<std::uint64_t>(dst[c]);
                m_dut->b = static_cast<std::uint64_t>(src[c]) & mask;
                m_dut->in_valid = 1;
                tick();
                if (!m_dut->out_valid) throw model_error("pe.accumulator", "RTL block did not assert out_valid");
                dst[c] = static_cast<std::int64_t>(m_dut->sum);
            }
        }
    }
    m_dut->in_valid = 0;
    tick();  // drain: out_valid falls
    return static_cast<std::uint32_t>(m_dut->cycles - start);
}

hw::accumulator_factory make_factory(const std::string& impl, const std::string& scope) {
    if (impl != "rtl") return {};
    return [scope](const std::string& pe_path) -> std::unique_ptr<hw::pe_accumulator> {
        if (fnmatch(scope.c_str(), pe_path.c_str(), 0) != 0) return nullptr;
        return std::make_unique<rtl_pe_accumulator>();
    };
}

}  // namespace cim::rtl
