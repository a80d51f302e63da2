#include "train/lut_dense_function.hpp"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.hpp"

namespace lutnet::train {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Batch-inner layout: every per-sample quantity is stored as [level][position][sample], so the
// loop over one connection's samples reads its 2^K-entry table from L1 and walks addresses,
// outputs and input gradients contiguously. The sample-inner loops add, for every (sample,
// level, position), the connections' terms in the same order as a sample-outer loop would, so the
// results do not depend on the layout; they equal the former sample-major kernel bit for bit.
//
// Threads take levels first (they touch disjoint tables, outputs and input gradients), then
// chunks of the batch (forward, input gradients) or of the input positions (table gradients):
// no reduction anywhere, so every thread count gives the same bits.

// Addresses [L][N_in][B] of every input position's LUT (the extra-input maps are shared by all
// connections), from the signs of s [B, L, N_in].
torch::Tensor batch_inner_addresses(const torch::Tensor& s, const torch::Tensor& perms) {
  const int64_t batch = s.size(0), levels = s.size(1), n_in = s.size(2), k = perms.size(0);
  const auto bits = (s > 0).to(torch::kUInt8).permute({1, 2, 0}).contiguous();  // [L][N][B]
  auto addresses = torch::empty({levels, n_in, batch}, bits.options());
  const uint8_t* bp = bits.data_ptr<uint8_t>();
  const int32_t* pp = perms.data_ptr<int32_t>();
  uint8_t* ap = addresses.data_ptr<uint8_t>();
  for (int64_t l = 0; l < levels; ++l)
    for (int64_t i = 0; i < n_in; ++i) {
      uint8_t* a = ap + (l * n_in + i) * batch;
      std::fill(a, a + batch, uint8_t{0});
      for (int64_t j = 0; j < k; ++j) {
        const uint8_t* bit = bp + (l * n_in + pp[j * n_in + i]) * batch;
        for (int64_t b = 0; b < batch; ++b) a[b] |= static_cast<uint8_t>(bit[b] << j);
      }
    }
  return addresses;
}

// One work item: the samples (or input positions) [b0, b1) of one level.
struct Block {
  int64_t level, b0, b1;
};

// The sizes and pointers every work item reads.
struct LutProblem {
  int64_t batch, levels, n_in, num_outputs, conns, vertices, k;
  const float* tables;  // [L][C][V]
  const int32_t* conn_input;
  const int32_t* conn_output;
  const int32_t* perms;      // [K][N_in]
  const uint8_t* addresses;  // [L][N_in][B]
};

[[gnu::always_inline]] inline void forward_chunk(const LutProblem& p, float* out,
                                                 const Block& w) {  // out [L][O][B]
  const int64_t l = w.level, b0 = w.b0, b1 = w.b1;
  const float* table = p.tables + l * p.conns * p.vertices;
  for (int64_t c = 0; c < p.conns; ++c) {
    const float* t = table + c * p.vertices;
    const uint8_t* a = p.addresses + (l * p.n_in + p.conn_input[c]) * p.batch;
    float* o = out + (l * p.num_outputs + p.conn_output[c]) * p.batch;
    for (int64_t b = b0; b < b1; ++b) o[b] += t[a[b]];
  }
}

// grad [L][O][B] in; grad_s [L][N_in][B] and this chunk's table gradients [L][C][V] out.
[[gnu::always_inline]] inline void backward_chunk(const LutProblem& p, const float* grad,
                                                  float* grad_s, const Block& w) {
  std::vector<float> slope(static_cast<size_t>(p.k * p.vertices));
  const int64_t l = w.level, b0 = w.b0, b1 = w.b1;
  const float* table = p.tables + l * p.conns * p.vertices;
  for (int64_t c = 0; c < p.conns; ++c) {
    const float* t = table + c * p.vertices;
    const int32_t i = p.conn_input[c];
    const uint8_t* a = p.addresses + (l * p.n_in + i) * p.batch;
    const float* g = grad + (l * p.num_outputs + p.conn_output[c]) * p.batch;
    // d/ds_j at vertex a: (T[a | 1<<j] - T[a & ~(1<<j)]) / 2, per j and a.
    for (int64_t j = 0; j < p.k; ++j)
      for (int64_t v = 0; v < p.vertices; ++v)
        slope[j * p.vertices + v] = 0.5f * (t[v | (1 << j)] - t[v & ~(1 << j)]);
    for (int64_t j = 0; j < p.k; ++j) {
      const float* d = slope.data() + j * p.vertices;
      float* gs = grad_s + (l * p.n_in + p.perms[j * p.n_in + i]) * p.batch;
      for (int64_t b = b0; b < b1; ++b) gs[b] += g[b] * d[a[b]];
    }
  }
}

// The connections grouped by the input position they read (the group shares its addresses).
struct ConnectionGroups {
  std::vector<int64_t> start;  // [N_in + 1]
  std::vector<int64_t> conn;   // [C], ascending within a group

