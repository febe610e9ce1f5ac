#pragma once
// A temp folder of the running test, its own: created on first use under the gtest temp dir (TEST_TMPDIR or
// TMPDIR), with a unique suffix, and removed when the test ends. ctest runs tests in parallel processes, and a
// test may never lean on a file another test (or an earlier run) left behind, so no two tests share a name.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace cim::testing {

namespace detail {
inline std::string& current_dir() {
    static std::string dir;
    return dir;
}

/// Removes the current test's folder when the test ends.
class temp_dir_cleaner : public ::testing::EmptyTestEventListener {
    void OnTestEnd(const ::testing::TestInfo&) override {
        std::string& dir = current_dir();
        if (dir.empty()) return;
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
        dir.clear();
    }
};

inline bool register_cleaner() {
    ::testing::UnitTest::GetInstance()->listeners().Append(new temp_dir_cleaner);
    return true;
}
inline const bool k_registered = register_cleaner();
}  // namespace detail

/// The running test's own temp folder, with a trailing '/'.
inline const std::string& test_dir() {
    std::string& dir = detail::current_dir();
    if (!dir.empty()) return dir;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string base = ::testing::TempDir();
    if (!base.empty() && base.back() != '/') base += '/';
    std::string pattern = base + "cimtlm." + (info ? std::string(info->test_suite_name()) + "." + info->name() : "test") +
                          ".XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
        ADD_FAILURE() << "cannot create a temp folder under " << base;
        return dir;
    }
    dir = pattern + "/";
    return dir;
}

/// `name` inside the running test's own temp folder.
inline std::string temp_path(const std::string& name) { return test_dir() + name; }

}  // namespace cim::testing
