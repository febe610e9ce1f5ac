#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <systemc>

namespace cim::hw {

/// A shared resource with a busy_until time (a buffer port, an H-tree link): a request that arrives at `arrival`
/// starts at max(arrival, busy_until) and holds the resource for `occupancy`. This is what makes latency
/// cycle-approximate rather than a sum of fixed costs (ARCHITECTURE.md §4).
class resource {
public:
    /// Returns the start time and books the resource until start + occupancy.
    sc_core::sc_time acquire(const sc_core::sc_time& arrival, const sc_core::sc_time& occupancy) {
        const sc_core::sc_time start = arrival > m_busy_until ? arrival : m_busy_until;
        m_busy_until = start + occupancy;
        m_busy += occupancy;
        return start;
    }
    const sc_core::sc_time& busy_until() const { return m_busy_until; }
    /// Total time booked (for utilisation).
    const sc_core::sc_time& busy_time() const { return m_busy; }

private:
    sc_core::sc_time m_busy_until = sc_core::SC_ZERO_TIME;
    sc_core::sc_time m_busy = sc_core::SC_ZERO_TIME;
};

/// The transaction log: one interval per transaction a module served, with its exact (local, LT) start and
/// end times. Written as a Perfetto / Chrome trace (--trace-json), one track per module, and used by tests
/// to check the waveform. Recording is off unless enabled, so plain runs pay one branch per transaction.
class trace_log {
public:
    struct event {
        int track;
        std::string name;  // e.g. "conv3 read"
        double start, end; // s
    };
    void enable(bool on) { m_on = on; }
    bool enabled() const { return m_on; }
    /// A track per module path; returns its id.
    int track(const std::string& module_path);
    void record(int track, std::string name, const sc_core::sc_time& start, const sc_core::sc_time& end) {
        if (m_on) m_events.push_back({track, std::move(name), start.to_seconds(), end.to_seconds()});
    }
    /// A sampled value (buffer occupancy, current layer) changing at time t.
    struct value_change {
        int track;
        std::string name;
        double time;
        std::int64_t value;
    };
    void record_value(int track, std::string name, const sc_core::sc_time& t, std::int64_t v) {
        if (m_on) m_values.push_back({track, std::move(name), t.to_seconds(), v});
    }
    const std::vector<value_change>& values() const { return m_values; }
    const std::vector<event>& events() const { return m_events; }
    const std::vector<std::string>& tracks() const { return m_tracks; }
    /// Chrome trace-event JSON (https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU):
    /// complete events ("ph": "X") in microseconds, one thread per track.
    std::string chrome_json() const;
    /// A VCD (IEEE 1364 §18) of the log: one `busy` wire per module track (high while it serves at least one
    /// transaction) and one 64-bit vector per value; scopes follow the module paths. Only tracks whose
    /// path matches one of `scopes` (shell globs; empty = all) are written. Times are the log's exact
    /// simulated times in picoseconds. No $date, so the same run gives the same bytes.
    std::string vcd(const std::vector<std::string>& scopes) const;

private:
    bool m_on = false;
    std::vector<value_change> m_values;
    std::vector<std::string> m_tracks;
    std::vector<event> m_events;
};

}  // namespace cim::hw
