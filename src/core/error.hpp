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

// A broken invariant inside lutnet (a bug, not the user's input): the CLI reports it as an
// internal error with its own exit status, apart from user errors.
class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace lutnet
