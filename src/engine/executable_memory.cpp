#include "engine/executable_memory.hpp"

#if defined(__x86_64__) && defined(__linux__)
#include <sys/mman.h>
#define LUTNET_EXECUTABLE_MEMORY 1
#endif

#include <cstring>

namespace lutnet::engine::detail {

#ifdef LUTNET_EXECUTABLE_MEMORY

ExecutableMemory::~ExecutableMemory() { munmap(memory_, size_); }

std::unique_ptr<ExecutableMemory> ExecutableMemory::create(const std::vector<uint8_t>& code) {
  // Megabytes of code: 2 MiB pages keep instruction fetch off the page walker.
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t size = (code.size() + kHuge - 1) / kHuge * kHuge;
  void* reserved =
      mmap(nullptr, size + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (reserved == MAP_FAILED) return nullptr;
  // Keep the 2 MiB-aligned part of the reservation.
  const auto start = reinterpret_cast<uintptr_t>(reserved);
  const uintptr_t aligned = (start + kHuge - 1) / kHuge * kHuge;
  if (aligned > start) munmap(reserved, aligned - start);
  if (aligned + size < start + size + kHuge)
    munmap(reinterpret_cast<void*>(aligned + size), start + size + kHuge - aligned - size);
  void* memory = reinterpret_cast<void*>(aligned);
  madvise(memory, size, MADV_HUGEPAGE);
  std::memcpy(memory, code.data(), code.size());
  if (mprotect(memory, size, PROT_READ | PROT_EXEC) != 0) {
    munmap(memory, size);
    return nullptr;
  }
  return std::unique_ptr<ExecutableMemory>(new ExecutableMemory(memory, size));
}

#else

ExecutableMemory::~ExecutableMemory() = default;

std::unique_ptr<ExecutableMemory> ExecutableMemory::create(const std::vector<uint8_t>&) {
  return nullptr;
}

#endif

}  // namespace lutnet::engine::detail
