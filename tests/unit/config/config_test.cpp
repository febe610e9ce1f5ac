#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "models/config/describe.h"
#include "models/config/json_writer.h"
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
        v.renamed("lines", "rows");
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

TEST(Config, RenamedKeyNamesItsNewName) {
    const std::string e = error_of("ron: 1 kOhm\nsub:\n  lines: 3\n");
    EXPECT_NE(e.find("cfg_err.yaml:3: sub.lines: 'lines' was renamed: it is now sub.rows"), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;  // one line
    root_cfg c;
    try {
        cim::cfg::apply_overrides(c, {cim::cfg::parse_override("sub.lines=3")});
        FAIL();
    } catch (const cim::config_error& x) {
        EXPECT_EQ(x.format(), "--set: sub.lines: 'lines' was renamed: it is now sub.rows");
    }
    // The old name is no field: describe() lists only the new one.
    for (const auto& d : cim::cfg::describe(c)) EXPECT_EQ(d.path.find("lines"), std::string::npos) << d.path;
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

namespace {

// A struct that declares its ranges with the parameters.
struct ranged_cfg {
    double r_on = 100e3;
    double ratio = 10;
    unsigned bits = 4;
    double sigma = 0;
    template <class V>
    void visit(V& v) {
        v("r_on", r_on, cim::unit::ohm, cim::range{1, 1e10}, "on resistance");
        v("ratio", ratio, "on/off ratio (the unit-less envelope)");
        v("bits", bits, cim::range{1, 8}, "bits per cell");
        v("sigma", sigma, cim::range{0, 1}, "a fraction");
    }
};

struct ranged_root {
    ranged_cfg cell;
    leaf_cfg sub;
    template <class V>
    void visit(V& v) {
        v("cell", cell, "a cell");
        v("sub", sub, "a section");
    }
};

std::string ranged_error(const std::string& text, const std::vector<std::string>& sets = {}) {
    const std::string path = write_tmp("ranged.yaml", text);
    ranged_root c;
    try {
        cim::cfg::load_file(path, c);
        std::vector<cim::cfg::override_spec> o;
        for (const auto& s : sets) o.push_back(cim::cfg::parse_override(s));
        cim::cfg::apply_overrides(c, o);
    } catch (const cim::config_error& e) {
        return e.format();
    }
    return "";
}

}  // namespace

// Issue 22: every value is checked after unit conversion against the range declared with it, or the envelope of its
// unit; cell.r_on = 1e30 Ohm was accepted and made a chip 3.6x faster.
TEST(Config, RangesAreCheckedAfterUnitConversion) {
    EXPECT_EQ(ranged_error("cell: {r_on: 6 kOhm, bits: 2, sigma: 0.5}\n"), "");
    EXPECT_NE(ranged_error("cell:\n  r_on: 1e30 Ohm\n").find("ranged.yaml:2: cell.r_on: 1e+30 Ohm is outside its range [1 Ohm, 10 GOhm]"),
              std::string::npos)
        << ranged_error("cell:\n  r_on: 1e30 Ohm\n");
    EXPECT_NE(ranged_error("cell: {r_on: 20 GOhm}\n").find("outside its range"), std::string::npos);
    EXPECT_NE(ranged_error("cell: {bits: 9}\n").find("cell.bits: 9 is outside its range 1..8"), std::string::npos)
        << ranged_error("cell: {bits: 9}\n");
    EXPECT_NE(ranged_error("cell: {ratio: 1e12}\n").find("physical envelope"), std::string::npos);
    EXPECT_NE(ranged_error("cell: {sigma: 150 %}\n").find("cell.sigma"), std::string::npos);
    EXPECT_NE(ranged_error("cell: {r_on: 1e300 TOhm}\n").find("not finite"), std::string::npos);
    // --set: the same check, naming the override.
    EXPECT_EQ(ranged_error("{}\n", {"cell.r_on=1e30 Ohm"}).rfind("--set: cell.r_on: 1e+30 Ohm is outside its range", 0), 0u)
        << ranged_error("{}\n", {"cell.r_on=1e30 Ohm"});
    EXPECT_NE(ranged_error("{}\n", {"sub.read_pulse=1e300 TF/m"}).find("has unit F/m"), std::string::npos);
    EXPECT_NE(ranged_error("{}\n", {"sub.read_pulse=1e300 Ts"}).find("not finite in SI units"), std::string::npos);
    // A struct built in code is checked by check_ranges (its validate() calls it).
    ranged_cfg bad;
    bad.sigma = 2;
    try {
        cim::cfg::check_ranges(bad);
        FAIL();
    } catch (const cim::config_error& e) {
        EXPECT_EQ(e.key(), "sigma");
    }
}

TEST(Config, RangesAreDocumented) {
    for (const auto& d : cim::cfg::describe(ranged_root{})) {
        if (d.path == "cell.r_on") {
            EXPECT_EQ(d.range, "[1 Ohm, 10 GOhm]");
            EXPECT_TRUE(d.range_declared);
        }
        if (d.path == "cell.ratio") {
            EXPECT_EQ(d.range, "[-1e+09, 1e+09]");
            EXPECT_FALSE(d.range_declared);
        }
        if (d.path == "cell.bits") EXPECT_EQ(d.range, "1..8");
        if (d.path == "sub.readout") EXPECT_EQ(d.range, "");
    }
}

// Issue 22: yaml-cpp keeps the first of two equal keys silently; the reader names both lines.
TEST(Config, DuplicateKeysNameBothLines) {
    EXPECT_EQ(error_of("ron: 1 kOhm\nflag: true\nron: 2 kOhm\n"),
              cim::testing::temp_path("cfg_err.yaml") + ":3: ron: duplicate key 'ron': first on line 1, again on line 3");
    EXPECT_NE(error_of("sub:\n  rows: 3\n  readout: parallel\n  rows: 4\n").find(":4: sub.rows: duplicate key 'rows': first on line 2"),
              std::string::npos)
        << error_of("sub:\n  rows: 3\n  readout: parallel\n  rows: 4\n");
    EXPECT_NE(error_of("sub: {rows: 3, rows: 4}\n").find("duplicate key 'rows'"), std::string::npos);
    // The same key in two different maps, or in list entries, is fine.
    EXPECT_EQ(error_of("ron: 1 kOhm\nsub: {rows: 3}\n"), "");
    EXPECT_NO_THROW(cim::cfg::load_yaml_text("a: [{x: 1}, {x: 2}]\nb: {x: 1}\nc: &k {x: 1}\nd: *k\n", "t"));
}

// Issue 22: a section naming a folder read as an empty file, so `cell:` naming a folder gave the default cell; a
// section naming /dev/zero hung while memory grew.
TEST(Config, IncludeMustBeARegularFile) {
    const std::string dir = cim::testing::test_dir();
    std::string e = error_of("sub: " + dir + "\n");
    EXPECT_NE(e.find("cfg_err.yaml:1: sub: "), std::string::npos) << e;
    EXPECT_NE(e.find("is a folder"), std::string::npos) << e;
    e = error_of("sub: /dev/zero\n");
    EXPECT_NE(e.find("not a regular file"), std::string::npos) << e;
    root_cfg c;
    try {
        cim::cfg::apply_overrides(c, {cim::cfg::parse_override("sub=" + dir)});
        FAIL();
    } catch (const cim::config_error& err) {
        EXPECT_NE(err.format().find("--set: sub: "), std::string::npos) << err.format();
        EXPECT_NE(err.format().find("is a folder"), std::string::npos) << err.format();
    }
}

// An override remembers where it was given (a sweep file's line, --seed): its errors name that place.
TEST(Config, OverrideErrorsNameTheirOrigin) {
    ranged_root c;
    cim::cfg::override_spec o{"cell.bits", "12", "s.sweep.yaml", 7};
    try {
        cim::cfg::apply_overrides(c, {o});
        FAIL();
    } catch (const cim::config_error& e) {
        EXPECT_EQ(e.format(), "s.sweep.yaml:7: cell.bits: 12 is outside its range 1..8");
    }
    // A section's own check (leaf_cfg::validate) with the override's origin and the key it names.
    ranged_root h;
    try {
        cim::cfg::apply_overrides(h, {{"sub.rows", "0", "--seed", 0}});
        FAIL();
    } catch (const cim::config_error& e) {
        EXPECT_EQ(e.format(), "--seed: sub.rows: must be in 1..4096");
    }
}