  explicit ConnectionGroups(const LutProblem& p)
      : start(static_cast<size_t>(p.n_in + 1), 0), conn(static_cast<size_t>(p.conns)) {
    for (int64_t c = 0; c < p.conns; ++c) ++start[p.conn_input[c] + 1];
    for (int64_t i = 0; i < p.n_in; ++i) start[i + 1] += start[i];
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t c = 0; c < p.conns; ++c) conn[fill[p.conn_input[c]]++] = c;
  }
};

// Table gradients of the input positions [i0, i1) of one level, on the whole batch: the samples
// sorted by the position's address (a stable counting sort), then, for each connection reading
// it, one sum per vertex over its samples in sample order -- the additions of `gt[a[b]] += g[b]`
// in the same order, without its read-modify-write chains through memory. Every entry is
// written; connections never share an entry, so threads split the positions with no reduction.
void table_gradients(const LutProblem& p, const ConnectionGroups& groups, const float* grad,
                     float* grad_tables, int64_t level, int64_t i0, int64_t i1) {
  const int64_t v = p.vertices;
  std::vector<uint32_t> order(static_cast<size_t>(p.batch)), start(static_cast<size_t>(v + 1));
  for (int64_t i = i0; i < i1; ++i) {
    if (groups.start[i] == groups.start[i + 1]) continue;
    const uint8_t* a = p.addresses + (level * p.n_in + i) * p.batch;
    std::fill(start.begin(), start.end(), 0u);
    for (int64_t b = 0; b < p.batch; ++b) ++start[a[b] + 1];
    for (int64_t x = 0; x < v; ++x) start[x + 1] += start[x];
    for (int64_t b = 0; b < p.batch; ++b) order[start[a[b]]++] = static_cast<uint32_t>(b);
    for (int64_t x = v; x > 0; --x) start[x] = start[x - 1];  // the fill moved each start on
    start[0] = 0;
    for (int64_t e = groups.start[i]; e < groups.start[i + 1]; ++e) {
      const int64_t c = groups.conn[e];
      const float* g = grad + (level * p.num_outputs + p.conn_output[c]) * p.batch;
      float* gt = grad_tables + (level * p.conns + c) * v;
      for (int64_t x = 0; x < v; ++x) {
        float sum = 0.0f;
        for (uint32_t k = start[x]; k < start[x + 1]; ++k) sum += g[order[k]];
        gt[x] = sum;
      }
    }
  }
}

// The sample loops for the baseline ISA: the reference the SIMD kernels below are tested against.
void forward_scalar(const LutProblem& p, float* out, const Block& w) { forward_chunk(p, out, w); }
void backward_scalar(const LutProblem& p, const float* grad, float* grad_s, const Block& w) {
  backward_chunk(p, grad, grad_s, w);
}

// AVX-512 with the tables in registers: a 2^K-entry table (K <= 6) is one to four vectors, and a
// lookup of 16 samples is one permute (two and a blend at K = 6) instead of a 16-element gather.
// The same operations per sample in the same order as forward_chunk / backward_chunk (a lookup, a
// multiply, an add: no fused multiply-add), so the same bits.
#define LUTNET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

