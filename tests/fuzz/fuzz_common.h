#pragma once
// Shared by the libFuzzer harnesses (docs/robustness.md, section 5). A parser may reject an input only with
// cim::config_error or cim::model_error, each one line (the CLI prints it as is); any other exception escapes the
// harness, which libFuzzer reports as a crash, and so do a sanitizer report, a hang (-timeout) and an allocation
// beyond -rss_limit_mb.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "models/core/error.h"

namespace cim::fuzz {

/// A finding: stop here, so libFuzzer (or the replay test) reports the input.
[[noreturn]] inline void finding() { std::abort(); }

inline void one_line(const std::string& message) {
    if (message.empty() || message.find('\n') != std::string::npos) finding();
}

/// Runs the parser `f`; a config or model error is a clean rejection (one non-empty line).
template <class F>
void expect_clean(F f) {
    try {
        f();
    } catch (const config_error& e) {
        one_line(e.format());
    } catch (const model_error& e) {
        one_line(e.format());
    }
}

/// The input as text.
inline std::string text(const std::uint8_t* data, std::size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

/// Two files in one input (images and labels): a little-endian 32-bit length n, then n bytes of the first file, then
/// the second file. A shorter input gives two empty files.
inline std::pair<std::string, std::string> two_files(const std::uint8_t* data, std::size_t size) {
    if (size < 4) return {"", ""};
    std::uint32_t n = 0;
    for (int k = 3; k >= 0; --k) n = (n << 8) | data[k];
    const std::size_t first = n < size - 4 ? n : size - 4;
    return {std::string(reinterpret_cast<const char*>(data) + 4, first),
            std::string(reinterpret_cast<const char*>(data) + 4 + first, size - 4 - first)};
}

}  // namespace cim::fuzz
