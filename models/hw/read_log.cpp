#include "models/hw/read_log.h"

#include <string>

#include "models/core/error.h"

namespace cim::hw {

void read_log::index() const {
    for (; m_indexed_reads < m_reads.size(); ++m_indexed_reads) {
        const read& r = m_reads[m_indexed_reads];
        m_read_index[{r.block, r.layer, r.image}] = m_indexed_reads;
    }
    for (; m_indexed_inputs < m_inputs.size(); ++m_indexed_inputs) {
        const layer_input& l = m_inputs[m_indexed_inputs];
        m_input_index[{l.layer, l.image}] = m_indexed_inputs;
    }
}

const read_log::read& read_log::find(std::uint64_t block, int layer, std::int64_t image) const {
    index();
    const auto it = m_read_index.find({block, layer, image});
    if (it == m_read_index.end())
        throw model_error("reads", "no recorded read of subarray block " + std::to_string(block) + ", layer " +
                                       std::to_string(layer) + ", image " + std::to_string(image));
    return m_reads[it->second];
}

const read_log::write& read_log::find_write(std::uint64_t block, int layer, std::int64_t image) const {
    for (const write& w : m_writes)
        if (w.block == block && w.layer == layer && w.image == image) return w;
    throw model_error("writes", "no recorded write of subarray block " + std::to_string(block) + ", layer " +
                                    std::to_string(layer) + ", image " + std::to_string(image));
}

const read_log::layer_input& read_log::find_input(int layer, std::int64_t image) const {
    index();
    const auto it = m_input_index.find({layer, image});
    if (it == m_input_index.end())
        throw model_error("reads", "no recorded input of layer " + std::to_string(layer) + ", image " + std::to_string(image));
    return m_inputs[it->second];
}

}  // namespace cim::hw
