#pragma once
#include <filesystem>
#include <string>

namespace lutnet {

// The whole file as bytes. Throws lutnet::Error "PATH: cannot open WHAT" when it cannot be read.
std::string read_text_file(const std::filesystem::path& path, const std::string& what);

}  // namespace lutnet
