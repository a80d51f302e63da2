#pragma once
// Writes a whole file or nothing: the content goes to a temporary file beside the target, which is
// renamed over the target only after every byte was written. A failure leaves no partial file.
#include <filesystem>
#include <functional>
#include <ostream>
#include <string_view>

namespace lutnet {

// Calls `write` with a stream to a temporary file, then renames it to `path`. Throws lutnet::Error
// naming `path` when the directory is not writable or a write fails.
void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(std::ostream&)>& write);

void write_file_atomically(const std::filesystem::path& path, std::string_view content);

}  // namespace lutnet