struct RegisterTable {
  __m512 part[4];
  int vertices;
  LUTNET_AVX512 explicit RegisterTable(const float* t, int64_t v) : vertices(static_cast<int>(v)) {
    for (int i = 0; i < 4; ++i) {
      const int64_t left = std::clamp<int64_t>(v - 16 * i, 0, 16);
      part[i] = _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << left) - 1), t + 16 * i);
    }
  }
  LUTNET_AVX512 __m512 lookup(__m512i index) const {
    if (vertices <= 16) return _mm512_maskz_permutexvar_ps(0xffff, index, part[0]);
    const __m512 low = _mm512_permutex2var_ps(part[0], index, part[1]);
    if (vertices <= 32) return low;
    const __m512 high = _mm512_permutex2var_ps(part[2], index, part[3]);
    return _mm512_mask_blend_ps(_mm512_test_epi32_mask(index, _mm512_set1_epi32(32)), low, high);
  }
  // The slope table of input j: 0.5 * (T[v | 1<<j] - T[v & ~(1<<j)]) for every vertex v.
  LUTNET_AVX512 RegisterTable slope(int64_t j) const {
    RegisterTable d = *this;
    const __m512i bit = _mm512_set1_epi32(1 << j), clear = _mm512_set1_epi32(~(1 << j));
    const __m512 half = _mm512_set1_ps(0.5f);
    for (int i = 0; i * 16 < vertices; ++i) {
      const __m512i v =
          _mm512_add_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                           _mm512_set1_epi32(16 * i));
      d.part[i] = _mm512_mul_ps(
          half, _mm512_sub_ps(lookup(_mm512_or_si512(v, bit)), lookup(_mm512_and_si512(v, clear))));
    }
    return d;
  }
};

LUTNET_AVX512 inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? __mmask16{0xffff} : static_cast<__mmask16>((1u << left) - 1);
}

LUTNET_AVX512 inline __m512i load_addresses(const uint8_t* a, __mmask16 m) {
  return _mm512_maskz_cvtepu8_epi32(m, _mm_maskz_loadu_epi8(m, a));
}

LUTNET_AVX512 void forward_avx512_registers(const LutProblem& p, float* out, const Block& w) {
  const int64_t l = w.level, b0 = w.b0, b1 = w.b1;
  const float* table = p.tables + l * p.conns * p.vertices;
  for (int64_t c = 0; c < p.conns; ++c) {
    const RegisterTable t(table + c * p.vertices, p.vertices);
    const uint8_t* a = p.addresses + (l * p.n_in + p.conn_input[c]) * p.batch;
    float* o = out + (l * p.num_outputs + p.conn_output[c]) * p.batch;
    for (int64_t b = b0; b < b1; b += 16) {
      const __mmask16 m = tail_mask(b1 - b);
      const __m512 v = t.lookup(load_addresses(a + b, m));
      _mm512_mask_storeu_ps(o + b, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, o + b), v));
    }
  }
}

LUTNET_AVX512 void backward_avx512_registers(const LutProblem& p, const float* grad, float* grad_s,
                                             const Block& w) {
  const int64_t l = w.level, b0 = w.b0, b1 = w.b1;
  const float* table = p.tables + l * p.conns * p.vertices;
  for (int64_t c = 0; c < p.conns; ++c) {
    const RegisterTable t(table + c * p.vertices, p.vertices);
    const int32_t i = p.conn_input[c];
    const uint8_t* a = p.addresses + (l * p.n_in + i) * p.batch;
    const float* g = grad + (l * p.num_outputs + p.conn_output[c]) * p.batch;
    for (int64_t j = 0; j < p.k; ++j) {
      const RegisterTable d = t.slope(j);
      float* gs = grad_s + (l * p.n_in + p.perms[j * p.n_in + i]) * p.batch;
      for (int64_t b = b0; b < b1; b += 16) {
        const __mmask16 m = tail_mask(b1 - b);
        const __m512 term =
            _mm512_mul_ps(_mm512_maskz_loadu_ps(m, g + b), d.lookup(load_addresses(a + b, m)));
        _mm512_mask_storeu_ps(gs + b, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, gs + b), term));
      }
    }
  }
}
#undef LUTNET_AVX512

