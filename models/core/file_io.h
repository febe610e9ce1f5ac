#pragma once
#include <string>

namespace cim {

/// Write `content` to `path` atomically: a temporary file in the same folder, flushed, then renamed over
/// the target, so a crash or a kill never leaves a half-written result. Throws config_error naming the path.
void write_file_atomic(const std::string& path, const std::string& content);

}  // namespace cim
