// Bounded, typed reads (models/core/file_io): issue 22 found a config include, an IDX file and a network file that
// were /dev/zero hanging while memory grew, and a folder given as a file reading as empty.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <future>
#include <thread>

#include "models/core/file_io.h"
#include "tests/unit/common/error_helpers.h"
#include "tests/unit/common/temp_dir.h"

namespace {

using cim::file_kind;
using cim::read_input_file;
using cim::testing::temp_path;

std::string write(const std::string& name, const std::string& text) {
    const std::string p = temp_path(name);
    std::ofstream(p, std::ios::binary) << text;
    return p;
}

// Runs f on a thread and fails the test (instead of hanging it) when f does not return within 10 s.
template <class F>
cim::config_error error_within_seconds(F f) {
    auto fut = std::async(std::launch::async, [f] { return cim::expect_config_error(f); });
    if (fut.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
        ADD_FAILURE() << "the read did not return within 10 s";
        std::_Exit(1);  // the reading thread cannot be stopped
    }
    return fut.get();
}

}  // namespace

TEST(FileIo, ReadsARegularFile) {
    const std::string p = write("a.yaml", "rows: 64\n");
    EXPECT_EQ(read_input_file(p, file_kind::config), "rows: 64\n");
    EXPECT_EQ(read_input_file(write("empty", ""), file_kind::network), "");
}

TEST(FileIo, DeviceIsRejectedAtOnceForEveryKind) {
    for (auto kind : {file_kind::config, file_kind::network, file_kind::model, file_kind::dataset, file_kind::record}) {
        const cim::config_error e = error_within_seconds([kind] { read_input_file("/dev/zero", kind); });
        EXPECT_EQ(e.file(), "/dev/zero");
        EXPECT_TRUE(cim::contains(e.what(), "not a regular file")) << e.format();
    }
}

TEST(FileIo, FolderIsNotAnEmptyFile) {
    const std::string dir = cim::testing::test_dir();
    const cim::config_error e = cim::expect_config_error([&] { read_input_file(dir, file_kind::config); });
    EXPECT_TRUE(cim::contains(e.what(), "is a folder")) << e.format();
}

TEST(FileIo, MissingFile) {
    const std::string p = temp_path("nope.yaml");
    EXPECT_EQ(cim::expect_config_error([&] { read_input_file(p, file_kind::config); }).format(), p + ": file not found");
    EXPECT_EQ(cim::expect_config_error([&] { read_input_file(p + "/x", file_kind::config); }).format(),
              p + "/x: file not found");
}

// A sparse file just over the limit: rejected from its size, before anything is read.
TEST(FileIo, FileOverTheLimitIsRejectedWithBothSizes) {
    const std::string p = temp_path("big.yaml");
    { std::ofstream(p) << ""; }
    ASSERT_EQ(truncate(p.c_str(), static_cast<off_t>(cim::max_file_bytes(file_kind::config) + 1)), 0);
    const cim::config_error e = cim::expect_config_error([&] { read_input_file(p, file_kind::config); });
    EXPECT_TRUE(cim::contains(e.what(), "is 16777217 bytes")) << e.format();
    EXPECT_TRUE(cim::contains(e.what(), "16777216 bytes a config file may hold")) << e.format();
}

// A named pipe is read to its end for the kinds read once (config, dataset), up to the limit; the others refuse it
// without opening it (opening a pipe with no writer would block).
TEST(FileIo, NamedPipes) {
    std::signal(SIGPIPE, SIG_IGN);  // the flooding writer below sees EPIPE when the reader stops
    const std::string fifo = temp_path("pipe.yaml");
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    const cim::config_error e = error_within_seconds([fifo] { read_input_file(fifo, file_kind::network); });
    EXPECT_TRUE(cim::contains(e.what(), "named pipe")) << e.format();

    std::thread writer([fifo] { std::ofstream(fifo) << "seed: 3\n"; });
    EXPECT_EQ(read_input_file(fifo, file_kind::config), "seed: 3\n");
    writer.join();

    // A pipe that never ends stops at the limit with an error, not at the end of memory.
    std::thread flood([fifo] {
        std::ofstream out(fifo, std::ios::binary);
        const std::string chunk(1 << 20, 'x');
        for (int i = 0; i < 20 && out; ++i) out << chunk;
    });
    const cim::config_error big = error_within_seconds([fifo] { read_input_file(fifo, file_kind::config); });
    EXPECT_TRUE(cim::contains(big.what(), "holds more than the 16777216 bytes")) << big.format();
    flood.join();
}

TEST(FileIo, CheckWritable) {
    cim::check_writable(temp_path("out/report.json"), "--out");  // creates the folder
    const std::string file = write("plain", "x");
    // A path under a regular file cannot be created (this also holds for root, unlike permissions).
    const cim::config_error e = cim::expect_config_error([&] { cim::check_writable(file + "/out/report.json", "--out"); });
    EXPECT_EQ(e.key(), "--out");
    const cim::config_error d = cim::expect_config_error([&] { cim::check_writable(cim::testing::test_dir(), "--vcd"); });
    EXPECT_TRUE(cim::contains(d.what(), "is a folder")) << d.format();
}
