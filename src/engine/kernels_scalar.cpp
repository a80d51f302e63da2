// Scalar kernels: 64 samples per uint64_t word, baseline x86-64 (or any 64-bit) code. The
// reference point every SIMD variant is tested against.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "engine/plan.hpp"

namespace lutnet::engine::detail {
namespace {

struct Ops {
  using W = uint64_t;
  static constexpr int kBits = 64;
  static W load(const char* p) {
    W w;
    std::memcpy(&w, p, sizeof w);
    return w;
  }
  static W zero() { return 0; }
  static W ones() { return ~W{0}; }
  static W mux(W s, W a, W b) { return b ^ ((a ^ b) & s); }
  static W xor3(W a, W b, W c) { return a ^ b ^ c; }
  static W maj(W a, W b, W c) { return (a & b) | (c & (a ^ b)); }
  static W and_(W a, W b) { return a & b; }
  static W xor_(W a, W b) { return a ^ b; }
  static W not_(W a) { return ~a; }
  static W ge_step(W a, W ge, W c) { return (a & ge) | ((a | ge) & ~c); }
};

// Recursive block swap: at each size s, exchange the upper s bits of row k with the lower s bits
// of row k + s inside every 2s-bit group.
void transpose64(uint64_t* a) {
  uint64_t mask = 0x00000000FFFFFFFFull;
  for (int s = 32; s != 0; s >>= 1, mask ^= mask << s) {
    for (int k = 0; k < 64; k = ((k | s) + 1) & ~s) {
      const uint64_t t = ((a[k] >> s) ^ a[k | s]) & mask;
      a[k] ^= t << s;
      a[k | s] ^= t;
    }
  }
}

void pixel_masks(const uint8_t* px, int len, int /*before*/, const uint8_t* thresholds, int t_count,
                 uint64_t* rows, int image) {
  for (int j = 0; j < t_count; ++j) {
    uint64_t m = 0;
    for (int p = 0; p < len; ++p) m |= static_cast<uint64_t>(px[p] >= thresholds[j]) << p;
    rows[j * 64 + image] = m;
  }
}

void peak_loop(uint64_t iterations) {
#if defined(__x86_64__)
  asm volatile(
      "1:\n\t"
      "xor %%rcx, %%r8\n\t xor %%rcx, %%r9\n\t xor %%rcx, %%r10\n\t xor %%rcx, %%r11\n\t"
      "xor %%rcx, %%r12\n\t xor %%rcx, %%r13\n\t xor %%rcx, %%r8\n\t xor %%rcx, %%r9\n\t"
      "xor %%rcx, %%r10\n\t xor %%rcx, %%r11\n\t xor %%rcx, %%r12\n\t xor %%rcx, %%r13\n\t"
      "dec %0\n\t jnz 1b"
      : "+r"(iterations)
      :
      : "r8", "r9", "r10", "r11", "r12", "r13", "rcx", "cc");
#else
  volatile uint64_t sink = 0;
  uint64_t a[12] = {};
  for (uint64_t i = 0; i < iterations; ++i)
    for (auto& x : a) x ^= i;
  for (auto x : a) sink = sink ^ x;
#endif
}

#include "engine/kernels_impl.inc"

constexpr KernelTable kTable{"scalar", Ops::kBits, &run_group, &peak_loop, 12, &transpose64};

}  // namespace

const KernelTable& scalar_kernels() { return kTable; }

}  // namespace lutnet::engine::detail
