#pragma once
#include <cstddef>
#include <string>

namespace cim::cli {

/// The progress line of a waiting sweep (stderr; one line, redrawn in place on a terminal).
class sweep_progress {
public:
    sweep_progress(std::size_t total, std::size_t skipped, std::size_t todo, bool quiet);
    /// `done` counts the points of this run that ended (finished or failed); `extra` is appended (e.g. the job id).
    void update(std::size_t done, std::size_t failed, std::size_t running, const std::string& extra = "");
    /// Ends the redrawn line before other output.
    void break_line();
    double elapsed() const;

private:
    std::size_t m_total, m_skipped, m_todo;
    bool m_quiet, m_tty, m_open = false;
    double m_t0;
    std::string m_last;  // the counts of the last line printed
};

}  // namespace cim::cli