// AVX2: the same with 8-entry permutes; a table of 2^K > 8 entries is several vectors, chosen
// between by blends on the high address bits. The table size is a template argument so that the
// tables stay in registers (with a run-time size they went through the stack: 2x slower).
// Samples past the last full vector go the scalar way (the same operations).
#define LUTNET_AVX2 __attribute__((target("avx2,fma")))

template <int V>
struct RegisterTable8 {
  static constexpr int kParts = V >= 8 ? V / 8 : 1;
  __m256 part[kParts];

  static LUTNET_AVX2 RegisterTable8 load(const float* t) {
    RegisterTable8 r;
    if constexpr (V >= 8) {
      for (int i = 0; i < kParts; ++i) r.part[i] = _mm256_loadu_ps(t + 8 * i);
    } else {
      alignas(32) float padded[8] = {};
      std::copy(t, t + V, padded);
      r.part[0] = _mm256_load_ps(padded);
    }
    return r;
  }
  // Blend on address bit `bit`: its value moved to the sign bit selects `high`.
  static LUTNET_AVX2 __m256 select(__m256i index, int bit, __m256 low, __m256 high) {
    return _mm256_blendv_ps(low, high, _mm256_castsi256_ps(_mm256_slli_epi32(index, 31 - bit)));
  }
  LUTNET_AVX2 __m256 lookup(__m256i index) const {
    __m256 level[kParts];
    for (int i = 0; i < kParts; ++i) level[i] = _mm256_permutevar8x32_ps(part[i], index);
    for (int bit = 3, n = kParts; n > 1; ++bit, n /= 2)
      for (int i = 0; i < n / 2; ++i) level[i] = select(index, bit, level[2 * i], level[2 * i + 1]);
    return level[0];
  }
  // The slope table of input j: 0.5 * (T[v | 1<<j] - T[v & ~(1<<j)]), as the scalar loop has it.
  LUTNET_AVX2 RegisterTable8 slope(int j) const {
    RegisterTable8 d;
    const __m256i bit = _mm256_set1_epi32(1 << j), clear = _mm256_set1_epi32(~(1 << j));
    for (int i = 0; i < kParts; ++i) {
      const __m256i v =
          _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(8 * i));
      d.part[i] = _mm256_mul_ps(
          _mm256_set1_ps(0.5f),
          _mm256_sub_ps(lookup(_mm256_or_si256(v, bit)), lookup(_mm256_and_si256(v, clear))));
    }
    return d;
  }
};

LUTNET_AVX2 inline __m256i load_addresses8(const uint8_t* a) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(a)));
}

template <int V>
LUTNET_AVX2 void forward_avx2(const LutProblem& p, float* out, const Block& w) {
  const float* table = p.tables + w.level * p.conns * V;
  for (int64_t c = 0; c < p.conns; ++c) {
    const float* tp = table + c * V;
    const auto t = RegisterTable8<V>::load(tp);
    const uint8_t* a = p.addresses + (w.level * p.n_in + p.conn_input[c]) * p.batch;
    float* o = out + (w.level * p.num_outputs + p.conn_output[c]) * p.batch;
    int64_t b = w.b0;
    for (; b + 8 <= w.b1; b += 8)
      _mm256_storeu_ps(o + b,
                       _mm256_add_ps(_mm256_loadu_ps(o + b), t.lookup(load_addresses8(a + b))));
    for (; b < w.b1; ++b) o[b] += tp[a[b]];
  }
}

