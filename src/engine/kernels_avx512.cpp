// AVX-512 kernels: 512 samples per __m512i word; every mux, full adder and comparator step is one
// vpternlogq. Input and score transposes use GFNI + VBMI. Called only after engine.cpp checked
// avx512f/bw/vl/dq, avx512vbmi and gfni.
// GCC 12's _mm512_undefined_epi32 (self-initialized) trips -Wuninitialized in every inlined use.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstddef>
#include <cstdint>
#include <utility>

#include "engine/plan.hpp"

namespace lutnet::engine::detail {
namespace {

struct Ops {
  using W = __m512i;
  static constexpr int kBits = 512;
  static W load(const char* p) { return _mm512_load_si512(p); }
  static W zero() { return _mm512_setzero_si512(); }
  static W ones() { return _mm512_set1_epi64(-1); }
  // vpternlogq immediates from the truth tables a = 0xF0, b = 0xCC, c = 0xAA.
  static W mux(W s, W a, W b) { return _mm512_ternarylogic_epi64(s, a, b, 0xCA); }
  static W xor3(W a, W b, W c) { return _mm512_ternarylogic_epi64(a, b, c, 0x96); }
  static W maj(W a, W b, W c) { return _mm512_ternarylogic_epi64(a, b, c, 0xE8); }
  static W and_(W a, W b) { return _mm512_and_si512(a, b); }
  static W xor_(W a, W b) { return _mm512_xor_si512(a, b); }
  static W not_(W a) { return _mm512_ternarylogic_epi64(a, a, a, 0x55); }
  static W ge_step(W a, W ge, W c) { return _mm512_ternarylogic_epi64(a, ge, c, 0xD4); }
};

struct ByteTable {
  alignas(64) uint8_t v[64];
};

// Within each group of 8 rows: qword c gathers byte c of the 8 rows, rows in reverse order
// (vgf2p8affineqb reads its matrix rows from the top byte down).
constexpr ByteTable make_gather_columns() {
  ByteTable t{};
  for (int c = 0; c < 8; ++c)
    for (int m = 0; m < 8; ++m) t.v[8 * c + m] = static_cast<uint8_t>(8 * (7 - m) + c);
  return t;
}
// 8x8 byte transpose within a register.
constexpr ByteTable make_byte_transpose() {
  ByteTable t{};
  for (int i = 0; i < 8; ++i)
    for (int g = 0; g < 8; ++g) t.v[8 * i + g] = static_cast<uint8_t>(8 * g + i);
  return t;
}
constexpr ByteTable kGatherColumns = make_gather_columns();
constexpr ByteTable kByteTranspose = make_byte_transpose();

// 64x64 bit transpose as 8x8 blocks of 8x8 bits: bytes are moved into blocks (vpermb), each block
// is transposed by a GF(2) affine map with a one-hot matrix (vgf2p8affineqb), and the blocks are
// transposed across registers (qword 8x8 transpose, then vpermb).
void transpose64(uint64_t* a) {
  const __m512i gather = _mm512_load_si512(kGatherColumns.v);
  const __m512i bytes_t = _mm512_load_si512(kByteTranspose.v);
  const __m512i one_hot = _mm512_set1_epi64(static_cast<int64_t>(0x8040201008040201ull));
  __m512i t[8];
  for (int g = 0; g < 8; ++g) {
    const __m512i z = _mm512_loadu_si512(a + 8 * g);
    t[g] = _mm512_gf2p8affine_epi64_epi8(one_hot, _mm512_permutexvar_epi8(gather, z), 0);
  }
  // t[g] qword c byte i = bits of rows 8g..8g+7 at column 8c+i; gather qword c of every t[g].
  __m512i x[8];
  for (int k = 0; k < 4; ++k) {
    x[2 * k] = _mm512_unpacklo_epi64(t[2 * k], t[2 * k + 1]);
    x[2 * k + 1] = _mm512_unpackhi_epi64(t[2 * k], t[2 * k + 1]);
  }
  const __m512i even = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
  const __m512i odd = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
  __m512i y[8];
  y[0] = _mm512_permutex2var_epi64(x[0], even, x[2]);
  y[2] = _mm512_permutex2var_epi64(x[0], odd, x[2]);
  y[1] = _mm512_permutex2var_epi64(x[1], even, x[3]);
  y[3] = _mm512_permutex2var_epi64(x[1], odd, x[3]);
  y[4] = _mm512_permutex2var_epi64(x[4], even, x[6]);
  y[6] = _mm512_permutex2var_epi64(x[4], odd, x[6]);
  y[5] = _mm512_permutex2var_epi64(x[5], even, x[7]);
  y[7] = _mm512_permutex2var_epi64(x[5], odd, x[7]);
  const __m512i low = _mm512_set_epi64(11, 10, 9, 8, 3, 2, 1, 0);
  const __m512i high = _mm512_set_epi64(15, 14, 13, 12, 7, 6, 5, 4);
  __m512i u[8];
  for (int c = 0; c < 4; ++c) {
    u[c] = _mm512_permutex2var_epi64(y[c], low, y[c + 4]);
    u[c + 4] = _mm512_permutex2var_epi64(y[c], high, y[c + 4]);
  }
  for (int c = 0; c < 8; ++c)
    _mm512_storeu_si512(a + 8 * c, _mm512_permutexvar_epi8(bytes_t, u[c]));
}

void pixel_masks(const uint8_t* px, int len, int /*before*/, const uint8_t* thresholds, int t_count,
                 uint64_t* rows, int image) {
  const __mmask64 valid = len == 64 ? ~__mmask64{0} : (__mmask64{1} << len) - 1;
  const __m512i x = _mm512_maskz_loadu_epi8(valid, px);
  for (int j = 0; j < t_count; ++j)
    rows[j * 64 + image] =
        _mm512_mask_cmpge_epu8_mask(valid, x, _mm512_set1_epi8(static_cast<char>(thresholds[j])));
}

void peak_loop(uint64_t iterations) {
  asm volatile(
      "1:\n\t"
      "vpternlogq $0xCA, %%zmm15, %%zmm14, %%zmm0\n\t vpternlogq $0xCA, %%zmm15, %%zmm14, "
      "%%zmm1\n\t"
      "vpternlogq $0xCA, %%zmm15, %%zmm14, %%zmm2\n\t vpternlogq $0xCA, %%zmm15, %%zmm14, "
      "%%zmm3\n\t"
      "vpternlogq $0xCA, %%zmm15, %%zmm14, %%zmm4\n\t vpternlogq $0xCA, %%zmm15, %%zmm14, "
      "%%zmm5\n\t"
      "vpternlogq $0xCA, %%zmm15, %%zmm14, %%zmm6\n\t vpternlogq $0xCA, %%zmm15, %%zmm14, "
      "%%zmm7\n\t"
      "vpternlogq $0xCA, %%zmm15, %%zmm14, %%zmm8\n\t vpternlogq $0xCA, %%zmm15, %%zmm14, "
      "%%zmm9\n\t"
      "vpternlogq $0xCA, %%zmm15, %%zmm14, %%zmm10\n\t vpternlogq $0xCA, %%zmm15, %%zmm14, "
      "%%zmm11\n\t"
      "dec %0\n\t jnz 1b\n\t"
      "vzeroupper"
      : "+r"(iterations)
      :
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm14", "xmm15", "cc");
}

#include "engine/kernels_impl.inc"

constexpr KernelTable kTable{"avx512", Ops::kBits, &run_group, &peak_loop, 12, &transpose64};

}  // namespace

const KernelTable& avx512_kernels() { return kTable; }

}  // namespace lutnet::engine::detail
