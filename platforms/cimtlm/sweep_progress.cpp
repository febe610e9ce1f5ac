#include "platforms/cimtlm/sweep_progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "platforms/cimtlm/sweep.h"

namespace cim::cli {

namespace {
double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
}  // namespace

sweep_progress::sweep_progress(std::size_t total, std::size_t skipped, std::size_t todo, bool quiet)
    : m_total(total), m_skipped(skipped), m_todo(todo), m_quiet(quiet), m_tty(isatty(STDERR_FILENO)), m_t0(now_s()) {}

double sweep_progress::elapsed() const { return now_s() - m_t0; }

void sweep_progress::update(std::size_t done, std::size_t failed, std::size_t running, const std::string& extra) {
    if (m_quiet) return;
    const double el = elapsed();
    const std::size_t left = m_todo - std::min(m_todo, done + running);
    // Completions per second already include the parallelism, so time left = points not done / rate.
    const double eta = done ? el / double(done) * double(left + running) : 0.0;
    std::string f = failed ? ", " + std::to_string(failed) + " failed" : "";
    // In a log (not a terminal), a line only when a count changed, not on every poll.
    const std::string counts = std::to_string(done) + "/" + f + "/" + std::to_string(running) + extra;
    if (!m_tty && counts == m_last) return;
    m_last = counts;
    std::fprintf(stderr, "%s[sweep] %zu/%zu done%s, %zu running, %zu left, %s elapsed, ETA %s%s%s", m_tty ? "\r" : "",
                 done - failed + m_skipped, m_total, f.c_str(), running, left, fmt_duration(el).c_str(),
                 done ? fmt_duration(eta).c_str() : "?", extra.c_str(), m_tty ? "   " : "\n");
    m_open = m_tty;
}

void sweep_progress::break_line() {
    if (m_open) std::fprintf(stderr, "\n");
    m_open = false;
}

}  // namespace cim::cli
