#include "models/engine/work_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace cim::engine {

void work_pool::run(std::int64_t count, const std::function<void(std::int64_t)>& body,
                    const std::function<void(std::int64_t)>& on_wait, std::chrono::milliseconds interval) const {
    if (count <= 0) {
        if (on_wait) on_wait(0);
        return;
    }
    std::atomic<std::int64_t> next{0}, done{0};
    std::mutex m;
    std::condition_variable finished;
    std::exception_ptr failure;  // guarded by m
    unsigned running = 0;        // guarded by m: workers not yet returned

    auto worker = [&] {
        try {
            for (std::int64_t i = next++; i < count; i = next++) {
                body(i);
                ++done;
            }
        } catch (...) {
            std::lock_guard<std::mutex> lock(m);
            if (!failure) failure = std::current_exception();
            next = count;  // no new items for anyone
        }
        std::lock_guard<std::mutex> lock(m);
        --running;
        finished.notify_all();
    };

    // More threads than items would only idle.
    const auto workers = static_cast<unsigned>(std::min<std::int64_t>(m_threads, count));
    const unsigned spawned = on_wait ? workers : workers - 1;
    running = on_wait ? spawned : spawned + 1;
    std::vector<std::thread> threads;
    threads.reserve(spawned);
    try {
        for (unsigned t = 0; t < spawned; ++t) threads.emplace_back(worker);
    } catch (...) {
        // Cannot start a thread: stop the hand-out, account for the threads never started, wait for the others.
        std::unique_lock<std::mutex> lock(m);
        next = count;
        running -= spawned - static_cast<unsigned>(threads.size());
        if (!failure) failure = std::current_exception();
    }
    if (!on_wait && threads.size() == spawned) worker();
    else if (!on_wait) {
        std::lock_guard<std::mutex> lock(m);
        --running;  // the calling thread's share, not run
    }

    {
        std::unique_lock<std::mutex> lock(m);
        while (!finished.wait_for(lock, interval, [&] { return running == 0; })) {
            if (!on_wait) continue;
            lock.unlock();
            on_wait(done.load());
            lock.lock();
        }
    }
    for (auto& t : threads) t.join();
    if (on_wait) on_wait(done.load());
    if (failure) std::rethrow_exception(failure);
}

}  // namespace cim::engine
