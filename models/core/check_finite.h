#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace cim {

/// Throws cim::model_error when `j` holds a number that is not finite (inf or NaN) anywhere inside it. nlohmann
/// writes such a number as `null`, so a report would show a hole instead of a figure; this runs just before a
/// report is written, so the run fails with exit 3 instead.
/// The error's key is the JSON path of the first non-finite number in document order, e.g.
/// `summary.energy_j` or `components[chip.tile_0.pe_0].stats.read_energy.value`: an array element that is an
/// object with a string `path` (or else `name`) member is named by it, so the path names the component or the
/// layer; other elements by their index. The message names `what` (e.g. "report.json") and the value.
void check_finite(const nlohmann::json& j, const std::string& what);
void check_finite(const nlohmann::ordered_json& j, const std::string& what);
/// The same, for `j` found at JSON path `path` inside a larger document (cim::json_stream's check).
void check_finite(const nlohmann::ordered_json& j, const std::string& what, const std::string& path);

/// The same check for a CSV table whose first row names the columns (layers.csv): a cell that reads as a number
/// but is not finite ("nan", "-nan", "inf") throws cim::model_error keyed "<first cell of its row>.<column>",
/// e.g. `conv3.adc_latency_s`.
void check_finite_csv(const std::string& csv, const std::string& what);

}  // namespace cim
