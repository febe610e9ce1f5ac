#pragma once
#include <chrono>
#include <cstdint>
#include <functional>

namespace cim::engine {

/// Fork-join parallelism over an index range, the one thread pool of the engine (images in evaluate(), output
/// pixels of a layer in reference_accumulate()). run(count, body) calls body(i) exactly once for every i in
/// [0, count), handing the indices out in increasing order, one at a time, to `threads` threads.
/// - Without on_wait, the calling thread is one of the `threads`. With on_wait, `threads` workers run and the
///   calling thread only waits, calling on_wait(done) every `interval` and once more at the end (a progress bar
///   that keeps its pace however long an item takes).
/// - The first exception a body throws stops the hand-out; run() lets the other threads finish the item they are
///   on, then rethrows it. Every shared state is read and written under one mutex or as an atomic, so a thread
///   sanitizer sees the whole protocol (tests/unit/engine/work_pool_test.cpp runs under -fsanitize=thread).
/// Threads live for one run(): starting them costs tens of microseconds, nothing next to an image or a layer of
/// 2^22 MACs, and no thread outlives the call, so nothing is left to shut down.
/// Does not do: nested parallelism (a body that calls run() starts its own threads), work stealing, priorities.
class work_pool {
public:
    /// threads >= 1 (0 is taken as 1).
    explicit work_pool(unsigned threads) : m_threads(threads ? threads : 1) {}
    unsigned threads() const { return m_threads; }

    void run(std::int64_t count, const std::function<void(std::int64_t)>& body,
             const std::function<void(std::int64_t)>& on_wait = {},
             std::chrono::milliseconds interval = std::chrono::milliseconds(200)) const;

private:
    unsigned m_threads;
};

}  // namespace cim::engine
