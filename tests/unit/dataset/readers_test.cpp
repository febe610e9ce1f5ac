// Dataset readers: round trips through files written byte by byte to each format's specification, and every
// malformed input a user can hand the CLI, each of which must name the file and say what is wrong.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "models/core/error.h"
#include "models/dataset/readers.h"
#include "tests/unit/dataset/test_files.h"

namespace cim::dataset {
namespace {

using namespace cim::dataset::testing;

/// The error must point at `file` (the CLI prints format(), "file: message") and mention `what`.
void expect_names(const config_error& e, const std::string& file, const std::string& what) {
    EXPECT_EQ(e.file(), file) << e.format();
    EXPECT_TRUE(contains(e.format(), file)) << e.format();
    EXPECT_TRUE(contains(e.what(), what)) << "expected '" << what << "' in: " << e.format();
}

std::vector<std::uint8_t> ramp(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t k = 0; k < n; ++k) v[k] = static_cast<std::uint8_t>((k * 37 + 11) % 256);
    return v;
}

// ---------------------------------------------------------------------------------------------------------
// IDX

// Issue 22, finding 3: dimensions 2^22 x 2^21 x 2^21 multiply to 2^64, which wrapped to 0 values, so a 16-byte
// header passed the size check; with 2^22 (gzipped) labels the run then died in dataset::subset.
TEST(idx, dimensions_whose_product_wraps_are_rejected) {
    std::string im;
    put_be32(im, 0x00000803);
    put_be32(im, 1u << 22);
    put_be32(im, 1u << 21);
    put_be32(im, 1u << 21);
    const std::string images = write_raw("wrap-images", im);
    const std::string labels = write_gz("wrap-labels.gz", idx_labels(std::vector<std::uint8_t>(1u << 22, 0)));
    const config_error e = expect_config_error([&] {
        const dataset d = load_idx(images, labels);
        (void)d.subset(2);
    });
    expect_names(e, images, "IDX dimensions 4194304x2097152x2097152 describe more than");
}

// A dataset built by hand that holds fewer pixels than n says: subset never reads past them.
TEST(dataset, subset_of_an_inconsistent_dataset_is_an_error) {
    dataset d;
    d.name = "hand-made";
    d.n = 4;
    d.c = 1;
    d.h = d.w = 2;
    d.pixels.assign(8, 0.5f);  // 2 images' worth
    d.labels.assign(4, 0);
    EXPECT_EQ(d.subset(2).n, 2);
    EXPECT_THROW((void)d.subset(3), model_error);
    d.labels.resize(1);
    EXPECT_THROW((void)d.subset(2), model_error);
}

// Datasets are read bounded and typed too: a device or a folder is an error at once, never a hang or an empty set.
TEST(idx, device_or_folder_is_rejected) {
    const std::string labels = write_raw("lb.idx", idx_labels({1}));
    expect_names(expect_config_error([&] { load_idx("/dev/zero", labels); }), "/dev/zero", "not a regular file");
    const std::string dir = cim::testing::test_dir();
    expect_names(expect_config_error([&] { load_cifar10({dir}); }), dir, "is a folder");
}

// Gzip is inflated in memory now (bounded by the dataset limit): a concatenation of members reads as one file, as
// gzip -c a b > ab writes it, and bytes after the last member are corrupt data, not silently dropped.
TEST(idx, gzip_concatenated_members_and_trailing_garbage) {
    const auto px = ramp(2 * 2 * 2);
    std::string gz1 = read_back(write_gz("a.gz", idx_images(2, 2, 2, px).substr(0, 10)));
    std::string gz2 = read_back(write_gz("b.gz", idx_images(2, 2, 2, px).substr(10)));
    const std::string lb = write_raw("lb.idx", idx_labels({1, 2}));
    const dataset d = load_idx_data({"two-members.gz", gz1 + gz2}, {lb, read_back(lb)});
    EXPECT_EQ(d.n, 2);
    const config_error e = expect_config_error([&] { load_idx_data({"garbage.gz", gz1 + "junk"}, {lb, read_back(lb)}); });
    EXPECT_TRUE(contains(e.what(), "corrupt gzip data")) << e.format();
}

TEST(synthetic, size_is_bounded) {
    const config_error e = expect_config_error([] { synthetic(2000000000, 3, 32, 32, 10, 1); });
    EXPECT_TRUE(contains(e.what(), "are more than")) << e.format();
}

TEST(idx, raw_round_trip) {
    const auto px = ramp(3 * 4 * 5);
    const std::string im = write_raw("im.idx", idx_images(3, 4, 5, px));
    const std::string lb = write_raw("lb.idx", idx_labels({7, 0, 9}));
    const dataset d = load_idx(im, lb);
    EXPECT_EQ(d.n, 3);
    EXPECT_EQ(d.c, 1);
    EXPECT_EQ(d.h, 4);
    EXPECT_EQ(d.w, 5);
    ASSERT_EQ(d.pixels.size(), px.size());
    for (std::size_t k = 0; k < px.size(); ++k) EXPECT_FLOAT_EQ(d.pixels[k], px[k] / 255.0f);
    EXPECT_EQ(d.labels, (std::vector<int>{7, 0, 9}));
    EXPECT_EQ(d.num_classes(), 10);
    // 8-bit input codes give the bytes back exactly.
    const auto codes = d.input(1, 8);
    for (std::size_t k = 0; k < codes.size(); ++k) EXPECT_EQ(codes[k], px[20 + k]);
}

TEST(idx, gzip_round_trip) {
    const auto px = ramp(2 * 28 * 28);
    const std::string im = write_gz("im.idx.gz", idx_images(2, 28, 28, px));
    const std::string lb = write_gz("lb.idx.gz", idx_labels({3, 4}));
    const dataset d = load_idx(im, lb);
    EXPECT_EQ(d.n, 2);
    EXPECT_EQ(d.h, 28);
    EXPECT_EQ(d.w, 28);
    EXPECT_EQ(d.labels, (std::vector<int>{3, 4}));
    for (std::size_t k = 0; k < px.size(); ++k) ASSERT_FLOAT_EQ(d.pixels[k], px[k] / 255.0f);
    // Mixed: gz images, raw labels.
    const std::string raw_lb = write_raw("lb.idx", idx_labels({3, 4}));
    EXPECT_EQ(load_idx(im, raw_lb).labels, d.labels);
}

TEST(idx, wrong_magic) {
    std::string body = idx_images(1, 2, 2, ramp(4));
    body[2] = 0x12;
    body[3] = 0x34;
    const std::string im = write_raw("im.idx", body);
    const std::string lb = write_raw("lb.idx", idx_labels({1}));
    const auto e = expect_config_error([&] { load_idx(im, lb); });
    expect_names(e, im, "wrong magic number 0x00001234: expected 0x00000803");
}

TEST(idx, swapped_files_are_explained) {
    const std::string im = write_raw("im.idx", idx_images(1, 2, 2, ramp(4)));
    const std::string lb = write_raw("lb.idx", idx_labels({1}));
    const auto e = expect_config_error([&] { load_idx(lb, im); });
    expect_names(e, lb, "swapped");
}

TEST(idx, float_idx_is_unsupported) {
    std::string body = idx_images(1, 2, 2, ramp(4));
    body[2] = 0x0D;  // IDX type code of float32
    const std::string im = write_raw("im.idx", body);
    const std::string lb = write_raw("lb.idx", idx_labels({1}));
    expect_names(expect_config_error([&] { load_idx(im, lb); }), im, "unsigned-byte");
}

TEST(idx, truncated_images_give_expected_and_actual_bytes) {
    std::string body = idx_images(3, 4, 4, ramp(48));
    body.resize(body.size() - 5);  // 16 + 48 = 64 expected, 59 present
    const std::string im = write_raw("im.idx", body);
    const std::string lb = write_raw("lb.idx", idx_labels({1, 2, 3}));
    const auto e = expect_config_error([&] { load_idx(im, lb); });
    expect_names(e, im, "truncated file: expected 64 bytes");
    EXPECT_TRUE(contains(e.what(), "got 59 bytes")) << e.what();
}

TEST(idx, truncated_header) {
    const std::string im = write_raw("im.idx", idx_images(3, 4, 4, {}).substr(0, 10));
    const std::string lb = write_raw("lb.idx", idx_labels({1, 2, 3}));
    expect_names(expect_config_error([&] { load_idx(im, lb); }), im, "truncated file: expected 16 bytes");
}

TEST(idx, truncated_gzip_labels) {
    const std::string im = write_raw("im.idx", idx_images(100000, 1, 1, ramp(100000)));
    const std::string big = write_gz("big.idx.gz", idx_labels(ramp(100000)));
    // A cut-off download: keep only the first part of the compressed stream.
    std::ifstream in(big, std::ios::binary);
    std::string gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string cut = write_raw("cut.idx.gz", gz.substr(0, gz.size() / 2));
    const auto e = expect_config_error([&] { load_idx(im, cut); });
    expect_names(e, cut, "truncated");
}

TEST(idx, trailing_bytes) {
    const std::string im = write_raw("im.idx", idx_images(1, 2, 2, ramp(4)) + "junk");
    const std::string lb = write_raw("lb.idx", idx_labels({1}));
    const auto e = expect_config_error([&] { load_idx(im, lb); });
    expect_names(e, im, "trailing data: expected 20 bytes");
    EXPECT_TRUE(contains(e.what(), "4 bytes too many")) << e.what();
    const std::string lb2 = write_gz("lb2.idx.gz", idx_labels({1}) + "x");
    const std::string im2 = write_raw("im2.idx", idx_images(1, 2, 2, ramp(4)));
    expect_names(expect_config_error([&] { load_idx(im2, lb2); }), lb2, "(decompressed)");
}

TEST(idx, label_count_mismatch) {
    const std::string im = write_raw("im.idx", idx_images(3, 2, 2, ramp(12)));
    const std::string lb = write_raw("lb.idx", idx_labels({1, 2}));
    const auto e = expect_config_error([&] { load_idx(im, lb); });
    expect_names(e, lb, "label count mismatch: 2 labels for 3 images");
    EXPECT_TRUE(contains(e.what(), im)) << e.what();
}

TEST(idx, missing_file) {
    const std::string im = temp_path("absent.idx");
    const std::string lb = write_raw("lb.idx", idx_labels({1}));
    expect_names(expect_config_error([&] { load_idx(im, lb); }), im, "file not found");
}

// ---------------------------------------------------------------------------------------------------------
// CIFAR-10

std::string cifar_record(std::uint8_t label, std::uint8_t seed) {
    std::string r(1, static_cast<char>(label));
    for (int k = 0; k < 3072; ++k) r += static_cast<char>((k * 7 + seed) % 256);
    return r;
}

TEST(cifar10, round_trip_over_batches) {
    const std::string a = write_raw("a.bin", cifar_record(3, 1) + cifar_record(9, 2));
    const std::string b = write_raw("b.bin", cifar_record(0, 3));
    const dataset d = load_cifar10({a, b});
    EXPECT_EQ(d.n, 3);
    EXPECT_EQ(d.c, 3);
    EXPECT_EQ(d.h, 32);
    EXPECT_EQ(d.w, 32);
    EXPECT_EQ(d.labels, (std::vector<int>{3, 9, 0}));
    EXPECT_EQ(d.num_classes(), 10);
    // Image 1 (seed 2): R plane first, then G (offset 1024), then B (2048) -- already CHW.
    const auto codes = d.input(1, 8);
    for (int k : {0, 1, 1023, 1024, 2047, 2048, 3071}) EXPECT_EQ(codes[static_cast<std::size_t>(k)], (k * 7 + 2) % 256);
    // A gzipped batch reads the same.
    const std::string gz = write_gz("b.bin.gz", cifar_record(0, 3));
    EXPECT_EQ(load_cifar10({gz}).pixels, load_cifar10({b}).pixels);
}

TEST(cifar10, size_not_a_multiple_of_a_record) {
    const std::string f = write_raw("a.bin", cifar_record(1, 1) + "xyz");
    const auto e = expect_config_error([&] { load_cifar10({f}); });
    expect_names(e, f, "3076 bytes is not a non-zero multiple of 3073");
    EXPECT_TRUE(contains(e.what(), "1 whole record(s) and 3 bytes over")) << e.what();
    const std::string empty = write_raw("empty.bin", "");
    expect_names(expect_config_error([&] { load_cifar10({empty}); }), empty, "0 bytes");
}

TEST(cifar10, label_above_nine_names_the_record) {
    const std::string ok = write_raw("ok.bin", cifar_record(1, 1));
    const std::string f = write_raw("bad.bin", cifar_record(1, 1) + cifar_record(2, 1) + cifar_record(42, 1));
    const auto e = expect_config_error([&] { load_cifar10({ok, f}); });
    expect_names(e, f, "record 2 (byte offset 6146): label 42 is outside 0..9");
}

TEST(cifar10, missing_file) {
    const std::string f = temp_path("absent.bin");
    expect_names(expect_config_error([&] { load_cifar10({f}); }), f, "file not found");
}

// ---------------------------------------------------------------------------------------------------------
// NPY

TEST(npy, uint8_nchw_with_int64_labels) {
    const auto px = ramp(2 * 3 * 2 * 4);
    const std::string im = write_raw("im.npy", npy("|u1", "(2, 3, 2, 4)", std::string(px.begin(), px.end())));
    const std::string lb = write_raw("lb.npy", npy("<i8", "(2,)", le_bytes<std::int64_t>({5, 1})));
    const dataset d = load_npy(im, lb);
    EXPECT_EQ(d.n, 2);
    EXPECT_EQ(d.c, 3);
    EXPECT_EQ(d.h, 2);
    EXPECT_EQ(d.w, 4);
    EXPECT_EQ(d.labels, (std::vector<int>{5, 1}));
    for (std::size_t k = 0; k < px.size(); ++k) EXPECT_FLOAT_EQ(d.pixels[k], px[k] / 255.0f);
}

TEST(npy, float32_nhw_with_uint8_labels) {
    const std::vector<float> px = {0.0f, 0.25f, 0.5f, 1.0f, 0.1f, 0.9f, 0.3f, 0.7f};
    const std::string im = write_raw("im.npy", npy("<f4", "(2, 2, 2)", le_bytes(px)));
    const std::string lb = write_raw("lb.npy", npy("|u1", "(2,)", std::string("\x02\x07", 2)));
    const dataset d = load_npy(im, lb);
    EXPECT_EQ(d.n, 2);
    EXPECT_EQ(d.c, 1);
    EXPECT_EQ(d.h, 2);
    EXPECT_EQ(d.w, 2);
    EXPECT_EQ(d.pixels, px);
    EXPECT_EQ(d.labels, (std::vector<int>{2, 7}));
    EXPECT_EQ(d.input(0, 4), (std::vector<std::int32_t>{0, 4, 8, 15}));  // round(p * 15), 7.5 rounds up
}

TEST(npy, other_integer_label_types_and_big_endian) {
    const std::string im = write_raw("im.npy", npy("|u1", "(3, 1, 1)", std::string("\x01\x02\x03", 3)));
    const std::map<std::string, std::string> labels = {
        {"<i4", le_bytes<std::int32_t>({0, 1, 2})},
        {"<i2", le_bytes<std::int16_t>({0, 1, 2})},
        {"|i1", std::string("\x00\x01\x02", 3)},
        {"<u2", le_bytes<std::uint16_t>({0, 1, 2})},
        {">i4", std::string("\0\0\0\0\0\0\0\x01\0\0\0\x02", 12)},
    };
    for (const auto& [descr, data] : labels) {
        const std::string lb = write_raw("lb.npy", npy(descr, "(3,)", data));
        EXPECT_EQ(load_npy(im, lb).labels, (std::vector<int>{0, 1, 2})) << descr;
    }
    // float64 images and a version 2.0 header (u32 length) read too.
    const std::string v2 = npy_with_dict("{'shape': (3, 1, 1), 'fortran_order': False, 'descr': '<f8'}",
                                         le_bytes<double>({0.0, 0.5, 1.0}), 2);
    const std::string im2 = write_raw("im2.npy", v2);
    const std::string lb = write_raw("lb2.npy", npy("<i8", "(3,)", le_bytes<std::int64_t>({0, 1, 2})));
    EXPECT_EQ(load_npy(im2, lb).pixels, (std::vector<float>{0.0f, 0.5f, 1.0f}));
}

TEST(npy, bad_header) {
    const std::string lb = write_raw("lb.npy", npy("<i8", "(1,)", le_bytes<std::int64_t>({0})));
    const std::string im = write_raw("im.npy", npy_with_dict("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 1, 1", "x"));
    expect_names(expect_config_error([&] { load_npy(im, lb); }), im, "malformed NPY header");
    const std::string magic = write_raw("magic.npy", "PK\x03\x04 this is a zip (an .npz)");
    expect_names(expect_config_error([&] { load_npy(magic, lb); }), magic, "not an NPY file");
}

TEST(npy, fortran_order_is_rejected) {
    const std::string im = write_raw("im.npy", npy("|u1", "(1, 2, 2)", "abcd", true));
    const std::string lb = write_raw("lb.npy", npy("<i8", "(1,)", le_bytes<std::int64_t>({0})));
    expect_names(expect_config_error([&] { load_npy(im, lb); }), im, "fortran_order is True");
}

TEST(npy, unsupported_dtypes) {
    const std::string im = write_raw("im.npy", npy("<i4", "(1, 1, 1)", le_bytes<std::int32_t>({1})));
    const std::string lb = write_raw("lb.npy", npy("<i8", "(1,)", le_bytes<std::int64_t>({0})));
    expect_names(expect_config_error([&] { load_npy(im, lb); }), im, "unsupported image dtype '<i4'");
    const std::string good = write_raw("good.npy", npy("|u1", "(1, 1, 1)", "a"));
    const std::string flb = write_raw("flb.npy", npy("<f4", "(1,)", le_bytes<float>({0.0f})));
    expect_names(expect_config_error([&] { load_npy(good, flb); }), flb, "unsupported label dtype '<f4'");
}

TEST(npy, bad_shapes) {
    const std::string lb = write_raw("lb.npy", npy("<i8", "(1,)", le_bytes<std::int64_t>({0})));
    const std::string im2d = write_raw("im2d.npy", npy("|u1", "(1, 4)", "abcd"));
    expect_names(expect_config_error([&] { load_npy(im2d, lb); }), im2d, "bad image array shape (1, 4)");
    const std::string zero = write_raw("zero.npy", npy("|u1", "(1, 0, 4)", ""));
    expect_names(expect_config_error([&] { load_npy(zero, lb); }), zero, "bad image array shape (1, 0, 4)");
    const std::string im = write_raw("im.npy", npy("|u1", "(1, 1, 1)", "a"));
    const std::string lb2 = write_raw("lb2.npy", npy("<i8", "(1, 1)", le_bytes<std::int64_t>({0})));
    expect_names(expect_config_error([&] { load_npy(im, lb2); }), lb2, "expected (N,)");
}

TEST(npy, truncated_and_trailing_data) {
    const std::string lb = write_raw("lb.npy", npy("<i8", "(2,)", le_bytes<std::int64_t>({0, 1})));
    const std::string cut = write_raw("cut.npy", npy("<f4", "(2, 1, 2)", le_bytes<float>({0, 0, 0})));
    const auto e = expect_config_error([&] { load_npy(cut, lb); });
    expect_names(e, cut, "truncated file: expected 144 bytes");  // 128-byte header + 4 x 4
    EXPECT_TRUE(contains(e.what(), "got 140 bytes")) << e.what();
    const std::string extra = write_raw("extra.npy", npy("|u1", "(2, 1, 2)", "abcde"));
    expect_names(expect_config_error([&] { load_npy(extra, lb); }), extra, "trailing data");
}

TEST(npy, float_out_of_range_names_the_index) {
    const std::string im = write_raw("im.npy", npy("<f4", "(2, 1, 2, 2)", le_bytes<float>({0, 0, 0, 0, 0.5f, 0, 255.0f, 2})));
    const std::string lb = write_raw("lb.npy", npy("<i8", "(2,)", le_bytes<std::int64_t>({0, 1})));
    const auto e = expect_config_error([&] { load_npy(im, lb); });
    expect_names(e, im, "pixel value 255 at flat index 6 (image 1, channel 0, row 1, column 0) is outside [0, 1]");
    const std::string neg = write_raw("neg.npy", npy("<f4", "(1, 1, 2)", le_bytes<float>({0, -0.1f})));
    const std::string lb1 = write_raw("lb1.npy", npy("<i8", "(1,)", le_bytes<std::int64_t>({0})));
    expect_names(expect_config_error([&] { load_npy(neg, lb1); }), neg, "flat index 1");
}

TEST(npy, label_count_mismatch_and_negative_label) {
    const std::string im = write_raw("im.npy", npy("|u1", "(3, 1, 1)", "abc"));
    const std::string lb = write_raw("lb.npy", npy("<i8", "(2,)", le_bytes<std::int64_t>({0, 1})));
    expect_names(expect_config_error([&] { load_npy(im, lb); }), lb, "label count mismatch: 2 labels for 3 images");
    const std::string neg = write_raw("neg.npy", npy("<i2", "(3,)", le_bytes<std::int16_t>({0, -1, 2})));
    expect_names(expect_config_error([&] { load_npy(im, neg); }), neg, "label -1 at index 1");
}

TEST(npy, missing_file) {
    const std::string im = write_raw("im.npy", npy("|u1", "(1, 1, 1)", "a"));
    const std::string lb = temp_path("absent.npy");
    expect_names(expect_config_error([&] { load_npy(im, lb); }), lb, "file not found");
}

// ---------------------------------------------------------------------------------------------------------
// synthetic, --dataset specs, shape check

TEST(synthetic, seeded_and_prefix_stable) {
    const dataset a = synthetic(5, 3, 4, 4, 10, 42);
    const dataset b = synthetic(5, 3, 4, 4, 10, 42);
    const dataset c = synthetic(5, 3, 4, 4, 10, 43);
    const dataset small = synthetic(2, 3, 4, 4, 10, 42);
    EXPECT_EQ(a.pixels, b.pixels);
    EXPECT_EQ(a.labels, b.labels);
    EXPECT_NE(a.pixels, c.pixels);
    EXPECT_EQ(small.pixels, a.subset(2).pixels);
    EXPECT_EQ(small.labels, a.subset(2).labels);
    EXPECT_EQ(a.num_classes(), 10);
    for (float p : a.pixels) {
        EXPECT_GE(p, 0.0f);
        EXPECT_LT(p, 1.0f);
    }
    for (int l : a.labels) {
        EXPECT_GE(l, 0);
        EXPECT_LT(l, 10);
    }
    expect_config_error([] { synthetic(0, 1, 1, 1, 10, 1); });
}

TEST(spec, every_scheme) {
    const std::string im = write_raw("im.idx", idx_images(2, 3, 3, ramp(18)));
    const std::string lb = write_raw("lb.idx", idx_labels({1, 2}));
    const dataset d = load_spec("idx:" + im + "," + lb);
    EXPECT_EQ(d.n, 2);
    EXPECT_EQ(d.name, "idx:" + im + "," + lb);

    const std::string a = write_raw("a.bin", cifar_record(3, 1));
    const std::string b = write_raw("b.bin", cifar_record(4, 1));
    EXPECT_EQ(load_spec("cifar10:" + a + "," + b).labels, (std::vector<int>{3, 4}));

    const std::string nim = write_raw("im.npy", npy("|u1", "(1, 1, 1)", "a"));
    const std::string nlb = write_raw("lb.npy", npy("<i8", "(1,)", le_bytes<std::int64_t>({6})));
    EXPECT_EQ(load_spec("npy:" + nim + "," + nlb).labels, (std::vector<int>{6}));

    const dataset s = load_spec("synthetic:7", network::shape{3, 8, 8}, 5, 9);
    EXPECT_EQ(s.n, 7);
    EXPECT_EQ(s.c, 3);
    EXPECT_EQ(s.num_classes(), 5);
    EXPECT_EQ(s.pixels, synthetic(7, 3, 8, 8, 5, 9).pixels);
}

TEST(spec, malformed_specs_name_dataset_option) {
    for (const std::string spec : {"mnist", "imagenet:/data", "idx:only_one", "npy:a,b,c", "cifar10:", "synthetic:x",
                                   "synthetic:-3", "synthetic:10", "fashion-mnist:validation"}) {
        const auto e = expect_config_error([&] { load_spec(spec); });
        EXPECT_EQ(e.key(), "--dataset") << spec;
        EXPECT_TRUE(contains(e.format(), "--dataset")) << e.format();
    }
    const auto e = expect_config_error([] { load_spec("imagenet:/data"); });
    EXPECT_TRUE(contains(e.what(), "unknown scheme 'imagenet'")) << e.what();
    EXPECT_TRUE(contains(e.what(), "idx:IMAGES,LABELS")) << e.what();
    EXPECT_TRUE(contains(e.what(), "cifar10:FILE[,FILE...]")) << e.what();
    EXPECT_TRUE(contains(e.what(), "synthetic:N")) << e.what();
    const auto no_shape = expect_config_error([] { load_spec("synthetic:10"); });
    EXPECT_TRUE(contains(no_shape.what(), "input shape")) << no_shape.what();
}

TEST(spec, missing_file_through_spec) {
    const std::string im = temp_path("absent.idx");
    const auto e = expect_config_error([&] { load_spec("idx:" + im + "," + im); });
    expect_names(e, im, "file not found");
}

TEST(fashion_mnist, absent_folder_says_how_to_install) {
    const std::string folder = temp_path("no_such_folder");
    const auto e = expect_config_error([&] { load_fashion_mnist(folder, "train"); });
    expect_names(e, folder + "/train-images-idx3-ubyte.gz", "apt-get install dataset-fashion-mnist");
}

TEST(shape, mismatch_names_both_shapes) {
    const dataset d = synthetic(1, 1, 28, 28, 10, 1);
    EXPECT_NO_THROW(check_shape(d, network::shape{1, 28, 28}, "net.yaml"));
    const auto e = expect_config_error([&] { check_shape(d, network::shape{3, 32, 32}, "net.yaml"); });
    expect_names(e, "net.yaml", "has 1x28x28 images (CxHxW) but the network input is 3x32x32");
}

TEST(fashion_mnist, debian_package_t10k) {
    const std::string images = std::string(k_fashion_mnist_folder) + "/t10k-images-idx3-ubyte.gz";
    if (!std::filesystem::exists(images)) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    const dataset d = load_spec("fashion-mnist");
    EXPECT_EQ(d.name, "fashion-mnist");
    EXPECT_EQ(d.n, 10000);
    EXPECT_EQ(d.c, 1);
    EXPECT_EQ(d.h, 28);
    EXPECT_EQ(d.w, 28);
    EXPECT_EQ(d.num_classes(), 10);
    std::vector<int> per_class(10, 0);
    for (int l : d.labels) {
        ASSERT_GE(l, 0);
        ASSERT_LE(l, 9);
        ++per_class[static_cast<std::size_t>(l)];
    }
    EXPECT_EQ(per_class, std::vector<int>(10, 1000));
    for (float p : d.pixels) ASSERT_TRUE(p >= 0.0f && p <= 1.0f);
    EXPECT_EQ(d.pixels.size(), 10000u * 784u);
}

}  // namespace
}  // namespace cim::dataset
