#pragma once
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

namespace cim::hw {

/// A shared resource (a buffer port, an interconnect link, a digital unit, a tile) granted in simulated-time
/// order. A caller acquires it from a thread process at the current simulated time, so it must have synchronised
/// first (a target waits for its annotated delay before it acquires); callers are served first come, first served,
/// and those that arrive at the same time in the order they asked. acquire() returns the timeline activity whose
/// end released the resource to the caller (the previous holder's last work), or -1 when it was free, so the
/// critical path runs through the holder.
class resource {
public:
    resource() = default;
    resource(const resource&) = delete;
    resource& operator=(const resource&) = delete;

    /// Blocks until the caller holds the resource.
    int acquire();
    /// Hands the resource to the next caller in line, or frees it; `activity` is the holder's last work.
    void release(int activity);

    bool busy() const { return m_busy; }
    /// Time held, time callers waited in line, and grants, over the run.
    sc_core::sc_time busy_time() const { return m_busy_time; }
    sc_core::sc_time wait_time() const { return m_wait_time; }
    std::uint64_t grants() const { return m_grants; }

private:
    struct waiter {
        sc_core::sc_event granted;
        int cause = -1;
    };
    bool m_busy = false;
    std::deque<waiter*> m_line;
    sc_core::sc_time m_since, m_busy_time, m_wait_time;
    std::uint64_t m_grants = 0;
};

/// Thread processes that run the branches of a fork/join: parallel hardware (the tiles of a layer, the PEs of a
/// tile, the subarrays of a PE) is modelled by concurrent SystemC processes, and the parent waits for all of them.
/// A pool reuses finished workers, so a run spawns as many processes as branches are ever active at once, not one
/// per transaction. An exception in a branch (a model_error) is carried to the parent and rethrown there after the
/// join, so it reaches the CLI with its key instead of being turned into a SystemC report.
class process_pool {
public:
    explicit process_pool(std::string name, int stack_bytes = 128 * 1024);
    ~process_pool();
    process_pool(const process_pool&) = delete;
    process_pool& operator=(const process_pool&) = delete;

    /// Runs every branch on its own process, concurrently in simulated time, and returns when all have finished.
    /// Call it from a thread process. Rethrows the first exception a branch threw (in branch order).
    void fork_join(const std::vector<std::function<void()>>& branches);

    std::size_t workers() const { return m_workers.size(); }

private:
    struct join_state;
    struct worker;
    void start(const std::function<void()>& job, join_state& j, std::size_t slot);
    void loop(worker& w);

    std::string m_name;
    int m_stack_bytes;
    std::vector<std::unique_ptr<worker>> m_workers;
    std::vector<worker*> m_idle;
};

}  // namespace cim::hw
