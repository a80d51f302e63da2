#include "core/read_file.hpp"

#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace lutnet {

std::string read_text_file(const std::filesystem::path& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open " + what);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace lutnet
