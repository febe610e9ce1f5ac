#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/engine/hardware_model.h"

namespace cim::hw {

/// One subarray's compact partial sums in a PE: the vectors of its copy (v = copy, copy + dup, ...) times its
/// channels [ch_begin, ch_begin + chans).
struct psum_block {
    const std::int64_t* psums = nullptr;
    int copy = 0;
    int ch_begin = 0;
    int chans = 0;
};

/// The PE accumulation path: adds the partial sums of a PE's subarrays into the layer's accumulators
/// (acc[v * out_channels + ch] += psum). The TLM model does it in C++; an RTL implementation drives a verilated
/// Verilog block through a pin-level transactor (platforms/rtl). Both must give identical sums.
class pe_accumulator {
public:
    virtual ~pe_accumulator() = default;
    /// Returns the clock cycles the implementation spent (0 when it is untimed).
    virtual std::uint64_t accumulate(std::int64_t* acc, int n_vectors, int duplication, int out_channels,
                                     const std::vector<psum_block>& blocks) = 0;
    virtual const char* kind() const = 0;
};

/// The TLM (plain C++) accumulation path.
class tlm_pe_accumulator : public pe_accumulator {
public:
    std::uint64_t accumulate(std::int64_t* acc, int n_vectors, int duplication, int out_channels,
                             const std::vector<psum_block>& blocks) override {
        for (const auto& b : blocks)
            engine::add_partial_sums(b.psums, b.copy, duplication, n_vectors, out_channels, b.ch_begin, b.chans, acc);
        return 0;
    }
    const char* kind() const override { return "tlm"; }
};

/// Makes the accumulation path of the PE at `pe_path` (nullptr result: the TLM model).
using accumulator_factory = std::function<std::unique_ptr<pe_accumulator>(const std::string& pe_path)>;

/// PE options (the `chip.pe:` config section).
struct pe_config {
    struct accumulator_config {
        std::string impl = "tlm";  // tlm | rtl
        std::string scope = "*";   // glob over PE paths that use `impl` (e.g. "chip.tile_3.*")
        template <class V>
        void visit(V& v) {
            v.choice("impl", impl, {"tlm", "rtl"},
                     "PE accumulation path: the TLM model, or the verilated RTL block (platforms/rtl) via its transactor");
            v("scope", scope, "glob over PE paths (e.g. chip.tile_0.pe_*) that use impl; the others use tlm");
        }
    } accumulator;
    template <class V>
    void visit(V& v) {
        v("accumulator", accumulator, "the PE's shift-add / adder-tree accumulation path");
    }
};

}  // namespace cim::hw
