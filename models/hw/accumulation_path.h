#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

namespace cim::hw {

/// One subarray's compact partial sums in a PE: the vectors of its copy (v = copy, copy + dup, ...) times its
/// channels [ch_begin, ch_begin + chans).
struct psum_block {
    const std::int64_t* psums = nullptr;
    int copy = 0;
    int ch_begin = 0;
    int chans = 0;
};

/// A PE's accumulation path implemented in RTL: adds the partial sums of the PE's subarrays into the layer's
/// accumulators (acc[v * out_channels + ch] += psum) through a clocked block, spending the block's clock cycles in
/// simulated time (it waits inside). A PE without one accumulates in its TLM adder tree. platforms/rtl provides
/// the verilated implementation and its pin-level transactor.
class rtl_accumulation : public sc_core::sc_module {
public:
    using sc_core::sc_module::sc_module;
    /// Streams every partial sum of `blocks` through the block (zeros when `acc` is null: a timing replay) and
    /// returns when the last sum has come back. Call from a thread process.
    virtual void accumulate(std::int64_t* acc, int n_vectors, int duplication, int out_channels,
                            const std::vector<psum_block>& blocks) = 0;
    /// Clock cycles spent so far.
    virtual std::uint64_t cycles() const = 0;
};

/// Makes the RTL accumulation path of the PE at `pe_path`, or nullptr for the TLM adder tree. Called during
/// elaboration, inside the PE's constructor, so the returned module is the PE's child.
using accumulation_factory = std::function<std::unique_ptr<rtl_accumulation>(const std::string& pe_path)>;

}  // namespace cim::hw
