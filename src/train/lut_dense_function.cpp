#include "train/lut_dense_function.hpp"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
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
// results do not depend on the layout; with one thread they equal the former sample-major kernel
// bit for bit.
//
// Threads split the batch into fixed chunks (at::parallel_for): forward values and input
// gradients do not depend on the chunking; table gradients are summed per chunk and the chunks
// added in order, so a given thread count always gives the same bits.

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

// The sizes and pointers one chunk of samples [b0, b1) works on.
struct LutProblem {
  int64_t batch, levels, n_in, num_outputs, conns, vertices, k;
  const float* tables;  // [L][C][V]
  const int32_t* conn_input;
  const int32_t* conn_output;
  const int32_t* perms;      // [K][N_in]
  const uint8_t* addresses;  // [L][N_in][B]
};

[[gnu::always_inline]] inline void forward_chunk(const LutProblem& p, float* out, int64_t b0,
                                                 int64_t b1) {  // out [L][O][B]
  for (int64_t l = 0; l < p.levels; ++l) {
    const float* table = p.tables + l * p.conns * p.vertices;
    for (int64_t c = 0; c < p.conns; ++c) {
      const float* t = table + c * p.vertices;
      const uint8_t* a = p.addresses + (l * p.n_in + p.conn_input[c]) * p.batch;
      float* o = out + (l * p.num_outputs + p.conn_output[c]) * p.batch;
      for (int64_t b = b0; b < b1; ++b) o[b] += t[a[b]];
    }
  }
}

