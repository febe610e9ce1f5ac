// Writers of small dataset files for the reader tests: the tests build every format byte by byte, so the
// readers are checked against the format specifications, not against themselves.
#pragma once
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/unit/common/error_helpers.h"
#include "tests/unit/common/temp_dir.h"
#include "models/core/error.h"

namespace cim::dataset::testing {

/// A path in the running test's own temp folder.
inline std::string temp_path(const std::string& suffix) { return cim::testing::temp_path(suffix); }

inline std::string write_raw(const std::string& suffix, const std::string& bytes) {
    const std::string path = temp_path(suffix);
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
}

inline std::string write_gz(const std::string& suffix, const std::string& bytes) {
    const std::string path = temp_path(suffix);
    gzFile gz = gzopen(path.c_str(), "wb");
    EXPECT_NE(gz, nullptr);
    EXPECT_EQ(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
    EXPECT_EQ(gzclose(gz), Z_OK);
    return path;
}

inline std::string read_back(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void put_be32(std::string& s, std::uint32_t v) {
    for (int k = 3; k >= 0; --k) s += static_cast<char>((v >> (8 * k)) & 0xFF);
}

/// IDX images file body: magic 0x00000803, N, rows, cols, then the bytes.
inline std::string idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols,
                              const std::vector<std::uint8_t>& px) {
    std::string s;
    put_be32(s, 0x00000803);
    put_be32(s, n);
    put_be32(s, rows);
    put_be32(s, cols);
    s.append(px.begin(), px.end());
    return s;
}

/// IDX labels file body: magic 0x00000801, N, then the bytes.
inline std::string idx_labels(const std::vector<std::uint8_t>& labels) {
    std::string s;
    put_be32(s, 0x00000801);
    put_be32(s, static_cast<std::uint32_t>(labels.size()));
    s.append(labels.begin(), labels.end());
    return s;
}

/// An NPY file as numpy.save writes it: magic, version, little-endian header length (u16 for 1.0, u32 for
/// 2.0), the dict padded with spaces and a newline so the data starts on a 64-byte boundary.
inline std::string npy_with_dict(const std::string& dict, const std::string& data, int major = 1) {
    const std::size_t length_bytes = major == 1 ? 2 : 4;
    std::string header = dict;
    const std::size_t unpadded = 8 + length_bytes + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::string s = "\x93NUMPY";
    s += static_cast<char>(major);
    s += '\x00';
    for (std::size_t k = 0; k < length_bytes; ++k) s += static_cast<char>((header.size() >> (8 * k)) & 0xFF);
    return s + header + data;
}

inline std::string npy(const std::string& descr, const std::string& shape, const std::string& data,
                       bool fortran = false) {
    return npy_with_dict("{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                             ", 'shape': " + shape + ", }",
                         data);
}

/// Little-endian bytes of a vector of trivially copyable values (the test hosts are little-endian; checked).
template <class T>
std::string le_bytes(const std::vector<T>& v) {
    const std::uint16_t probe = 1;
    unsigned char first = 0;
    std::memcpy(&first, &probe, 1);
    EXPECT_EQ(first, 1) << "these writers assume a little-endian host";
    std::string s(v.size() * sizeof(T), '\0');
    std::memcpy(s.data(), v.data(), s.size());
    return s;
}


}  // namespace cim::dataset::testing
