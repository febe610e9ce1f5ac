#pragma once
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace cim {

/// Write `content` to `path` atomically: a temporary file in the same folder, flushed, then renamed over
/// the target, so a crash or a kill never leaves a half-written result. Throws config_error naming the path.
void write_file_atomic(const std::string& path, const std::string& content);
/// The same with the content streamed by `write` (a large output need not be built as one string first). An
/// exception from `write` removes the temporary file and leaves `path` as it was.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);

/// Check, before any long work, that write_file_atomic(path, ...) can succeed later: creates the parent folders,
/// then creates and removes a temporary file beside `path`. An existing `path` that is a folder is an error.
/// Throws config_error (file `path`, key `option`, e.g. "--out") saying why not.
void check_writable(const std::string& path, const std::string& option);

/// What an input file holds. The kind sets the size limit and whether a named pipe is accepted:
///
///   kind      limit     named pipe   files
///   config    16 MiB    yes          experiment, include (technology:, cell:, chip: ...), sweep; read once each
///   network   64 MiB    no           network YAML, NeuroSim CSV; a run reads it more than once
///   model     2 GiB-1   no           ONNX (protobuf's parser takes an int size); read more than once
///   dataset   2 GiB     yes          IDX, CIFAR-10 binary, NPY; the limit also bounds the gunzipped size
///   record    256 MiB   no           a sweep point's point.json and report.json, read back by the sweep
///
/// A pipe is read to its end once, so a file the program reads twice cannot be one.
enum class file_kind { config, network, model, dataset, record };

/// The size limit of a kind, in bytes.
std::uint64_t max_file_bytes(file_kind kind);
/// "config", "network", ... (for messages and docs).
const char* file_kind_name(file_kind kind);

/// Read a whole input file, bounded and typed: `path` must name a regular file of at most max_file_bytes(kind)
/// (or a named pipe, for the kinds that accept one, read up to the limit). Throws config_error naming the path:
/// not found, a folder, a device or socket (e.g. /dev/zero), a pipe where none is accepted, larger than the
/// limit (with both numbers), or unreadable.
std::string read_input_file(const std::string& path, file_kind kind);

}  // namespace cim
