#pragma once
#include <string>
#include <vector>

#include "platforms/cimtlm/sweep.h"

namespace cim::cli {

/// Runs the points as worker processes on this machine, `--jobs` at a time.
/// Does not limit memory or CPU time: a point runs until it ends.
class local_backend : public sweep_backend {
public:
    local_backend(const sweep_options& o, std::string self_exe) : m_opts(o), m_self(std::move(self_exe)) {}
    std::vector<point_failure> run(const sweep_spec& s, const std::vector<std::size_t>& todo) override;

private:
    sweep_options m_opts;
    std::string m_self;
};

}  // namespace cim::cli
