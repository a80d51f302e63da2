// AVX2 kernels: 256 samples per __m256i word. Compiled with -mavx2 only; called after
// __builtin_cpu_supports("avx2").
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "engine/plan.hpp"

namespace lutnet::engine::detail {
namespace {

struct Ops {
  using W = __m256i;
  static constexpr int kBits = 256;
  static W load(const char* p) { return _mm256_load_si256(reinterpret_cast<const W*>(p)); }
  static W zero() { return _mm256_setzero_si256(); }
  static W ones() { return _mm256_set1_epi64x(-1); }
  static W and_(W a, W b) { return _mm256_and_si256(a, b); }
  static W xor_(W a, W b) { return _mm256_xor_si256(a, b); }
  static W not_(W a) { return _mm256_xor_si256(a, ones()); }
  static W mux(W s, W a, W b) { return xor_(b, and_(xor_(a, b), s)); }
  static W xor3(W a, W b, W c) { return xor_(xor_(a, b), c); }
  static W maj(W a, W b, W c) { return _mm256_or_si256(and_(a, b), and_(c, xor_(a, b))); }
  static W ge_step(W a, W ge, W c) {
    return _mm256_or_si256(and_(a, ge), _mm256_andnot_si256(c, _mm256_or_si256(a, ge)));
  }
};

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

// pixel >= t as max(pixel, t) == pixel, 32 pixels per compare.
void pixel_masks(const uint8_t* px, int len, const uint8_t* thresholds, int t_count, uint64_t* rows,
                 int image) {
  alignas(32) uint8_t padded[64];
  const uint8_t* src = px;
  if (len < 64) {
    for (int p = 0; p < 64; ++p) padded[p] = p < len ? px[p] : 0;
    src = padded;
  }
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 32));
  const uint64_t valid = len == 64 ? ~uint64_t{0} : (uint64_t{1} << len) - 1;
  for (int j = 0; j < t_count; ++j) {
    const __m256i t = _mm256_set1_epi8(static_cast<char>(thresholds[j]));
    const auto m_lo =
        static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_max_epu8(lo, t), lo)));
    const auto m_hi =
        static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_max_epu8(hi, t), hi)));
    rows[j * 64 + image] = ((static_cast<uint64_t>(m_hi) << 32) | m_lo) & valid;
  }
}

void peak_loop(uint64_t iterations) {
  asm volatile(
      "1:\n\t"
      "vpxor %%ymm15, %%ymm0, %%ymm0\n\t vpxor %%ymm15, %%ymm1, %%ymm1\n\t"
      "vpxor %%ymm15, %%ymm2, %%ymm2\n\t vpxor %%ymm15, %%ymm3, %%ymm3\n\t"
      "vpxor %%ymm15, %%ymm4, %%ymm4\n\t vpxor %%ymm15, %%ymm5, %%ymm5\n\t"
      "vpxor %%ymm15, %%ymm6, %%ymm6\n\t vpxor %%ymm15, %%ymm7, %%ymm7\n\t"
      "vpxor %%ymm15, %%ymm8, %%ymm8\n\t vpxor %%ymm15, %%ymm9, %%ymm9\n\t"
      "vpxor %%ymm15, %%ymm10, %%ymm10\n\t vpxor %%ymm15, %%ymm11, %%ymm11\n\t"
      "dec %0\n\t jnz 1b\n\t"
      "vzeroupper"
      : "+r"(iterations)
      :
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm15", "cc");
}

#include "engine/kernels_impl.inc"

constexpr KernelTable kTable{"avx2", Ops::kBits, &run_group, &peak_loop, 12, &transpose64};

}  // namespace

const KernelTable& avx2_kernels() { return kTable; }

}  // namespace lutnet::engine::detail
