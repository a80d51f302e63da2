// AVX2 kernels: 512 samples per word of two __m256i (the plane layout of AVX-512). Generated code
// (jit_avx2_emitter.hpp) runs each half of a word as its own 256-bit chunk: a cache line then
// holds the two halves of one plane, and both are used. Compiled with -mavx2 only; called after
// __builtin_cpu_supports("avx2").
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "engine/plan.hpp"

namespace lutnet::engine::detail {
namespace {

struct alignas(64) Word2 {
  __m256i lo, hi;
};

struct Ops {
  using W = Word2;
  static constexpr int kBits = 512;
  static W load(const char* p) {
    return {_mm256_load_si256(reinterpret_cast<const __m256i*>(p)),
            _mm256_load_si256(reinterpret_cast<const __m256i*>(p + 32))};
  }
  static W zero() { return {_mm256_setzero_si256(), _mm256_setzero_si256()}; }
  static W ones() { return {_mm256_set1_epi64x(-1), _mm256_set1_epi64x(-1)}; }
  static W and_(W a, W b) { return {_mm256_and_si256(a.lo, b.lo), _mm256_and_si256(a.hi, b.hi)}; }
  static W or_(W a, W b) { return {_mm256_or_si256(a.lo, b.lo), _mm256_or_si256(a.hi, b.hi)}; }
  static W andnot(W a, W b) {
    return {_mm256_andnot_si256(a.lo, b.lo), _mm256_andnot_si256(a.hi, b.hi)};
  }
  static W xor_(W a, W b) { return {_mm256_xor_si256(a.lo, b.lo), _mm256_xor_si256(a.hi, b.hi)}; }
  static W not_(W a) { return xor_(a, ones()); }
  static W mux(W s, W a, W b) { return xor_(b, and_(xor_(a, b), s)); }
  static W xor3(W a, W b, W c) { return xor_(xor_(a, b), c); }
  static W maj(W a, W b, W c) { return or_(and_(a, b), and_(c, xor_(a, b))); }
  static W ge_step(W a, W ge, W c) { return or_(and_(a, ge), andnot(c, or_(a, ge))); }
};

// The recursive block swap of kernels_scalar.cpp, 4 rows per register: at sizes 32..4 the rows k
// and k + s of a swap sit in different registers; at 2 and 1 in the same one, paired by a qword
// permute (t only kept in the lanes of the lower rows, then moved to the upper ones).
template <int S>
inline void swap_far(__m256i& lo, __m256i& hi, __m256i mask) {
  const __m256i t = _mm256_and_si256(_mm256_xor_si256(_mm256_srli_epi64(lo, S), hi), mask);
  lo = _mm256_xor_si256(lo, _mm256_slli_epi64(t, S));
  hi = _mm256_xor_si256(hi, t);
}
template <int S, int kPermute>
inline __m256i swap_near(__m256i x, __m256i mask) {
  const __m256i partner = _mm256_permute4x64_epi64(x, kPermute);
  const __m256i t = _mm256_and_si256(_mm256_xor_si256(_mm256_srli_epi64(x, S), partner), mask);
  return _mm256_xor_si256(
      x, _mm256_or_si256(_mm256_slli_epi64(t, S), _mm256_permute4x64_epi64(t, kPermute)));
}

template <int S>
inline void swap_all_far(__m256i* r, uint64_t m) {
  constexpr int kRegs = S / 4;
  const __m256i mask = _mm256_set1_epi64x(static_cast<int64_t>(m));
#pragma GCC unroll 8
  for (int k = 0; k < 16; k = ((k | kRegs) + 1) & ~kRegs) swap_far<S>(r[k], r[k | kRegs], mask);
}

void transpose64(uint64_t* a) {
  __m256i r[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i)
    r[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 4 * i));
  swap_all_far<32>(r, 0x00000000FFFFFFFFull);
  swap_all_far<16>(r, 0x0000FFFF0000FFFFull);
  swap_all_far<8>(r, 0x00FF00FF00FF00FFull);
  swap_all_far<4>(r, 0x0F0F0F0F0F0F0F0Full);
  const __m256i m2 = _mm256_set_epi64x(0, 0, 0x3333333333333333ll, 0x3333333333333333ll);
  const __m256i m1 = _mm256_set_epi64x(0, 0x5555555555555555ll, 0, 0x5555555555555555ll);
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) {
    r[i] = swap_near<2, 0x4E>(r[i], m2);  // qwords (2, 3, 0, 1)
    r[i] = swap_near<1, 0xB1>(r[i], m1);  // qwords (1, 0, 3, 2)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + 4 * i), r[i]);
  }
}

// pixel >= t as max(pixel, t) == pixel, 32 pixels per compare. A short last block (len < 64) is
// read as the 64 bytes ending at its end when the image has them (`before` bytes precede px), and
// its mask shifted down: copying it byte by byte into a padded buffer would stall the vector loads
// on store forwarding.
void pixel_masks(const uint8_t* px, int len, int before, const uint8_t* thresholds, int t_count,
                 uint64_t* rows, int image) {
  alignas(32) uint8_t padded[64];
  const uint8_t* src = px;
  int shift = 0;
  if (len < 64 && before >= 64 - len) {
    shift = 64 - len;
    src = px - shift;
  } else if (len < 64) {
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
    rows[j * 64 + image] = (((static_cast<uint64_t>(m_hi) << 32) | m_lo) >> shift) & valid;
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

// peak_loop: 12 ymm XORs = 6 word operations.
constexpr KernelTable kTable{"avx2", Ops::kBits, &run_group, &peak_loop, 6, &transpose64};

}  // namespace

const KernelTable& avx2_kernels() { return kTable; }

}  // namespace lutnet::engine::detail
