// engine::work_pool, and engine::evaluate with a progress callback and a failing worker. make test also runs this
// file under ThreadSanitizer (build-tsan, target tsan_engine): evaluate once read the workers' failure from the
// progress loop without the mutex that guarded its write, and only a test with a progress callback and a worker
// that throws reaches that code.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "models/engine/hardware_model.h"
#include "models/engine/quantized_model.h"
#include "models/engine/work_pool.h"
#include "models/mapping/plan.h"
#include "models/network/loader.h"

namespace {

using cim::engine::work_pool;

TEST(WorkPool, EveryIndexExactlyOnce) {
    for (unsigned threads : {1u, 2u, 3u, 8u})
        for (std::int64_t count : {0, 1, 5, 1000}) {
            std::vector<std::atomic<int>> hits(static_cast<std::size_t>(count));
            work_pool(threads).run(count, [&](std::int64_t i) { ++hits[static_cast<std::size_t>(i)]; });
            for (std::int64_t i = 0; i < count; ++i)
                ASSERT_EQ(hits[static_cast<std::size_t>(i)].load(), 1) << threads << " threads, item " << i << " of " << count;
        }
}

TEST(WorkPool, OnWaitRunsOnTheCallingThreadWithGrowingCounts) {
    const auto caller = std::this_thread::get_id();
    std::vector<std::int64_t> seen;
    bool other_thread = false;
    work_pool(3).run(
        30, [](std::int64_t) { std::this_thread::sleep_for(std::chrono::milliseconds(2)); },
        [&](std::int64_t done) {
            other_thread = other_thread || std::this_thread::get_id() != caller;
            seen.push_back(done);
        },
        std::chrono::milliseconds(1));
    EXPECT_FALSE(other_thread);
    ASSERT_GE(seen.size(), 2u);
    for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_LE(seen[i - 1], seen[i]);
    EXPECT_EQ(seen.back(), 30);
}

// The first exception stops the hand-out and comes out of run(), with or without a progress callback.
TEST(WorkPool, FirstExceptionStopsTheWorkAndIsRethrown) {
    for (bool with_progress : {false, true}) {
        std::atomic<std::int64_t> ran{0};
        auto body = [&](std::int64_t i) {
            ++ran;
            if (i == 3) throw std::runtime_error("item 3 failed");
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        };
        std::int64_t last = -1;
        try {
            if (with_progress)
                work_pool(4).run(100000, body, [&](std::int64_t d) { last = d; }, std::chrono::milliseconds(1));
            else
                work_pool(4).run(100000, body);
            ADD_FAILURE() << "no exception";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "item 3 failed");
        }
        EXPECT_LT(ran.load(), 1000) << "the hand-out did not stop";
        if (with_progress) EXPECT_GE(last, 0);
    }
}

// evaluate() with a progress bar and an image source that fails: the failure comes out, once, as itself.
TEST(Evaluate, ProgressCallbackAndAFailingWorker) {
    cim::engine::hardware_options o;
    auto g = cim::network::load(CIM_SOURCE_DIR "/tests/sc/platform/resnet_tiny.yaml");
    cim::engine::synthesize_weights(g, o.quant, o.seed);
    std::vector<std::vector<std::int32_t>> images;
    for (int i = 0; i < 8; ++i) images.push_back(cim::engine::synthetic_image(g.input, o.quant, o.seed, i));
    cim::engine::calibrate(g, o.quant, {images[0]});
    cim::mapping::geometry geo;
    geo.columns_per_weight = cim::func::columns_per_weight(o.quant, o.cell_bits);
    const auto plan = cim::mapping::build(g, {}, geo);
    const cim::engine::hardware_model hw(g, plan, o);
    const std::vector<int> labels(8, 0);
    std::atomic<int> progress_calls{0};
    auto get = [&](std::int64_t i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        if (i == 5) throw std::runtime_error("image 5 is unreadable");
        return images[static_cast<std::size_t>(i)];
    };
    try {
        cim::engine::evaluate(hw, 8, get, labels, 3, [&](std::int64_t, std::int64_t) { ++progress_calls; });
        ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "image 5 is unreadable");
    }
    EXPECT_GE(progress_calls.load(), 1);
    // And without a failure the progress reaches the total.
    std::int64_t last = 0;
    auto ok = [&](std::int64_t i) { return images[static_cast<std::size_t>(i)]; };
    const auto r = cim::engine::evaluate(hw, 8, ok, labels, 3, [&](std::int64_t d, std::int64_t) { last = d; });
    EXPECT_EQ(r.images, 8);
    EXPECT_EQ(last, 8);
}

}  // namespace
