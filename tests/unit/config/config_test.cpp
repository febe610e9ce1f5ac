#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "models/config/describe.h"
#include "models/config/overrides.h"
#include "models/config/yaml_reader.h"
#include "models/core/error.h"
#include "tests/unit/common/temp_dir.h"

namespace {

struct leaf_cfg {
    unsigned rows = 128;
    double read_pulse = 10e-9;
    std::string readout = "parallel";
    template <class V>
    void visit(V& v) {
        v("rows", rows, "word lines");
        v("read_pulse", read_pulse, cim::unit::second, "read pulse width");
        v.choice("readout", readout, {"parallel", "sequential"}, "read-out scheme");
    }
    void validate() const {
        if (rows == 0 || rows > 4096) throw cim::config_error("", 0, "rows", "must be in 1..4096");
    }
};

struct root_cfg {
    double ron = 100e3;
    bool flag = false;
    leaf_cfg sub;
    template <class V>
    void visit(V& v) {
        v("ron", ron, cim::unit::ohm, "on resistance");
        v("flag", flag, "a flag");
        v("sub", sub, "a section");
    }
};

// Every test writes into its own temp folder (tests/unit/common/temp_dir.h), so relative includes resolve there.
std::string write_tmp(const std::string& name, const std::string& text) {
    const std::string path = cim::testing::temp_path(name);
    std::ofstream(path) << text;
    return path;
}

std::string error_of(const std::string& text) {
    const std::string path = write_tmp("cfg_err.yaml", text);
    root_cfg c;
    try {
        cim::cfg::load_file(path, c);
    } catch (const cim::config_error& e) {
        return e.format();
    }
    return "";
}

}  // namespace

TEST(Config, ReadsUnitsAndNested) {
    const auto p = write_tmp("ok.yaml", "ron: 6 kOhm\nflag: true\nsub:\n  rows: 256\n  read_pulse: 2 ns\n");
    root_cfg c;
    cim::cfg::load_file(p, c);
    EXPECT_DOUBLE_EQ(c.ron, 6e3);
    EXPECT_TRUE(c.flag);
    EXPECT_EQ(c.sub.rows, 256u);
    EXPECT_DOUBLE_EQ(c.sub.read_pulse, 2e-9);
    EXPECT_EQ(c.sub.readout, "parallel");
}

TEST(Config, IncludeRelativeFile) {
    write_tmp("inc_leaf.yaml", "source: \"test\"\nrows: 64\n");
    const auto p = write_tmp("inc_root.yaml", "sub: inc_leaf.yaml\n");
    root_cfg c;
    std::vector<std::string> sources;
    cim::cfg::load_file(p, c, &sources);
    EXPECT_EQ(c.sub.rows, 64u);
    ASSERT_EQ(sources.size(), 1u);
}

TEST(Config, UnknownKeySuggestsNearest) {
    const std::string e = error_of("ron: 1 kOhm\nsub:\n  rwos: 3\n");
    EXPECT_NE(e.find("cfg_err.yaml:3: sub.rwos"), std::string::npos) << e;
    EXPECT_NE(e.find("sub.rwos"), std::string::npos) << e;
    EXPECT_NE(e.find("did you mean 'rows'"), std::string::npos) << e;
}

TEST(Config, WrongUnitIsError) {
    const std::string e = error_of("ron: 3 ns\n");
    EXPECT_NE(e.find(":1: ron:"), std::string::npos) << e;
    EXPECT_NE(e.find("expected a value in Ohm"), std::string::npos) << e;
}

TEST(Config, OutOfRangeNamesKeyAndLine) {
    const std::string e = error_of("flag: false\nsub:\n  rows: 0\n");
    EXPECT_NE(e.find("cfg_err.yaml:3: sub.rows: must be in 1..4096"), std::string::npos) << e;
}

TEST(Config, BadChoiceAndType) {
    EXPECT_NE(error_of("sub: {readout: paralel}\n").find("did you mean 'parallel'"), std::string::npos);
    EXPECT_NE(error_of("flag: maybe\n").find("not a boolean"), std::string::npos);
    EXPECT_NE(error_of("sub: {rows: -3}\n").find("negative"), std::string::npos);
}

TEST(Config, MalformedYamlAndMissingFile) {
    EXPECT_NE(error_of("sub: {rows: 3\n").find("malformed YAML"), std::string::npos);
    root_cfg c;
    try {
        cim::cfg::load_file("/nonexistent/x.yaml", c);
        FAIL();
    } catch (const cim::config_error& e) {
        EXPECT_EQ(e.format(), "/nonexistent/x.yaml: file not found");
    }
}

TEST(Config, OverridesApplyAndValidate) {
    root_cfg c;
    cim::cfg::apply_overrides(c, {cim::cfg::parse_override("sub.rows=512"), cim::cfg::parse_override("ron=1 MOhm")});
    EXPECT_EQ(c.sub.rows, 512u);
    EXPECT_DOUBLE_EQ(c.ron, 1e6);
    try {
        cim::cfg::apply_overrides(c, {cim::cfg::parse_override("sub.rosw=1")});
        FAIL();
    } catch (const cim::config_error& e) {
        EXPECT_NE(e.format().find("did you mean 'rows'"), std::string::npos) << e.format();
    }
    EXPECT_THROW(cim::cfg::apply_overrides(c, {cim::cfg::parse_override("sub.rows=0")}), cim::config_error);
    EXPECT_THROW(cim::cfg::apply_overrides(c, {cim::cfg::parse_override("ron")}), cim::config_error);
}

TEST(Config, DescribeAndJson) {
    root_cfg c;
    const auto docs = cim::cfg::describe(c);
    bool found = false;
    for (const auto& d : docs)
        if (d.path == "sub.read_pulse") {
            found = true;
            EXPECT_EQ(d.kind, "s");
            EXPECT_EQ(d.default_value, "10 ns");
        }
    EXPECT_TRUE(found);
    const auto j = cim::cfg::to_json(c);
    EXPECT_EQ(j["sub"]["rows"], 128);
}
