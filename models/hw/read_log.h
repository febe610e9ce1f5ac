#pragma once
#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

namespace cim::hw {

/// The data-dependent activity of every subarray read of a run: per (subarray, layer, image), the input ones and
/// the column level sum the crossbar kernel measured, and per (layer, image) the input bits and ones of the
/// layer's activations. A run records it; `cimtlm reprice` replays it, so the platform re-times the same reads
/// under another circuit or calibration without running the data path. Everything else a module counts follows
/// from the network's shapes and the floorplan.
class read_log {
public:
    struct read {
        std::uint64_t block = 0;  // the subarray's block id (its index in plan order: tile, PE, subarray)
        int layer = -1;
        std::int64_t image = 0;
        std::uint64_t input_ones = 0;
        double column_level_sum = 0;
    };
    struct layer_input {
        int layer = -1;
        std::int64_t image = 0;
        std::uint64_t bits = 0, ones = 0;
    };

    /// A write of a subarray during the run, and the sum of the levels it programmed.
    struct write {
        std::uint64_t block = 0;
        int layer = -1;
        std::int64_t image = 0;
        double level_sum = 0;
    };

    void add(const read& r) { m_reads.push_back(r); }
    void add(const write& w) { m_writes.push_back(w); }
    const std::vector<write>& writes() const { return m_writes; }
    /// The recorded write; throws cim::model_error when it was not recorded.
    const write& find_write(std::uint64_t block, int layer, std::int64_t image) const;
    void add(const layer_input& l) { m_inputs.push_back(l); }
    const std::vector<read>& reads() const { return m_reads; }
    const std::vector<layer_input>& inputs() const { return m_inputs; }

    /// The recorded read; throws cim::model_error when it was not recorded.
    const read& find(std::uint64_t block, int layer, std::int64_t image) const;
    const layer_input& find_input(int layer, std::int64_t image) const;

private:
    void index() const;
    std::vector<read> m_reads;
    std::vector<write> m_writes;
    std::vector<layer_input> m_inputs;
    mutable std::map<std::tuple<std::uint64_t, int, std::int64_t>, std::size_t> m_read_index;
    mutable std::map<std::pair<int, std::int64_t>, std::size_t> m_input_index;
    mutable std::size_t m_indexed_reads = 0, m_indexed_inputs = 0;
};

}  // namespace cim::hw
