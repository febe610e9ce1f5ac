#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/circuit/macro.h"

namespace cim::report {

/// The report of a macro run (`cimtlm run` on an experiment with `macro.enabled`): schema cimtlm.macro/1, the
/// macro-boundary figures of one MVM (summary), energy and area by macro component (array, drivers, readout, adc,
/// shift_add), every action with its count and energy, every area part, and the effective config. It carries no
/// wall-clock figure, so the same inputs give the same bytes.
nlohmann::ordered_json macro_json(const circuit::macro_result& r, const nlohmann::ordered_json& config,
                                  const std::vector<std::string>& sources, const std::vector<std::string>& argv);
/// The human table of a macro run.
std::string macro_table(const circuit::macro_result& r);

}  // namespace cim::report
