// The NPY header parser: the Python literal forms numpy and hand-written writers produce, and the errors.
#include <gtest/gtest.h>

#include "models/core/error.h"
#include "models/dataset/npy_header.h"
#include "tests/unit/dataset/test_files.h"

namespace cim::dataset {
namespace {

using namespace cim::dataset::testing;

npy_header parse(const std::string& dict) { return parse_npy_header(npy_with_dict(dict, ""), "x.npy"); }

TEST(npy_header, numpy_spelling) {
    const npy_header h = parse("{'descr': '<f4', 'fortran_order': False, 'shape': (10, 1, 28, 28), }");
    EXPECT_EQ(h.major, 1);
    EXPECT_EQ(h.descr, "<f4");
    EXPECT_EQ(h.byte_order(), '<');
    EXPECT_EQ(h.kind(), 'f');
    EXPECT_EQ(h.item_size(), 4);
    EXPECT_FALSE(h.fortran_order);
    EXPECT_EQ(h.shape, (std::vector<std::int64_t>{10, 1, 28, 28}));
    EXPECT_EQ(h.count(), 7840);
    EXPECT_EQ(h.data_offset, 128u);  // the dict pads the header to 128 bytes
    EXPECT_EQ(h.shape_text(), "(10, 1, 28, 28)");
}

TEST(npy_header, order_quotes_spacing_and_one_tuple) {
    const npy_header h = parse("{ \"shape\" :(5,),\"fortran_order\":True ,'descr':\"|u1\"}");
    EXPECT_EQ(h.shape, (std::vector<std::int64_t>{5}));
    EXPECT_EQ(h.shape_text(), "(5,)");
    EXPECT_TRUE(h.fortran_order);
    EXPECT_EQ(h.item_size(), 1);
    EXPECT_EQ(parse("{'descr': '<i8', 'fortran_order': False, 'shape': ()}").count(), 1);  // 0-d array
    EXPECT_EQ(parse("{'descr': '<i8', 'fortran_order': False, 'shape': (3L, 4L)}").count(), 12);  // Python 2
}

TEST(npy_header, errors_name_the_file) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"{'descr': '<f4', 'fortran_order': False}", "missing key 'shape'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3)}", "'shape' is an integer"},
        {"{'descr': '<f4', 'fortran_order': 0, 'shape': (3,)}", "'fortran_order' is an integer"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1}", "unexpected key 'extra'"},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,)}", "structured dtypes"},
        {"{'descr': '<f4' 'fortran_order': False, 'shape': (3,)}", "expected ',' or '}'"},
        {"{'descr': '<f4', 'fortran_order': Flase, 'shape': (3,)}", "unknown name 'Flase'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-3,)}", "non-dimension"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", "duplicate key 'descr'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} trailing", "after the dict"},
        {"{'descr: '<f4'}", "malformed NPY header"},
    };
    for (const auto& [dict, what] : cases) {
        const auto e = expect_config_error([&] { parse(dict); });
        EXPECT_EQ(e.file(), "x.npy") << dict;
        EXPECT_TRUE(contains(e.what(), what)) << dict << " -> " << e.what();
    }
    std::string v9 = npy_with_dict("{}", "");
    v9[6] = 9;
    EXPECT_TRUE(contains(expect_config_error([&] { parse_npy_header(v9, "x.npy"); }).what(), "version 9.0"));
    const std::string cut = npy_with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", "").substr(0, 30);
    EXPECT_TRUE(contains(expect_config_error([&] { parse_npy_header(cut, "x.npy"); }).what(), "truncated NPY header"));
}

}  // namespace
}  // namespace cim::dataset