// d/ds_j for every input j of one connection: one pass over the samples, the K slope tables in
// registers (more than 8 registers of them: one pass per input).
template <int V>
LUTNET_AVX2 void input_gradients_avx2(const Block& w, const RegisterTable8<V>& t, const uint8_t* a,
                                      const float* g, float* const* gs, const float* t_mem) {
  constexpr int kK = __builtin_ctz(V);
  if constexpr (kK * RegisterTable8<V>::kParts <= 8) {
    RegisterTable8<V> d[kK];
    for (int j = 0; j < kK; ++j) d[j] = t.slope(j);
    int64_t b = w.b0;
    for (; b + 8 <= w.b1; b += 8) {
      const __m256i index = load_addresses8(a + b);
      const __m256 gb = _mm256_loadu_ps(g + b);
      for (int j = 0; j < kK; ++j) {
        const __m256 term = _mm256_mul_ps(gb, d[j].lookup(index));
        _mm256_storeu_ps(gs[j] + b, _mm256_add_ps(_mm256_loadu_ps(gs[j] + b), term));
      }
    }
    for (; b < w.b1; ++b)
      for (int j = 0; j < kK; ++j) {
        const int x = a[b];
        gs[j][b] += g[b] * (0.5f * (t_mem[x | (1 << j)] - t_mem[x & ~(1 << j)]));
      }
  } else {
    for (int j = 0; j < kK; ++j) {
      const RegisterTable8<V> d = t.slope(j);
      int64_t b = w.b0;
      for (; b + 8 <= w.b1; b += 8) {
        const __m256 term = _mm256_mul_ps(_mm256_loadu_ps(g + b), d.lookup(load_addresses8(a + b)));
        _mm256_storeu_ps(gs[j] + b, _mm256_add_ps(_mm256_loadu_ps(gs[j] + b), term));
      }
      for (; b < w.b1; ++b) {
        const int x = a[b];
        gs[j][b] += g[b] * (0.5f * (t_mem[x | (1 << j)] - t_mem[x & ~(1 << j)]));
      }
    }
  }
}

template <int V>
LUTNET_AVX2 void backward_avx2(const LutProblem& p, const float* grad, float* grad_s,
                               const Block& w) {
  constexpr int kK = __builtin_ctz(V);
  const float* table = p.tables + w.level * p.conns * V;
  for (int64_t c = 0; c < p.conns; ++c) {
    const float* tp = table + c * V;
    const int32_t i = p.conn_input[c];
    const uint8_t* a = p.addresses + (w.level * p.n_in + i) * p.batch;
    const float* g = grad + (w.level * p.num_outputs + p.conn_output[c]) * p.batch;
    float* gs[kK];
    for (int j = 0; j < kK; ++j)
      gs[j] = grad_s + (w.level * p.n_in + p.perms[j * p.n_in + i]) * p.batch;
    input_gradients_avx2<V>(w, RegisterTable8<V>::load(tp), a, g, gs, tp);
  }
}

LUTNET_AVX2 void forward_avx2_registers(const LutProblem& p, float* out, const Block& w) {
  switch (p.vertices) {
    case 4:
      return forward_avx2<4>(p, out, w);
    case 8:
      return forward_avx2<8>(p, out, w);
    case 16:
      return forward_avx2<16>(p, out, w);
    case 32:
      return forward_avx2<32>(p, out, w);
    case 64:
      return forward_avx2<64>(p, out, w);
    default:
      return forward_chunk(p, out, w);
  }
}

LUTNET_AVX2 void backward_avx2_registers(const LutProblem& p, const float* grad, float* grad_s,
                                         const Block& w) {
  switch (p.vertices) {
    case 4:
      return backward_avx2<4>(p, grad, grad_s, w);
    case 8:
      return backward_avx2<8>(p, grad, grad_s, w);
    case 16:
      return backward_avx2<16>(p, grad, grad_s, w);
    case 32:
      return backward_avx2<32>(p, grad, grad_s, w);
    case 64:
      return backward_avx2<64>(p, grad, grad_s, w);
    default:
      return backward_chunk(p, grad, grad_s, w);
  }
}
#undef LUTNET_AVX2

bool cpu_has(LutKernelIsa isa) {
  switch (isa) {
    case LutKernelIsa::kScalar:
      return true;
    case LutKernelIsa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case LutKernelIsa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl");
  }
  return false;
}

LutKernelIsa best_isa() {
  for (LutKernelIsa isa : {LutKernelIsa::kAvx512, LutKernelIsa::kAvx2})
    if (cpu_has(isa)) return isa;
  return LutKernelIsa::kScalar;
}

std::atomic<LutKernelIsa> g_isa{best_isa()};

void run_forward(const LutProblem& p, float* out, const Block& w) {
  switch (g_isa.load(std::memory_order_relaxed)) {
    case LutKernelIsa::kAvx512:
      return forward_avx512_registers(p, out, w);
    case LutKernelIsa::kAvx2:
      return forward_avx2_registers(p, out, w);
    case LutKernelIsa::kScalar:
      return forward_scalar(p, out, w);
  }
}

