#pragma once
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "models/circuit/action_table.h"
#include "models/hw/concurrency.h"
#include "models/hw/read_log.h"
#include "models/hw/timeline.h"
#include "models/stats/stats.h"

namespace cim::hw {

/// What the modules of one chip share during a run: the timeline of their activities, the process pool of their
/// fork/joins, the log of subarray activity (recorded by a run, replayed by `cimtlm reprice`), waveform tracing,
/// and the first error a process raised.
struct run_record {
    timeline time;
    process_pool pool{"fork"};
    read_log reads;
    bool replay = false;  // timing only: subarrays take their activity from `reads` and no data flows
    sc_core::sc_trace_file* vcd = nullptr;  // --vcd: modules create their signals and add them to this file
    std::vector<std::string> vcd_scopes;    // --vcd-scope: shell globs of module paths in the file (empty: all)
    std::exception_ptr failure;               // the first exception a process raised (rethrown after sc_start)
    std::uint64_t ticks = 0;                  // clock cycles clocked blocks spent (progress the timeline does not show)
    /// True when the module at `path` writes its signals to the VCD file.
    bool in_vcd(const std::string& path) const;
};

/// Base of every cimtlm SystemC module. A module behaves, counts the actions of its action table (circuit::*) by
/// layer, and spends simulated time: work() records an activity on the timeline and waits for the time the
/// counts take. It holds no joules: the report prices the counts. It reports its own area and leakage through its
/// table (children excluded), and its statistics (times, stalls) with their units and descriptions.
class component : public sc_core::sc_module {
public:
    component(const sc_core::sc_module_name& name, const char* type, run_record& rec, const circuit::action_table* table);

    const char* type() const { return m_type; }
    /// The action table the counts refer to; nullptr for a module with no costs of its own.
    const circuit::action_table* table() const { return m_table; }
    /// Counts by graph layer (index = layer; empty where the module did nothing for the layer), in table order.
    const std::vector<std::vector<double>>& counts() const { return m_counts; }
    const stats::group& statistics() const { return m_stats; }
    /// True when the module holds no part of the mapped network (idle subarray, unused tile slot).
    virtual bool idle() const { return false; }

protected:
    /// Adds `n` (table order) to the counts of `layer`.
    void add_counts(int layer, const std::vector<double>& n);
    /// Works for the time the counts `n` take on this module (table latencies, split by category): records an
    /// activity that follows `cause`, waits, and returns the activity. Call from a thread process.
    int work(int cause, const std::vector<double>& n, int layer, std::int64_t image, const char* label);
    /// Works for `duration`, all of it in category `cat` (time that no table prices: RTL clock cycles).
    int work(int cause, const sc_core::sc_time& duration, circuit::category cat, int layer, std::int64_t image,
             const char* label);
    /// Records the interval from `start` to now (time already spent, e.g. inside an RTL block) as an activity in
    /// category `cat`, after `cause`; returns the activity.
    int elapsed(int cause, const sc_core::sc_time& start, circuit::category cat, int layer, std::int64_t image,
                const char* label);
    /// Synchronises an LT caller's annotated delay: waits it out and zeroes it.
    static void sync(sc_core::sc_time& delay);

    run_record& m_rec;
    stats::group m_stats;
    stats::sum m_busy{m_stats, "busy_time", "s", "simulated time the module spent working"};
    std::unique_ptr<sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS>> m_busy_signal;  // --vcd runs only

private:
    int spend(int cause, const std::array<timeline::ps, circuit::k_categories>& split, int layer, std::int64_t image,
              const char* label);
    const char* m_type;
    const circuit::action_table* m_table;
    std::vector<std::vector<double>> m_counts;
    int m_track;
    int m_working = 0;  // works in progress (busy signal)
};

}  // namespace cim::hw
