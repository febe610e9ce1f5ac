// cim::json_stream writes a document piece by piece; its text must be exactly nlohmann's dump of the same document
// (the reports are compared byte for byte across versions), and its finiteness check must name the figure as
// cim::check_finite names it in the built document.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "models/core/check_finite.h"
#include "models/core/error.h"
#include "models/core/json_stream.h"

namespace {

using J = nlohmann::ordered_json;

/// Streams `j` through json_stream, member by member and element by element down to its scalars, except that
/// every object under a key "whole" goes in as one sub-document.
void stream(cim::json_stream& s, const J& j) {
    if (j.is_object()) {
        s.begin_object();
        for (auto it = j.begin(); it != j.end(); ++it) {
            s.key(it.key());
            if (it.key() == "whole") s.value(it.value());
            else stream(s, it.value());
        }
        s.end_object();
    } else if (j.is_array()) {
        s.begin_array();
        for (const auto& e : j) stream(s, e);
        s.end_array();
    } else if (j.is_string()) {
        s.value(j.get_ref<const std::string&>());
    } else if (j.is_number_float()) {
        s.value(j.get<double>());
    } else if (j.is_number_unsigned()) {
        s.value(j.get<std::uint64_t>());
    } else if (j.is_number_integer()) {
        s.value(j.get<std::int64_t>());
    } else if (j.is_boolean()) {
        s.value(j.get<bool>());
    } else {
        s.null();
    }
}

std::string streamed(const J& j, int indent) {
    std::ostringstream os;
    cim::json_stream s(os, indent, "report.json");
    stream(s, j);
    return os.str();
}

std::string streamed_key(const J& j) {
    try {
        streamed(j, 2);
    } catch (const cim::model_error& e) {
        return e.key();
    }
    return "";
}

std::string checked_key(const J& j) {
    try {
        cim::check_finite(j, "report.json");
    } catch (const cim::model_error& e) {
        return e.key();
    }
    return "";
}

J sample() {
    J j = J::object();
    j["schema"] = "cimtlm.report/2";
    j["empty_object"] = J::object();
    j["empty_array"] = J::array();
    j["numbers"] = {0.0, -0.0, 1.0, 0.1, 1e-300, 6.2261821440000015e-09, 123456789012345.0, 1e21, -3.5};
    j["integers"] = {0, -1, std::int64_t{1} << 40, std::numeric_limits<std::int64_t>::min()};
    j["unsigned"] = std::uint64_t{18446744073709551615u};
    j["strings"] = {"", "plain", "quote \" and backslash \\", "tab\tnewline\n", "\x01", "caf\xc3\xa9"};
    j["flags"] = {true, false, nullptr};
    j["nested"] = {{"a", {{"b", J::array({J::array(), J::object(), J::array({1, 2})})}}}};
    j["whole"] = {{"x", {1.5, "y", J::object()}}, {"z", J::array()}};
    j["components"] = J::array();
    j["components"].push_back({{"path", "chip.tile_0"}, {"counts", {{"word", 131072.0}}}, {"stats", J::object()}});
    return j;
}

}  // namespace

TEST(JsonStream, IndentedTextIsNlohmannsDump) { EXPECT_EQ(streamed(sample(), 2), sample().dump(2)); }

TEST(JsonStream, CompactTextIsNlohmannsDump) { EXPECT_EQ(streamed(sample(), -1), sample().dump()); }

TEST(JsonStream, OtherIndentsAndTopLevelScalars) {
    EXPECT_EQ(streamed(sample(), 4), sample().dump(4));
    EXPECT_EQ(streamed(sample(), 0), sample().dump(0));
    EXPECT_EQ(streamed(J(2.5), 2), J(2.5).dump(2));
    EXPECT_EQ(streamed(J::array(), 2), "[]");
}

TEST(JsonStream, NamesANonFiniteNumberAsCheckFiniteDoes) {
    const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
    J j = sample();
    EXPECT_EQ(streamed_key(j), "");

    j["numbers"][3] = nan;  // an array element with no name: its index
    EXPECT_EQ(streamed_key(j), "numbers[3]");
    EXPECT_EQ(streamed_key(j), checked_key(j));

    j = sample();
    j["components"][0]["counts"]["word"] = -inf;  // named by the element's path
    EXPECT_EQ(streamed_key(j), "components[chip.tile_0].counts.word");
    EXPECT_EQ(streamed_key(j), checked_key(j));

    j = sample();
    j["whole"]["x"][0] = inf;  // inside a sub-document written whole
    EXPECT_EQ(streamed_key(j), "whole.x[0]");
    EXPECT_EQ(streamed_key(j), checked_key(j));

    j = sample();
    j["layers"] = J::array();
    j["layers"].push_back({{"name", "conv1"}, {"latency_s", 1.0}});
    j["layers"].push_back({{"name", "conv2"}, {"latency_s", nan}});
    EXPECT_EQ(streamed_key(j), "layers[conv2].latency_s");
    EXPECT_EQ(streamed_key(j), checked_key(j));
}

TEST(JsonStream, AnElementWrittenWholeIsNamedByItsPath) {
    std::ostringstream os;
    cim::json_stream s(os, 2, "counts.json");
    s.begin_object();
    s.key("components");
    s.begin_array();
    s.value(J{{"path", "chip.tile_2"}, {"energy_j", 1.0}});
    try {
        s.value(J{{"path", "chip.tile_3"}, {"energy_j", std::nan("")}});
        FAIL() << "a NaN was written";
    } catch (const cim::model_error& e) {
        EXPECT_EQ(e.key(), "components[chip.tile_3].energy_j");
        EXPECT_NE(std::string(e.what()).find("counts.json"), std::string::npos) << e.what();
        EXPECT_EQ(os.str().find("chip.tile_3"), std::string::npos) << "nothing of the element was written";
    }
}
