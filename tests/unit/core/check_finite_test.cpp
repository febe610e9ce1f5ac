// cim::check_finite: a report never holds a non-finite number (issue 22: an infinite wire capacitance gave
// "-nan uJ" of energy and nulls in report.json).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "models/core/check_finite.h"
#include "models/core/error.h"

namespace {

std::string key_of(const nlohmann::ordered_json& j) {
    try {
        cim::check_finite(j, "report.json");
    } catch (const cim::model_error& e) {
        EXPECT_NE(std::string(e.what()).find("report.json"), std::string::npos) << e.what();
        return e.key();
    }
    return "";
}

}  // namespace

TEST(CheckFinite, FiniteReportPasses) {
    nlohmann::ordered_json j = {{"summary", {{"energy_j", 1e-6}, {"macs", 3}, {"network", "vgg8"}, {"ok", true}}},
                                {"layers", {{{"name", "conv1"}, {"latency_s", 0.0}}}},
                                {"none", nullptr}};
    EXPECT_EQ(key_of(j), "");
}

TEST(CheckFinite, NamesTheFigureAndTheComponent) {
    const double inf = std::numeric_limits<double>::infinity();
    nlohmann::ordered_json j;
    j["summary"] = {{"area_m2", 1e-6}, {"energy_j", std::nan("")}};
    EXPECT_EQ(key_of(j), "summary.energy_j");

    j["summary"]["energy_j"] = 1.0;
    j["components"] = nlohmann::ordered_json::array();
    j["components"].push_back({{"path", "chip.tile_0"}, {"leakage_w", 1.0}});
    j["components"].push_back({{"path", "chip.tile_0.pe_1.subarray_2"}, {"stats", {{"read_energy", {{"value", -inf}}}}}});
    EXPECT_EQ(key_of(j), "components[chip.tile_0.pe_1.subarray_2].stats.read_energy.value");

    nlohmann::ordered_json k;
    k["layers"] = {{{"name", "conv3"}, {"latency_s", inf}}};
    k["list"] = {1.0, inf};
    EXPECT_EQ(key_of(k), "layers[conv3].latency_s");
    k["layers"][0]["latency_s"] = 1.0;
    EXPECT_EQ(key_of(k), "list[1]");

    // The unordered json type too.
    nlohmann::json u = {{"x", {{"y", inf}}}};
    EXPECT_THROW(cim::check_finite(u, "r"), cim::model_error);
}

TEST(CheckFinite, CsvNamesTheRowAndTheColumn) {
    EXPECT_NO_THROW(cim::check_finite_csv("name,latency_s,density\nconv1,1e-6,\nrelu1,0,0.5\n", "layers.csv"));
    try {
        cim::check_finite_csv("name,latency_s,adc_latency_s\nconv1,1e-6,2\nconv2,3,-nan\n", "layers.csv");
        FAIL() << "no error";
    } catch (const cim::model_error& e) {
        EXPECT_EQ(e.key(), "conv2.adc_latency_s");
    }
    EXPECT_THROW(cim::check_finite_csv("a,b\nx,inf\n", "t.csv"), cim::model_error);
}

TEST(ErrorFormat, AlwaysOneLine) {
    EXPECT_EQ(cim::config_error("f.yaml", 3, "a.b", "'2\nns' is bad").format(), "f.yaml:3: a.b: '2\\nns' is bad");
    EXPECT_EQ(cim::model_error("k", std::string("x\ry\x01")).format(), "k: x\\ry\\x01");
}