// grad [L][O][B] in; grad_s [L][N_in][B] and this chunk's table gradients [L][C][V] out.
[[gnu::always_inline]] inline void backward_chunk(const LutProblem& p, const float* grad,
                                                  float* grad_s, float* grad_tables, int64_t b0,
                                                  int64_t b1) {
  std::vector<float> slope(static_cast<size_t>(p.k * p.vertices));
  for (int64_t l = 0; l < p.levels; ++l) {
    const float* table = p.tables + l * p.conns * p.vertices;
    for (int64_t c = 0; c < p.conns; ++c) {
      const float* t = table + c * p.vertices;
      const int32_t i = p.conn_input[c];
      const uint8_t* a = p.addresses + (l * p.n_in + i) * p.batch;
      const float* g = grad + (l * p.num_outputs + p.conn_output[c]) * p.batch;
      float* gt = grad_tables + (l * p.conns + c) * p.vertices;
      for (int64_t b = b0; b < b1; ++b) gt[a[b]] += g[b];
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
}

// The sample loops for the baseline ISA: the reference the SIMD kernels below are tested against.
void forward_scalar(const LutProblem& p, float* out, int64_t b0, int64_t b1) {
  forward_chunk(p, out, b0, b1);
}
void backward_scalar(const LutProblem& p, const float* grad, float* grad_s, float* grad_tables,
                     int64_t b0, int64_t b1) {
  backward_chunk(p, grad, grad_s, grad_tables, b0, b1);
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

LUTNET_AVX512 void forward_avx512_registers(const LutProblem& p, float* out, int64_t b0,
                                            int64_t b1) {
  for (int64_t l = 0; l < p.levels; ++l) {
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
}

LUTNET_AVX512 void backward_avx512_registers(const LutProblem& p, const float* grad, float* grad_s,
                                             float* grad_tables, int64_t b0, int64_t b1) {
  for (int64_t l = 0; l < p.levels; ++l) {
    const float* table = p.tables + l * p.conns * p.vertices;
    for (int64_t c = 0; c < p.conns; ++c) {
      const RegisterTable t(table + c * p.vertices, p.vertices);
      const int32_t i = p.conn_input[c];
      const uint8_t* a = p.addresses + (l * p.n_in + i) * p.batch;
      const float* g = grad + (l * p.num_outputs + p.conn_output[c]) * p.batch;
      float* gt = grad_tables + (l * p.conns + c) * p.vertices;
      for (int64_t b = b0; b < b1; ++b) gt[a[b]] += g[b];
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
}
#undef LUTNET_AVX512

// AVX2: the same with 8-entry permutes; a table of 2^K > 8 entries is several vectors, chosen
// between by blends on the high address bits. Samples past the last full vector go the scalar
// way (the same operations).
#define LUTNET_AVX2 __attribute__((target("avx2,fma")))

struct RegisterTable8 {
  __m256 part[8];
  int vertices;
  LUTNET_AVX2 explicit RegisterTable8(const float* t, int64_t v) : vertices(static_cast<int>(v)) {
    alignas(32) float padded[8] = {};
    for (int i = 0; i < 8; ++i) {
      const int64_t left = std::clamp<int64_t>(v - 8 * i, 0, 8);
      if (left == 8) {
        part[i] = _mm256_loadu_ps(t + 8 * i);
      } else {
        std::fill(padded, padded + 8, 0.0f);
        std::copy(t + 8 * i, t + 8 * i + left, padded);
        part[i] = _mm256_load_ps(padded);
      }
    }
  }
  // Blend on address bit `bit`: its value moved to the sign bit selects `high`.
  static LUTNET_AVX2 __m256 select(__m256i index, int bit, __m256 low, __m256 high) {
    return _mm256_blendv_ps(low, high, _mm256_castsi256_ps(_mm256_slli_epi32(index, 31 - bit)));
  }
  LUTNET_AVX2 __m256 lookup(__m256i index) const {
    __m256 level[8];
    const int parts = std::max(1, vertices / 8);
    for (int i = 0; i < parts; ++i) level[i] = _mm256_permutevar8x32_ps(part[i], index);
    for (int bit = 3, n = parts; n > 1; ++bit, n /= 2)
      for (int i = 0; i < n / 2; ++i) level[i] = select(index, bit, level[2 * i], level[2 * i + 1]);
    return level[0];
  }
};

LUTNET_AVX2 inline __m256i load_addresses8(const uint8_t* a) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(a)));
}

LUTNET_AVX2 void forward_avx2_registers(const LutProblem& p, float* out, int64_t b0, int64_t b1) {
  for (int64_t l = 0; l < p.levels; ++l) {
    const float* table = p.tables + l * p.conns * p.vertices;
    for (int64_t c = 0; c < p.conns; ++c) {
      const float* tp = table + c * p.vertices;
      const RegisterTable8 t(tp, p.vertices);
      const uint8_t* a = p.addresses + (l * p.n_in + p.conn_input[c]) * p.batch;
      float* o = out + (l * p.num_outputs + p.conn_output[c]) * p.batch;
      int64_t b = b0;
      for (; b + 8 <= b1; b += 8)
        _mm256_storeu_ps(o + b,
                         _mm256_add_ps(_mm256_loadu_ps(o + b), t.lookup(load_addresses8(a + b))));
      for (; b < b1; ++b) o[b] += tp[a[b]];
    }
  }
}

LUTNET_AVX2 void backward_avx2_registers(const LutProblem& p, const float* grad, float* grad_s,
                                         float* grad_tables, int64_t b0, int64_t b1) {
  std::vector<float> slope(static_cast<size_t>(p.vertices));
  for (int64_t l = 0; l < p.levels; ++l) {
    const float* table = p.tables + l * p.conns * p.vertices;
    for (int64_t c = 0; c < p.conns; ++c) {
      const float* t = table + c * p.vertices;
      const int32_t i = p.conn_input[c];
      const uint8_t* a = p.addresses + (l * p.n_in + i) * p.batch;
      const float* g = grad + (l * p.num_outputs + p.conn_output[c]) * p.batch;
      float* gt = grad_tables + (l * p.conns + c) * p.vertices;
      for (int64_t b = b0; b < b1; ++b) gt[a[b]] += g[b];
      for (int64_t j = 0; j < p.k; ++j) {
        for (int64_t v = 0; v < p.vertices; ++v)
          slope[v] = 0.5f * (t[v | (1 << j)] - t[v & ~(1 << j)]);
        const RegisterTable8 d(slope.data(), p.vertices);
        float* gs = grad_s + (l * p.n_in + p.perms[j * p.n_in + i]) * p.batch;
        int64_t b = b0;
        for (; b + 8 <= b1; b += 8) {
          const __m256 term =
              _mm256_mul_ps(_mm256_loadu_ps(g + b), d.lookup(load_addresses8(a + b)));
          _mm256_storeu_ps(gs + b, _mm256_add_ps(_mm256_loadu_ps(gs + b), term));
        }
        for (; b < b1; ++b) gs[b] += g[b] * slope[a[b]];
      }
    }
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

void run_forward(const LutProblem& p, float* out, int64_t b0, int64_t b1) {
  switch (g_isa.load(std::memory_order_relaxed)) {
    case LutKernelIsa::kAvx512:
      return forward_avx512_registers(p, out, b0, b1);
    case LutKernelIsa::kAvx2:
      return forward_avx2_registers(p, out, b0, b1);
    case LutKernelIsa::kScalar:
      return forward_scalar(p, out, b0, b1);
  }
}

void run_backward(const LutProblem& p, const float* grad, float* grad_s, float* grad_tables,
                  int64_t b0, int64_t b1) {
  switch (g_isa.load(std::memory_order_relaxed)) {
    case LutKernelIsa::kAvx512:
      return backward_avx512_registers(p, grad, grad_s, grad_tables, b0, b1);
    case LutKernelIsa::kAvx2:
      return backward_avx2_registers(p, grad, grad_s, grad_tables, b0, b1);
    case LutKernelIsa::kScalar:
      return backward_scalar(p, grad, grad_s, grad_tables, b0, b1);
  }
}

// Fixed chunks of the batch: one per thread, at least kMinChunk samples each.
std::vector<int64_t> chunk_starts(int64_t batch) {
  constexpr int64_t kMinChunk = 16;
  const int64_t chunks = std::clamp<int64_t>(batch / kMinChunk, 1, at::get_num_threads());
  std::vector<int64_t> starts;
  for (int64_t i = 0; i <= chunks; ++i) starts.push_back(batch * i / chunks);
  return starts;
}

class LutDenseFunction : public torch::autograd::Function<LutDenseFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& s_in,
                               const torch::Tensor& tables_in, const torch::Tensor& conn_input_in,
                               const torch::Tensor& conn_output_in, const torch::Tensor& perms_in,
                               int64_t num_outputs) {
    const auto s = s_in.contiguous();
    const auto tables = tables_in.contiguous();
    const auto conn_input = conn_input_in.contiguous();
    const auto conn_output = conn_output_in.contiguous();
    const auto perms = perms_in.contiguous();
    const auto addresses = batch_inner_addresses(s, perms);
    const LutProblem p =
        problem(s.size(0), num_outputs, tables, conn_input, conn_output, perms, addresses);
    auto out = torch::zeros({p.levels, num_outputs, p.batch}, s.options());
    float* op = out.data_ptr<float>();
    const auto starts = chunk_starts(p.batch);
    at::parallel_for(0, static_cast<int64_t>(starts.size()) - 1, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t chunk = c0; chunk < c1; ++chunk)
        run_forward(p, op, starts[chunk], starts[chunk + 1]);
    });
    ctx->save_for_backward({tables, conn_input, conn_output, perms, addresses});
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
    const auto starts = chunk_starts(p.batch);
    const int64_t chunks = static_cast<int64_t>(starts.size()) - 1;
    auto grad_tables = torch::zeros({chunks, p.levels, p.conns, p.vertices}, grad.options());
    const float* gp = grad.data_ptr<float>();
    float* gsp = grad_s.data_ptr<float>();
    float* gtp = grad_tables.data_ptr<float>();
    at::parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t chunk = c0; chunk < c1; ++chunk)
        run_backward(p, gp, gsp, gtp + chunk * p.levels * p.conns * p.vertices, starts[chunk],
                     starts[chunk + 1]);
    });
    // Chunks added in order (a sum over dim 0 would not promise an order).
    auto table_grad = grad_tables[0];
    for (int64_t chunk = 1; chunk < chunks; ++chunk) table_grad = table_grad + grad_tables[chunk];
    return {grad_s.permute({2, 0, 1}).contiguous(),
            table_grad,
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

void set_lut_kernel_isa(LutKernelIsa isa) {
  if (!cpu_has(isa)) throw Error("set_lut_kernel_isa: this CPU lacks the requested ISA");
  g_isa.store(isa);
}

torch::Tensor lut_dense(const torch::Tensor& s, const torch::Tensor& tables,
                        const LutWiring& wiring) {
  TORCH_CHECK(s.device().is_cpu(),
              "lut_dense: the fused kernel runs on the CPU; use "
              "lut_dense_naive on other devices");
  return LutDenseFunction::apply(s, tables, wiring.conn_input, wiring.conn_output, wiring.perms,
                                 wiring.num_outputs);
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