void run_backward(const LutProblem& p, const float* grad, float* grad_s, const Block& w) {
  switch (g_isa.load(std::memory_order_relaxed)) {
    case LutKernelIsa::kAvx512:
      return backward_avx512_registers(p, grad, grad_s, w);
    case LutKernelIsa::kAvx2:
      return backward_avx2_registers(p, grad, grad_s, w);
    case LutKernelIsa::kScalar:
      return backward_scalar(p, grad, grad_s, w);
  }
}

// The work items: every level, its range [0, n) (of samples, or of input positions) split in
// fixed chunks only when there are more threads than levels (at least kMinChunk each). Each item
// writes its own part of every output, so no reduction is needed and every thread count gives
// the same bits.
std::vector<Block> work_split(int64_t levels, int64_t n) {
  constexpr int64_t kMinChunk = 16;
  const int64_t per_level = std::max<int64_t>(1, at::get_num_threads() / levels);
  const int64_t chunks = std::clamp<int64_t>(n / kMinChunk, 1, per_level);
  std::vector<Block> blocks;
  for (int64_t l = 0; l < levels; ++l)
    for (int64_t i = 0; i < chunks; ++i)
      blocks.push_back({l, n * i / chunks, n * (i + 1) / chunks});
  return blocks;
}

template <typename Work>
void for_each_block(const std::vector<Block>& blocks, const Work& work) {
  at::parallel_for(0, static_cast<int64_t>(blocks.size()), 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) work(blocks[i]);
  });
}

// sign(T) with sign(0) = +1, as the exported model and ste_sign read a binary table.
torch::Tensor table_signs(const torch::Tensor& tables) {
  auto signs = torch::empty_like(tables);
  const float* t = tables.data_ptr<float>();
  float* out = signs.data_ptr<float>();
  const int64_t n = tables.numel();
  at::parallel_for(0, n, 1 << 16, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) out[i] = t[i] >= 0 ? 1.0f : -1.0f;
  });
  return signs;
}

// The straight-through estimator's gradient of sign(T): the table gradient where |T| <= 1 (the
// clamp's pass-through band, edges included), zero outside.
void mask_outside_unit_band(torch::Tensor& grad, const torch::Tensor& tables) {
  const float* t = tables.data_ptr<float>();
  float* g = grad.data_ptr<float>();
  at::parallel_for(0, grad.numel(), 1 << 16, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      if (!(std::fabs(t[i]) <= 1.0f)) g[i] = 0.0f;
  });
}

