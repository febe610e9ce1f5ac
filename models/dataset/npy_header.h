#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cim::dataset {

/// The header of a NumPy .npy file (format versions 1.0, 2.0 and 3.0): the element type, the memory order
/// and the shape, read from the Python dict literal numpy writes, e.g.
/// {'descr': '<f4', 'fortran_order': False, 'shape': (10, 1, 28, 28), }.
/// Parsed by a small recursive-descent reader of Python literals (strings, ints, True/False/None, tuples,
/// lists, dicts), so key order, spacing, quotes and trailing commas do not matter. Does not handle:
/// structured dtypes (descr as a list) beyond reporting them, or object arrays.
/// Kept rather than xtensor's xnpy.hpp (Debian xtensor-dev): xnpy reads a whole array into an xarray and throws
/// std::runtime_error with generic text, where this reader names the file and the key at fault as a config_error,
/// bounds nesting and integers for untrusted input (fuzzed: tests/fuzz/npy_fuzz.cpp), and adds no dependency.
struct npy_header {
    int major = 0, minor = 0;
    std::string descr;  // e.g. "<f4", "|u1"
    bool fortran_order = false;
    std::vector<std::int64_t> shape;
    std::size_t data_offset = 0;  // bytes from the start of the file to the first element

    char byte_order() const { return descr.empty() ? '?' : descr[0]; }  // '<', '>', '|' or '='
    char kind() const { return descr.size() < 2 ? '?' : descr[1]; }     // 'u', 'i', 'f', ...
    int item_size() const;  // bytes per element from descr, 0 if not a plain number
    std::int64_t count() const;  // product of shape (1 for a 0-d array)
    /// "(10, 1, 28, 28)", Python's spelling, for messages.
    std::string shape_text() const;
};

/// Parse the preamble of an NPY file held in `bytes` (at least the magic, version, length and dict).
/// Throws config_error naming `file` on a wrong magic, an unknown version, a truncated header, a malformed
/// dict, a missing or unexpected key, or a value of the wrong type.
npy_header parse_npy_header(const std::string& bytes, const std::string& file);

}  // namespace cim::dataset
