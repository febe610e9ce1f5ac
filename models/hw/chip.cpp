#include "models/hw/chip.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "models/core/error.h"

namespace cim::hw {

double subtree_area(const sc_core::sc_object& root) {
    double a = 0;
    if (const auto* c = dynamic_cast<const component*>(&root))
        if (c->table() != nullptr) a += c->table()->area();
    for (const sc_core::sc_object* child : root.get_child_objects()) a += subtree_area(*child);
    return a;
}

namespace {
// Widths of the digital data path (bits). A PE's adder tree sums subarray partial sums of adc + weight + input
// bits (the shift-add of a weight's cell slices and of an input's bit slices); a tile's adds up to 16 PEs' (4 more
// bits). The chip's lanes: a 24-bit accumulator and requantising activation, 8-bit max pooling.
unsigned pe_psum_bits(const chip_inputs& in) {
    return in.subarray.adc_bits + in.options.quant.weight_bits + in.options.quant.input_bits;
}
constexpr unsigned k_tile_extra_bits = 4;
constexpr unsigned k_lane_bits = 24;
constexpr unsigned k_pool_bits = 8;
}  // namespace

chip::~chip() = default;

chip::chip(const sc_core::sc_module_name& name, run_record& rec, const chip_inputs& in, const chip_config& cfg)
    : component(name, "chip", rec, nullptr), m_clock_hz(cfg.clock_hz(in.tech)) {
    const auto& q = in.options.quant;
    m_subarray_model = std::make_unique<circuit::subarray_model>(in.tech, in.calib, in.cell, in.subarray,
                                                                 func::reference_columns(q, in.cell.bits));
    m_subarray_setup = std::make_unique<subarray_setup>(*m_subarray_model, in.options, in.activity);
    m_subarray_setup->programmed = in.programmed;
    m_global_buffer_model = std::make_unique<circuit::sram_buffer>(in.tech, in.calib, cfg.global_buffer.size,
                                                                   cfg.global_buffer.bus_bits, m_clock_hz);
    m_tile_buffer_model =
        std::make_unique<circuit::sram_buffer>(in.tech, in.calib, cfg.tile_buffer.size, cfg.tile_buffer.bus_bits, m_clock_hz);
    const unsigned psum = pe_psum_bits(in);
    const unsigned lanes = in.subarray.cols;
    const circuit::technology& tech = in.tech;
    const circuit::calibration& calib = in.calib;
    m_tile_setup = std::make_unique<tile_setup>(tile_setup{
        *m_subarray_setup, *m_tile_buffer_model,
        [this, &tech, &calib, psum, lanes](unsigned inputs, bool tile_level) -> const circuit::adder_tree& {
            auto& a = m_adders[{inputs, tile_level}];
            if (!a)
                a = std::make_unique<circuit::adder_tree>(tech, calib, inputs, psum + (tile_level ? k_tile_extra_bits : 0),
                                                          lanes);
            return *a;
        },
        in.rtl});

    // Tiles from the plan, with their subarrays' calibrated ADCs (used slots in plan order).
    std::size_t used = 0;
    std::uint64_t block = 0;
    for (std::size_t t = 0; t < in.plan.tiles.size(); ++t) {
        const auto& tp = in.plan.tiles[t];
        std::vector<const func::adc_transfer*> adcs;
        for (const auto& pp : tp.pes)
            for (const auto& s : pp.subarrays) {
                const func::adc_transfer* a = nullptr;
                if (s.used()) {
                    if (in.adcs != nullptr && used < in.adcs->size()) a = &(*in.adcs)[used];
                    ++used;
                }
                adcs.push_back(a);
            }
        m_tiles.push_back(std::make_unique<tile>(("tile_" + std::to_string(t)).c_str(), rec, *m_tile_setup, tp, block,
                                                 &in.graph, adcs, cfg.tile_buffer, m_clock_hz));
        block += adcs.size();
    }
    if (in.adcs != nullptr && used != in.adcs->size())
        throw model_error(this->name(), "the calibrated ADC set does not match the floorplan");

    m_global_buffer = std::make_unique<buffer>("global_buffer", rec, *m_global_buffer_model, cfg.global_buffer.size);
    // The H-tree spans the tiles, each a square of its area.
    const double tile_side = m_tiles.empty() ? 0.0 : std::sqrt(subtree_area(*m_tiles.front()));
    m_htree_model = std::make_unique<circuit::htree>(in.tech, in.calib, static_cast<unsigned>(m_tiles.size()), tile_side,
                                                     cfg.htree_bus_bits, m_clock_hz);
    m_interconnect = std::make_unique<interconnect>("interconnect", rec, *m_htree_model, m_tiles.size());
    m_accumulator_model = std::make_unique<circuit::digital_unit>("accumulator", in.calib, true, cfg.accumulator_lanes,
                                                                  circuit::accumulator_lane(in.tech, k_lane_bits), m_clock_hz);
    m_activation_model = std::make_unique<circuit::digital_unit>("activation", in.calib, false, cfg.activation_lanes,
                                                                 circuit::activation_lane(in.tech, k_lane_bits), m_clock_hz);
    m_pooling_model = std::make_unique<circuit::digital_unit>("pooling", in.calib, false, cfg.pooling_lanes,
                                                              circuit::pooling_lane(in.tech, k_pool_bits), m_clock_hz);
    m_accumulator = std::make_unique<vector_unit>("accumulator", "accumulator", rec, *m_accumulator_model);
    m_activation = std::make_unique<vector_unit>("activation", "activation", rec, *m_activation_model);
    m_pooling = std::make_unique<vector_unit>("pooling", "pooling", rec, *m_pooling_model);

    // The transformer's units, only for the ops the network has (function_block elaborates what it is given).
    bool transformer = false;
    for (const auto& l : in.graph.layers)
        transformer = transformer || l.kind == network::op::softmax || l.kind == network::op::layernorm ||
                      l.kind == network::op::gelu || l.kind == network::op::matmul;
    function_block::models fm;
    if (transformer) {
        const unsigned ib = q.input_bits;
        m_softmax_model = std::make_unique<circuit::digital_unit>("softmax", in.calib, false, cfg.softmax_lanes,
                                                                  circuit::softmax_lane(in.tech, ib), m_clock_hz);
        m_layernorm_model = std::make_unique<circuit::digital_unit>("layernorm", in.calib, false, cfg.layernorm_lanes,
                                                                    circuit::layernorm_lane(in.tech), m_clock_hz);
        m_gelu_model = std::make_unique<circuit::digital_unit>("gelu", in.calib, false, cfg.gelu_lanes,
                                                               circuit::gelu_lane(in.tech, ib), m_clock_hz);
        fm.softmax = m_softmax_model.get();
        fm.layernorm = m_layernorm_model.get();
        fm.gelu = m_gelu_model.get();
        if (cfg.attention.impl == "cim") {
            m_attention_options = std::make_unique<engine::hardware_options>(engine::attention_options(in.options));
            m_attention_subarray_model = std::make_unique<circuit::subarray_model>(
                in.tech, in.calib, in.cell, in.subarray, func::reference_columns(m_attention_options->quant, in.cell.bits));
            m_attention_subarray_setup = std::make_unique<subarray_setup>(*m_attention_subarray_model, *m_attention_options, in.activity);
            m_attention_setup = std::make_unique<attention_setup>(attention_setup{
                *m_attention_subarray_setup, in.options, in.graph, q, *m_accumulator_model, *m_activation_model});
            fm.attention = m_attention_setup.get();
        } else {
            m_mac_model = std::make_unique<circuit::digital_unit>("attention", in.calib, false, cfg.attention.mac_lanes,
                                                                  circuit::mac_lane(in.tech, ib), m_clock_hz);
            fm.mac = m_mac_model.get();
        }
    }
    m_functions = std::make_unique<function_block>("functions", rec, in.graph, fm);

    controller_setup cs{in.graph,          in.plan,        q, in.mode, in.activity.kind == activity_costing::mode::pseudo,
                        in.images,         in.image_count, cfg.global_buffer.size};
    m_controller = std::make_unique<controller>("controller", rec, std::move(cs));
    m_controller->to_buffer.bind(m_global_buffer->in);
    m_controller->to_interconnect.bind(m_interconnect->in);
    m_controller->to_accumulator.bind(m_accumulator->in);
    m_controller->to_activation.bind(m_activation->in);
    m_controller->to_pooling.bind(m_pooling->in);
    m_controller->to_functions.bind(m_functions->in);
    for (std::size_t i = 0; i < m_tiles.size(); ++i) m_interconnect->to_tiles[i]->bind(m_tiles[i]->in);
}

}  // namespace cim::hw
