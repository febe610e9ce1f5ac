#include <gtest/gtest.h>

#include "models/core/error.h"
#include "models/functional/adc_transfer.h"
#include "models/functional/quant_config.h"

namespace cim::func {
namespace {

quant_config make(unsigned wb, const char* enc) {
    quant_config q;
    q.weight_bits = wb;
    q.encoding = enc;
    return q;
}

TEST(quant_config, columns_per_weight_offset) {
    EXPECT_EQ(columns_per_weight(make(8, "offset"), 1), 8u);
    EXPECT_EQ(columns_per_weight(make(8, "offset"), 2), 4u);
    EXPECT_EQ(columns_per_weight(make(8, "offset"), 3), 3u);
    EXPECT_EQ(columns_per_weight(make(8, "offset"), 4), 2u);
    EXPECT_EQ(columns_per_weight(make(5, "offset"), 2), 3u);
    EXPECT_EQ(reference_columns(make(8, "offset"), 2), 4u);
    EXPECT_EQ(reference_columns(make(5, "offset"), 4), 2u);
}

TEST(quant_config, columns_per_weight_differential) {
    // G+ and G- each hold the (wb-1)-bit magnitude.
    EXPECT_EQ(columns_per_weight(make(8, "differential"), 1), 14u);
    EXPECT_EQ(columns_per_weight(make(8, "differential"), 2), 8u);
    EXPECT_EQ(columns_per_weight(make(8, "differential"), 4), 4u);
    EXPECT_EQ(columns_per_weight(make(9, "differential"), 4), 4u);
    EXPECT_EQ(reference_columns(make(8, "differential"), 2), 0u);
}

TEST(quant_config, input_slices_and_weight_max) {
    quant_config q;
    q.input_bits = 8;
    q.dac_bits = 3;
    EXPECT_EQ(input_slices(q), 3u);
    q.weight_bits = 8;
    EXPECT_EQ(weight_max(q), 127);
}

template <class F>
std::string error_key(F&& f) {
    try {
        f();
    } catch (const config_error& e) {
        return e.key();
    }
    return "<no error>";
}

TEST(quant_config, validate_errors) {
    quant_config ok;
    EXPECT_NO_THROW(ok.validate());
    auto with = [](auto edit) {
        quant_config q;
        edit(q);
        return error_key([&] { q.validate(); });
    };
    EXPECT_EQ(with([](quant_config& q) { q.weight_bits = 1; }), "weight_bits");
    EXPECT_EQ(with([](quant_config& q) { q.weight_bits = 17; }), "weight_bits");
    EXPECT_EQ(with([](quant_config& q) { q.input_bits = 0; }), "input_bits");
    EXPECT_EQ(with([](quant_config& q) { q.input_bits = 17; }), "input_bits");
    EXPECT_EQ(with([](quant_config& q) { q.dac_bits = 0; }), "dac_bits");
    EXPECT_EQ(with([](quant_config& q) { q.input_bits = 4; q.dac_bits = 5; }), "dac_bits");
    EXPECT_EQ(with([](quant_config& q) { q.encoding = "twos"; }), "encoding");
    EXPECT_EQ(with([](quant_config& q) { q.weight_granularity = "per_row"; }), "weight_granularity");

    adc_config a;
    EXPECT_NO_THROW(a.validate());
    auto adc_with = [](auto edit) {
        adc_config c;
        edit(c);
        return error_key([&] { c.validate(); });
    };
    EXPECT_EQ(adc_with([](adc_config& c) { c.transfer = "log"; }), "transfer");
    EXPECT_EQ(adc_with([](adc_config& c) { c.reference = "auto"; }), "reference");
    EXPECT_EQ(adc_with([](adc_config& c) { c.percentile = 0; }), "percentile");
    EXPECT_EQ(adc_with([](adc_config& c) { c.percentile = 100.5; }), "percentile");
    EXPECT_EQ(adc_with([](adc_config& c) { c.batch_images = 0; }), "batch_images");
}

// The visit protocol: every field is reported once under its key, encoding and weight_granularity as choices.
struct recorder {
    std::vector<std::string> keys;
    template <class T>
    void operator()(const char* name, T&, const char*) { keys.push_back(name); }
    template <class T>
    void operator()(const char* name, T&, const range&, const char*) { keys.push_back(name); }
    void choice(const char* name, std::string&, std::initializer_list<const char*> c, const char*) {
        keys.push_back(std::string(name) + "/" + std::to_string(c.size()));
    }
};

TEST(quant_config, visit_names) {
    quant_config q;
    recorder r;
    q.visit(r);
    EXPECT_EQ(r.keys, (std::vector<std::string>{"weight_bits", "input_bits", "dac_bits", "encoding/2",
                                                "weight_granularity/2"}));
    adc_config a;
    recorder ra;
    a.visit(ra);
    EXPECT_EQ(ra.keys, (std::vector<std::string>{"transfer/2", "reference/3", "percentile", "batch_images"}));
}

}  // namespace
}  // namespace cim::func