class LutDenseFunction : public torch::autograd::Function<LutDenseFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& s_in,
                               const torch::Tensor& tables_in, const torch::Tensor& conn_input_in,
                               const torch::Tensor& conn_output_in, const torch::Tensor& perms_in,
                               int64_t num_outputs, bool binary) {
    const auto s = s_in.contiguous();
    const auto latent = tables_in.contiguous();
    const auto tables = binary ? table_signs(latent) : latent;
    const auto conn_input = conn_input_in.contiguous();
    const auto conn_output = conn_output_in.contiguous();
    const auto perms = perms_in.contiguous();
    const auto addresses = batch_inner_addresses(s, perms);
    const LutProblem p =
        problem(s.size(0), num_outputs, tables, conn_input, conn_output, perms, addresses);
    auto out = torch::zeros({p.levels, num_outputs, p.batch}, s.options());
    float* op = out.data_ptr<float>();
    for_each_block(work_split(p.levels, p.batch), [&](const Block& w) { run_forward(p, op, w); });
    ctx->save_for_backward({tables, conn_input, conn_output, perms, addresses, latent});
    ctx->saved_data["binary"] = binary;
    return out.permute({2, 0, 1}).contiguous();
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto& tables = saved[0];
    const auto& addresses = saved[4];
    const auto grad = grad_outputs[0].permute({1, 2, 0}).contiguous();  // [L][O][B]
    const LutProblem p =
        problem(addresses.size(2), grad.size(1), tables, saved[1], saved[2], saved[3], addresses);
    auto grad_s = torch::zeros({p.levels, p.n_in, p.batch}, grad.options());
    auto table_grad = torch::empty({p.levels, p.conns, p.vertices}, grad.options());
    const float* gp = grad.data_ptr<float>();
    float* gsp = grad_s.data_ptr<float>();
    float* gtp = table_grad.data_ptr<float>();
    for_each_block(work_split(p.levels, p.batch),
                   [&](const Block& w) { run_backward(p, gp, gsp, w); });
    const ConnectionGroups groups(p);
    for_each_block(work_split(p.levels, p.n_in), [&](const Block& w) {
      table_gradients(p, groups, gp, gtp, w.level, w.b0, w.b1);
    });
    if (ctx->saved_data["binary"].toBool()) mask_outside_unit_band(table_grad, saved[5]);
    return {grad_s.permute({2, 0, 1}).contiguous(),
            table_grad,
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }

 private:
  static LutProblem problem(int64_t batch, int64_t num_outputs, const torch::Tensor& tables,
                            const torch::Tensor& conn_input, const torch::Tensor& conn_output,
                            const torch::Tensor& perms, const torch::Tensor& addresses) {
    return {batch,
            tables.size(0),
            perms.size(1),
            num_outputs,
            tables.size(1),
            tables.size(2),
            perms.size(0),
            tables.data_ptr<float>(),
            conn_input.data_ptr<int32_t>(),
            conn_output.data_ptr<int32_t>(),
            perms.data_ptr<int32_t>(),
            addresses.data_ptr<uint8_t>()};
  }
};

}  // namespace

std::vector<LutKernelIsa> available_lut_kernel_isas() {
  std::vector<LutKernelIsa> isas;
  for (LutKernelIsa isa : {LutKernelIsa::kScalar, LutKernelIsa::kAvx2, LutKernelIsa::kAvx512})
    if (cpu_has(isa)) isas.push_back(isa);
  return isas;
}

LutKernelIsa lut_kernel_isa() { return g_isa.load(); }

bool lut_kernels_run_in_parallel() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

void set_lut_kernel_isa(LutKernelIsa isa) {
  if (!cpu_has(isa)) throw Error("set_lut_kernel_isa: this CPU lacks the requested ISA");
  g_isa.store(isa);
}

torch::Tensor lut_dense(const torch::Tensor& s, const torch::Tensor& tables,
                        const LutWiring& wiring, bool binary_tables) {
  TORCH_CHECK(s.device().is_cpu(),
              "lut_dense: the fused kernel runs on the CPU; use lut_dense_portable on other "
              "devices");
  return LutDenseFunction::apply(s, tables, wiring.conn_input, wiring.conn_output, wiring.perms,
                                 wiring.num_outputs, binary_tables);
}

torch::Tensor lut_dense_naive(const torch::Tensor& s, const torch::Tensor& tables,
                              const LutWiring& wiring) {
  const int64_t k = wiring.perms.size(0);
  const int64_t vertices = int64_t{1} << k;
  const auto conn_input = wiring.conn_input.to(torch::kLong);
  // Inputs of every connection: [B, L, C] per LUT input j.
  torch::Tensor products;  // [B, L, C, 2^K]
  for (int64_t j = 0; j < k; ++j) {
    const auto index = wiring.perms[j].to(torch::kLong).index_select(0, conn_input);
    const auto x = s.index_select(2, index).unsqueeze(-1);  // [B, L, C, 1]
    std::vector<float> sign(vertices);
    for (int64_t p = 0; p < vertices; ++p) sign[p] = (p >> j) & 1 ? 1.0f : -1.0f;
    const auto sigma = torch::tensor(sign, s.options());  // [2^K]
    const auto factor = (1 + sigma * x) * 0.5;            // [B, L, C, 2^K]
    products = products.defined() ? products * factor : factor;
  }
  const auto f = (products * tables.unsqueeze(0)).sum(-1);  // [B, L, C]
  auto out = torch::zeros({s.size(0), s.size(1), wiring.num_outputs}, s.options());
  return out.index_add(2, wiring.conn_output.to(torch::kLong), f);
}

}  // namespace lutnet::train
