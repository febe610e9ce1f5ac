#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include <systemc>

#include "models/core/error.h"
#include "models/hw/accumulation_path.h"
#include "models/hw/component.h"

namespace cim::rtl {

/// The pin-level transactor of an accumulation block: a SystemC module that instantiates the verilated block
/// (`Dut`, made by Verilator --sc with --pins-bv 2), binds its pins to sc_signals, clocks it with an sc_clock, and
/// streams a PE's partial sums through it with the valid/ready handshake of platforms/rtl/pe_accumulator.v:
/// up to LANES words a beat, a beat accepted on a rising edge with in_valid and in_ready, results taken on a rising
/// edge with out_valid (out_ready is held high), in order, any number of cycles later. It drives and samples on
/// falling edges, so the block's registered outputs have settled. A word whose accumulator is still in the
/// pipeline (two subarrays adding into the same output) waits until that result is back, so any latency is
/// correct. The block's cycles are the simulated time of the accumulation. Any block with these pins and its
/// own LANES and latency plugs in without editing this class (docs/rtl-cosim.md).
template <class Dut, int LANES>
class accumulator_transactor : public hw::rtl_accumulation {
public:
    static constexpr int acc_bits = 64, psum_bits = 40;

    accumulator_transactor(const sc_core::sc_module_name& name, sc_core::sc_clock& clock, hw::run_record& rec)
        : hw::rtl_accumulation(name), m_dut("block"), m_rec(rec) {
        m_dut.clk(clock);
        m_dut.rst(m_rst);
        m_dut.in_valid(m_in_valid);
        m_dut.in_ready(m_in_ready);
        m_dut.in_count(m_in_count);
        m_dut.a(m_a);
        m_dut.b(m_b);
        m_dut.out_valid(m_out_valid);
        m_dut.out_ready(m_out_ready);
        m_dut.out_count(m_out_count);
        m_dut.sum(m_sum);
        m_clock = &clock;
        m_rst.write(true);
        m_out_ready.write(true);
        if (rec.in_vcd(this->name())) {
            const std::string p = std::string(this->name()) + ".block.";
            sc_core::sc_trace(rec.vcd, clock, p + "clk");
            sc_core::sc_trace(rec.vcd, m_rst, p + "rst");
            sc_core::sc_trace(rec.vcd, m_in_valid, p + "in_valid");
            sc_core::sc_trace(rec.vcd, m_in_ready, p + "in_ready");
            sc_core::sc_trace(rec.vcd, m_in_count, p + "in_count");
            sc_core::sc_trace(rec.vcd, m_a, p + "a");
            sc_core::sc_trace(rec.vcd, m_b, p + "b");
            sc_core::sc_trace(rec.vcd, m_out_valid, p + "out_valid");
            sc_core::sc_trace(rec.vcd, m_out_ready, p + "out_ready");
            sc_core::sc_trace(rec.vcd, m_out_count, p + "out_count");
            sc_core::sc_trace(rec.vcd, m_sum, p + "sum");
        }
        // Synchronous reset for two cycles.
        sc_core::sc_spawn(
            [this] {
                sc_core::wait(m_clock->posedge_event());
                sc_core::wait(m_clock->posedge_event());
                sc_core::wait(m_clock->negedge_event());
                m_rst.write(false);
                m_reset_done = true;
                m_ready.notify(sc_core::SC_ZERO_TIME);
            },
            "reset");
    }

    std::uint64_t cycles() const override { return m_cycles; }

