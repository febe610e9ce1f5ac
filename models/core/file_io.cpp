#include "models/core/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "models/core/error.h"

namespace cim {

void write_file_atomic(const std::string& path, const std::string& content) {
    write_file_atomic(path, [&](std::ostream& out) { out.write(content.data(), static_cast<std::streamsize>(content.size())); });
}

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
    const std::filesystem::path target(path);
    std::error_code ec;
    if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), ec);
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw config_error(path, 0, "", std::string("cannot write: ") + std::strerror(errno));
        try {
            write(out);
        } catch (...) {
            out.close();
            std::remove(tmp.c_str());
            throw;
        }
        out.flush();
        if (!out) {
            std::remove(tmp.c_str());
            throw config_error(path, 0, "", "write failed (disk full?)");
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        std::remove(tmp.c_str());
        throw config_error(path, 0, "", "cannot rename into place: " + why);
    }
}

void check_writable(const std::string& path, const std::string& option) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    std::error_code ec;
    if (fs::is_directory(target, ec)) throw config_error(path, 0, option, "is a folder, expected a file to write");
    if (target.has_parent_path()) {
        fs::create_directories(target.parent_path(), ec);
        if (ec) throw config_error(path, 0, option, "cannot create its folder: " + ec.message());
    }
    // A file beside the target, as write_file_atomic's temporary, so the probe needs exactly the rights the write will.
    const std::string tmp = path + ".probe." + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw config_error(path, 0, option, std::string("cannot write: ") + std::strerror(errno));
    ::close(fd);
    ::unlink(tmp.c_str());
}

std::uint64_t max_file_bytes(file_kind kind) {
    constexpr std::uint64_t MiB = std::uint64_t{1} << 20;
    switch (kind) {
        case file_kind::config: return 16 * MiB;
        case file_kind::network: return 64 * MiB;
        case file_kind::model: return 2048 * MiB - 1;
        case file_kind::dataset: return 2048 * MiB;
        case file_kind::record: return 256 * MiB;
    }
    return 0;
}

const char* file_kind_name(file_kind kind) {
    switch (kind) {
        case file_kind::config: return "config";
        case file_kind::network: return "network";
        case file_kind::model: return "model";
        case file_kind::dataset: return "dataset";
        case file_kind::record: return "record";
    }
    return "?";
}

namespace {

bool pipe_allowed(file_kind kind) { return kind == file_kind::config || kind == file_kind::dataset; }

std::string bytes_text(std::uint64_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

/// `what` says how large it is: "is 20000000 bytes" or "holds more".
[[noreturn]] void too_large(const std::string& path, file_kind kind, const std::string& what) {
    throw config_error(path, 0, "",
                       what + " than the " + bytes_text(max_file_bytes(kind)) + " a " + file_kind_name(kind) +
                           " file may hold");
}

/// The type check shared by stat() before opening and fstat() after: a FIFO is checked before open() because
/// opening one blocks until a writer appears.
void check_type(const std::string& path, file_kind kind, const struct stat& st) {
    if (S_ISDIR(st.st_mode)) throw config_error(path, 0, "", "is a folder, expected a file");
    if (S_ISFIFO(st.st_mode)) {
        if (!pipe_allowed(kind))
            throw config_error(path, 0, "",
                               std::string("is a named pipe; a ") + file_kind_name(kind) +
                                   " file must be a regular file (the program reads it more than once)");
        return;
    }
    if (!S_ISREG(st.st_mode)) throw config_error(path, 0, "", "is not a regular file (a device or a socket)");
    if (static_cast<std::uint64_t>(st.st_size) > max_file_bytes(kind))
        too_large(path, kind, "is " + bytes_text(static_cast<std::uint64_t>(st.st_size)) + ", more");
}

}  // namespace

std::string read_input_file(const std::string& path, file_kind kind) {
    if (path.empty()) throw config_error("", 0, "", std::string("empty ") + file_kind_name(kind) + " file name");
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) throw config_error(path, 0, "", "file not found");
        throw config_error(path, 0, "", std::string("cannot read: ") + std::strerror(errno));
    }
    check_type(path, kind, st);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw config_error(path, 0, "", std::string("cannot read: ") + std::strerror(errno));
    struct closer {
        int fd;
        ~closer() { ::close(fd); }
    } guard{fd};
    // The file may have been replaced between stat() and open(): check what was opened.
    if (::fstat(fd, &st) != 0) throw config_error(path, 0, "", std::string("cannot read: ") + std::strerror(errno));
    check_type(path, kind, st);

    const std::uint64_t limit = max_file_bytes(kind);
    std::string data;
    if (S_ISREG(st.st_mode)) data.reserve(static_cast<std::size_t>(st.st_size));
    char chunk[1 << 16];
    while (true) {
        const ssize_t got = ::read(fd, chunk, sizeof chunk);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw config_error(path, 0, "", std::string("read error: ") + std::strerror(errno));
        }
        if (got == 0) break;
        // A pipe, or a file that grows while it is read, stops at the limit.
        if (data.size() + static_cast<std::uint64_t>(got) > limit) too_large(path, kind, "holds more");
        data.append(chunk, static_cast<std::size_t>(got));
    }
    return data;
}

}  // namespace cim
