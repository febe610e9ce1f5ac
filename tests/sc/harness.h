#pragma once
// Helpers of the SystemC tests: a test initiator that runs a body in its own thread process, and a fork of the
// test process for a second, independent elaboration (SystemC elaborates once per process).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>

#include <systemc>

#include "models/circuit/technology.h"
#include "models/config/yaml_reader.h"

namespace cim::testing {

/// Runs `body` in a thread process of its own (an initiator of the module under test).
struct initiator : sc_core::sc_module {
    std::function<void()> body;
    initiator(const sc_core::sc_module_name& n, std::function<void()> b) : sc_core::sc_module(n), body(std::move(b)) {
        sc_core::sc_spawn([this] { body(); }, "run");
    }
};

/// A node from its file under configs/tech/.
inline circuit::technology node(const std::string& name) {
    circuit::technology t;
    cfg::load_file(std::string(CIM_SOURCE_DIR) + "/configs/tech/" + name + ".yaml", t);
    t.validate();
    return t;
}

/// Runs `child` in a forked process (its own SystemC elaboration) and returns the double it computes.
inline double in_child(const std::function<double()>& child) {
    int fd[2];
    if (pipe(fd) != 0) return -1;
    const pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        double v = -1;
        try {
            v = child();
        } catch (...) {
        }
        if (write(fd[1], &v, sizeof v) != static_cast<ssize_t>(sizeof v)) _exit(2);
        _exit(0);
    }
    close(fd[1]);
    double v = -1;
    if (read(fd[0], &v, sizeof v) != static_cast<ssize_t>(sizeof v)) v = -1;
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return v;
}

}  // namespace cim::testing
