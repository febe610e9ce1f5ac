#include "models/hw/concurrency.h"

#include "models/core/error.h"

namespace cim::hw {

int resource::acquire() {
    ++m_grants;
    if (!m_busy) {
        m_busy = true;
        m_since = sc_core::sc_time_stamp();
        return -1;
    }
    waiter w;
    m_line.push_back(&w);
    const sc_core::sc_time asked = sc_core::sc_time_stamp();
    sc_core::wait(w.granted);
    m_wait_time += sc_core::sc_time_stamp() - asked;
    m_since = sc_core::sc_time_stamp();
    return w.cause;
}

void resource::release(int activity) {
    if (!m_busy) throw model_error("resource", "released while free");
    m_busy_time += sc_core::sc_time_stamp() - m_since;
    if (m_line.empty()) {
        m_busy = false;
        return;
    }
    waiter* next = m_line.front();
    m_line.pop_front();
    next->cause = activity;
    next->granted.notify(sc_core::SC_ZERO_TIME);  // stays busy: handed over
}

struct process_pool::join_state {
    std::size_t pending = 0;
    sc_core::sc_event all_done;
    std::vector<std::exception_ptr> errors;
};

struct process_pool::worker {
    sc_core::sc_event go;
    const std::function<void()>* job = nullptr;
    join_state* join = nullptr;
    std::size_t slot = 0;
};

process_pool::process_pool(std::string name, int stack_bytes) : m_name(std::move(name)), m_stack_bytes(stack_bytes) {}

process_pool::~process_pool() = default;

void process_pool::loop(worker& w) {
    for (;;) {
        while (w.job == nullptr) sc_core::wait(w.go);
        join_state& j = *w.join;
        try {
            (*w.job)();
        } catch (...) {
            j.errors[w.slot] = std::current_exception();
        }
        w.job = nullptr;
        w.join = nullptr;
        m_idle.push_back(&w);
        if (--j.pending == 0) j.all_done.notify(sc_core::SC_ZERO_TIME);
    }
}

void process_pool::start(const std::function<void()>& job, join_state& j, std::size_t slot) {
    if (!m_idle.empty()) {  // a finished worker waits for its next job
        worker* w = m_idle.back();
        m_idle.pop_back();
        w->job = &job, w->join = &j, w->slot = slot;
        w->go.notify(sc_core::SC_ZERO_TIME);
        return;
    }
    // A new worker finds its first job when it starts (in this delta cycle).
    m_workers.push_back(std::make_unique<worker>());
    worker* w = m_workers.back().get();
    w->job = &job, w->join = &j, w->slot = slot;
    sc_core::sc_spawn_options opts;
    opts.set_stack_size(m_stack_bytes);
    sc_core::sc_spawn([this, w] { loop(*w); }, (m_name + "_worker_" + std::to_string(m_workers.size() - 1)).c_str(),
                      &opts);
}

void process_pool::fork_join(const std::vector<std::function<void()>>& branches) {
    if (branches.empty()) return;
    if (branches.size() == 1) {  // nothing runs beside it: no process needed
        branches.front()();
        return;
    }
    join_state j;
    j.pending = branches.size();
    j.errors.assign(branches.size(), nullptr);
    for (std::size_t i = 0; i < branches.size(); ++i) start(branches[i], j, i);
    sc_core::wait(j.all_done);
    for (const auto& e : j.errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace cim::hw
