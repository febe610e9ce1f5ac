#pragma once
#include <memory>
#include <string>

#include <systemc>

#include "models/hw/accumulation_path.h"
#include "models/hw/chip.h"
#include "models/hw/component.h"

namespace cim::rtl {

/// The PE accumulation paths of a chip (chip.pe.accumulator): nullptr for the TLM adder tree everywhere, or a
/// factory that gives every PE whose path matches `scope` the configured RTL block (platforms/rtl/*.v, verilated
/// with Verilator --sc) behind its transactor, clocked by `clock`. Throws cim::config_error for an unknown block.
hw::accumulation_factory make_factory(const hw::pe_config::accumulator_config& cfg, sc_core::sc_clock* clock,
                                      hw::run_record& rec);

}  // namespace cim::rtl
