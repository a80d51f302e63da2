#pragma once
// Executable memory for generated code: the bytes are copied into fresh pages that are then made
// read-only and executable (never writable and executable at once).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace lutnet::engine::detail {

class ExecutableMemory {
 public:
  // The code in executable memory, or null where that is unavailable (not x86-64 Linux, or the
  // mapping failed): the caller then runs the generic kernel.
  static std::unique_ptr<ExecutableMemory> create(const std::vector<uint8_t>& code);

  ExecutableMemory(const ExecutableMemory&) = delete;
  ExecutableMemory& operator=(const ExecutableMemory&) = delete;
  ~ExecutableMemory();
  const void* data() const { return memory_; }
  size_t size() const { return size_; }

 private:
  ExecutableMemory(void* memory, size_t size) : memory_(memory), size_(size) {}
  void* memory_;
  size_t size_;
};

}  // namespace lutnet::engine::detail
