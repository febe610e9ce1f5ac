#include "platforms/rtl/rtl_accumulator.h"

#include <fnmatch.h>

#include "Vpe_accumulator.h"
#include "Vpe_accumulator_lanes4.h"
#include "models/core/error.h"
#include "platforms/rtl/accumulator_transactor.h"

namespace cim::rtl {

hw::accumulation_factory make_factory(const hw::pe_config::accumulator_config& cfg, sc_core::sc_clock* clock,
                                      hw::run_record& rec) {
    if (cfg.impl != "rtl") return {};
    if (clock == nullptr) throw model_error("chip.pe.accumulator", "an RTL accumulation path needs a clock");
    const std::string scope = cfg.scope, block = cfg.block;
    if (block != "pe_accumulator" && block != "pe_accumulator_lanes4")
        throw config_error("", 0, "chip.pe.accumulator.block", "unknown RTL block '" + block + "'");
    hw::run_record* r = &rec;
    return [scope, block, clock, r](const std::string& pe_path) -> std::unique_ptr<hw::rtl_accumulation> {
        if (fnmatch(scope.c_str(), pe_path.c_str(), 0) != 0) return nullptr;
        // One line per block: the verilated class and its lanes.
        if (block == "pe_accumulator_lanes4")
            return std::make_unique<accumulator_transactor<Vpe_accumulator_lanes4, 4>>("accumulator", *clock, *r);
        return std::make_unique<accumulator_transactor<Vpe_accumulator, 1>>("accumulator", *clock, *r);
    };
}

}  // namespace cim::rtl
