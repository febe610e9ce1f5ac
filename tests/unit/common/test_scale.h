#pragma once
// Sanitizer builds (make test's build-asan/ and build-tsan/) run the same tests on less data. They look for memory
// and thread errors, which the code paths expose whatever the data size, and instrumented numeric code runs about
// ten times slower; the Release pass (build/) runs every test at full size.
namespace cim::test {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif

/// full in a normal build, reduced under a sanitizer.
constexpr int scaled(int full, int reduced) { return sanitized ? reduced : full; }

}  // namespace cim::test
