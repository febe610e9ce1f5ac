#pragma once
// Shared helpers of the circuit unit tests.
#include <string>

#include "models/circuit/components.h"
#include "models/circuit/technology.h"
#include "models/config/yaml_reader.h"

namespace cim::circuit::fixtures {

/// A node as its file under configs/tech/ gives it (sources in the files).
inline technology node(const std::string& name, const std::string& device = "lstp") {
    technology t;
    cfg::load_file(std::string(CIM_SOURCE_DIR) + "/configs/tech/" + name + ".yaml", t);
    t.device = device;
    t.validate();
    return t;
}

/// The shipped calibration (configs/calibration/iedm2019.yaml), which the experiments use.
inline calibration fitted() {
    calibration k;
    cfg::load_file(std::string(CIM_SOURCE_DIR) + "/configs/calibration/iedm2019.yaml", k);
    k.validate();
    return k;
}

/// A 1T1R RRAM cell of 48 F^2 with a 2F access transistor and on/off 10.
inline cell rram(double r_on, unsigned bits = 4) {
    cell c;
    c.type = "rram";
    c.r_on = r_on;
    c.on_off_ratio = 10;
    c.bits = bits;
    c.area_f2 = 48;
    c.access_width_f = 2;
    return c;
}

/// An 8T SRAM cell as configs/cells/sram.yaml: 1 bit, a 60 kOhm read stack, on/off 1e5, 364 F^2, 1 ns read pulse.
inline cell sram(double r_on = 60e3) {
    cell c;
    c.type = "sram";
    c.r_on = r_on;
    c.on_off_ratio = 1e5;
    c.bits = 1;
    c.area_f2 = 364;
    c.read_pulse = 1e-9;
    return c;
}

/// A batch of reads: 100 vectors of 8 input bits on 128 rows, half the (row, slice) inputs on, the active cells at
/// `mean_level` on average (level units).
inline read_activity activity(unsigned cols = 130, double mean_level = 7.5) {
    read_activity a;
    a.vectors = 100;
    a.input_slices = 8;
    a.active_rows = 128;
    a.active_cols = cols;
    a.input_ones = 100ull * 8 * 64;
    a.column_level_sum = double(a.input_ones) * cols * mean_level;
    return a;
}

}  // namespace cim::circuit::fixtures
