#pragma once
// Wall time since a steady-clock instant, in seconds: the one clock every progress line and
// report timing uses.
#include <chrono>

namespace lutnet {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace lutnet
