#pragma once
// User-facing errors: a bad flag, file or tool. The CLI catches these once, prints the message on
// one line and exits non-zero. Library code throws; it never exits the process.
#include <stdexcept>
#include <string>

namespace lutnet {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace lutnet