    void accumulate(std::int64_t* acc, int n_vectors, int duplication, int out_channels,
                    const std::vector<hw::psum_block>& blocks) override {
        constexpr std::int64_t lim = std::int64_t{1} << (psum_bits - 1);
        // The words in order: destination accumulator and partial sum.
        m_words.clear();
        for (const auto& b : blocks) {
            int i = 0;
            for (int v = b.copy; v < n_vectors; v += duplication, ++i)
                for (int c = 0; c < b.chans; ++c) {
                    const std::size_t dst = static_cast<std::size_t>(v) * static_cast<std::size_t>(out_channels) +
                                            static_cast<std::size_t>(b.ch_begin + c);
                    const std::int64_t p = (acc != nullptr && b.psums != nullptr)
                                                ? b.psums[static_cast<std::size_t>(i) * static_cast<std::size_t>(b.chans) + c]
                                                : 0;
                    if (p >= lim || p < -lim)
                        throw model_error(name(), "partial sum " + std::to_string(p) + " exceeds the block's " +
                                                      std::to_string(psum_bits) + "-bit input");
                    m_words.push_back({dst, p});
                }
        }
        if (m_words.empty()) return;
        while (!m_reset_done) sc_core::wait(m_ready);
        std::size_t next = 0;
        m_flight.clear();
        m_pending.clear();
        sc_core::wait(m_clock->negedge_event());
        for (;;) {
            // Results of the beat the block finished on the last rising edge.
            if (m_out_valid.read()) {
                if (m_flight.empty()) throw model_error(name(), "the block returned a beat nobody sent");
                const beat& b = m_flight.front();
                const int k = static_cast<int>(m_out_count.read().to_uint());
                if (k != b.count) throw model_error(name(), "the block returned a beat of the wrong size");
                const sc_dt::sc_bv<LANES * acc_bits> s = m_sum.read();
                for (int l = 0; l < k; ++l) {
                    const std::size_t dst = b.dst[static_cast<std::size_t>(l)];
                    if (acc != nullptr)
                        acc[dst] = static_cast<std::int64_t>(s.range(l * acc_bits + acc_bits - 1, l * acc_bits).to_uint64());
                    if (--m_pending[dst] == 0) m_pending.erase(dst);
                }
                m_flight.pop_front();
            }
            // The next beat, when the block is ready: words in order, stopping at one whose accumulator is in flight.
            if (next < m_words.size() && m_in_ready.read()) {
                beat b;
                sc_dt::sc_bv<LANES * acc_bits> a;
                sc_dt::sc_bv<LANES * psum_bits> p;
                while (b.count < LANES && next < m_words.size() && m_pending.count(m_words[next].dst) == 0) {
                    const word& w = m_words[next];
                    const std::uint64_t av = acc != nullptr ? static_cast<std::uint64_t>(acc[w.dst]) : 0;
                    a.range(b.count * acc_bits + acc_bits - 1, b.count * acc_bits) = av;
                    p.range(b.count * psum_bits + psum_bits - 1, b.count * psum_bits) =
                        static_cast<std::uint64_t>(w.psum) & ((std::uint64_t{1} << psum_bits) - 1);
                    b.dst[static_cast<std::size_t>(b.count)] = w.dst;
                    ++m_pending[w.dst];
                    ++b.count;
                    ++next;
                }
                if (b.count > 0) {
                    m_a.write(a);
                    m_b.write(p);
                    m_in_count.write(static_cast<unsigned>(b.count));
                    m_in_valid.write(true);
                    m_flight.push_back(b);
                } else {
                    m_in_valid.write(false);
                }
            } else {
                m_in_valid.write(false);
            }
            if (next == m_words.size() && m_flight.empty()) break;
            sc_core::wait(m_clock->negedge_event());
            ++m_cycles;
            ++m_rec.ticks;
        }
        m_in_valid.write(false);
    }

private:
    struct word {
        std::size_t dst;
        std::int64_t psum;
    };
    struct beat {
        int count = 0;
        std::size_t dst[LANES]{};
    };
    Dut m_dut;
    hw::run_record& m_rec;
    sc_core::sc_clock* m_clock = nullptr;
    // The pins the transactor drives may be written by any PE process that calls accumulate(); the block drives
    // the others.
    template <class T>
    using driven = sc_core::sc_signal<T, sc_core::SC_MANY_WRITERS>;
    driven<bool> m_rst{"rst"}, m_in_valid{"in_valid"}, m_out_ready{"out_ready"};
    sc_core::sc_signal<bool> m_in_ready{"in_ready"}, m_out_valid{"out_valid"};
    driven<sc_dt::sc_bv<8>> m_in_count{"in_count"};
    sc_core::sc_signal<sc_dt::sc_bv<8>> m_out_count{"out_count"};
    driven<sc_dt::sc_bv<LANES * acc_bits>> m_a{"a"};
    sc_core::sc_signal<sc_dt::sc_bv<LANES * acc_bits>> m_sum{"sum"};
    driven<sc_dt::sc_bv<LANES * psum_bits>> m_b{"b"};
    bool m_reset_done = false;
    sc_core::sc_event m_ready;
    std::uint64_t m_cycles = 0;
    std::vector<word> m_words;
    std::deque<beat> m_flight;
    std::unordered_map<std::size_t, int> m_pending;
};

}  // namespace cim::rtl
