#pragma once
// Shared helpers of the unit tests that check error messages.
#include <gtest/gtest.h>

#include <string>

#include "models/core/error.h"

namespace cim {

/// Runs `f`, which must throw config_error, and returns the error for inspection.
template <class F>
config_error expect_config_error(F f) {
    try {
        f();
    } catch (const config_error& e) {
        return e;
    }
    ADD_FAILURE() << "expected cim::config_error";
    return config_error("", 0, "", "");
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace cim
