#pragma once
// The execution plan a kernel runs: plain structs of pointers and counts, built once by
// CompiledModel::compile (engine.cpp) and read by the ISA kernels (kernels_*.cpp).
//
// This header is included by translation units compiled with different ISA flags, so it holds no
// inline functions or templates: a shared inline function could be emitted with AVX-512
// instructions and then picked by the linker for the scalar path too.
#include <cstddef>
#include <cstdint>

namespace lutnet::engine::detail {

inline constexpr int kMaxEffectiveInputs = 6;
inline constexpr int kHeaderWords = 1 + kMaxEffectiveInputs;  // ones count, then n[Ke] for Ke=1..6
inline constexpr int kMaxLevels = 4;  // lutnet::kMaxLevels (static_assert in engine.cpp)
inline constexpr int kMaxThresholds = (1 << kMaxLevels) - 1;

// Plane buffers hold one word (the ISA's width, one bit per sample) per plane:
//   plane 0: all zeros, plane 1: all ones,
//   plane 2 + 2*l*N + i: level l of input i, plane 2 + 2*l*N + N + i: its complement.
// Layers run level by level, so one level's planes (32 KiB for 256 inputs at 512 bits) stay in L1.
// A LUT is a mux tree over its effective inputs whose leaves are planes: the leaf of a table pair
// (f(x0=0), f(x0=1)) is zeros, ones, x0 or ~x0, so a runtime table needs no runtime operation.
//
// Records hold plane offsets in units of 8 bytes (plane * word_bits / 64), so that the kernel
// addresses base + offset * 8 without a shift; 16-bit offsets (32-bit when wide) packed in qwords.
// How a layer runs. A dense layer runs its LUT array once on the whole input. A conv layer runs
// the array of its receptive window once per output pixel: the window's planes are gathered into
// a window buffer (the layout above for num_inputs = window positions), the array writes one
// pixel's output planes into a pixel buffer, and these are scattered into the output. A pool
// layer has no LUT array (its records, headers and jit are empty).
enum StepKind : uint32_t { kDenseStep = 0, kConvStep = 1, kPoolStep = 2 };

// The geometry of a conv or pool step (ActivationShape of core/model.hpp).
struct WindowPlan {
  uint32_t in_plane_bits;   // N of the input buffer: planes 2 + l*2N + i
  uint32_t out_plane_bits;  // N of the output buffer
  uint32_t levels;          // input levels
  uint32_t channels;        // pool: channels (conv: the LUT array's outputs)
  uint32_t window_size;     // conv: window positions (the LUT array's inputs)
  uint32_t in_height, in_width, group, stride, kernel_h, kernel_w;
  uint32_t out_height, out_width;
  // Conv: per window position w = (c * kernel_h + ky) * kernel_w + kx, its input position at
  // output pixel (0, 0); pixel (y, x) adds (y * in_width + x) * stride * group.
  const uint32_t* window_base;
  uint32_t buffer_words;    // conv: words between chunks of the window and pixel buffers
  bool gather_complements;  // conv: the LUT kernel reads complement planes of the window
  bool write_complements;   // the next layer reads complement planes of this output
};

struct LayerPlan {
  StepKind kind;
  WindowPlan window;  // conv and pool
  uint32_t num_outputs;
  uint32_t num_levels;  // input levels L
  uint32_t out_levels;  // output bits per neuron; 0 for the argmax layer
  uint32_t acc_bits;    // accumulator planes B: every accumulator < 2^B
  uint32_t count_bits;  // planes of one level's popcount (>= 4)
  uint32_t thresholds_per_output;
  // Per (level, output), level-major: kHeaderWords entries: constant-one LUTs, then LUTs with
  // Ke = 1..6.
  const uint32_t* headers;
  // Records in header order; a Ke record is 2^(Ke-1) leaf offsets then Ke-1 selector offsets,
  // 4 (or 2 when wide) offsets per qword, each record starting on a qword.
  const uint64_t* records;
  bool wide_indices;  // 32-bit offsets; else 16-bit
  const uint32_t* level_weights;
  // Per output: thresholds_per_output comparison constants c in [0, 2^B]; output bit = (acc >= c)
  // XOR invert[o].
  const uint64_t* compare;
  const uint8_t* invert;
  // Generated code for the whole layer (AVX-512 and AVX2; null: use the records), over `chunks`
  // plane buffers ModelPlan::buffer_words apart: hidden layers write their output planes except
  // planes 0 and 1, the argmax layer its accumulators (jit.hpp).
  void (*jit)(const char* planes, char* out, size_t chunks);
  // Whether the reader of the LUT array's output planes (the next layer, or for conv the
  // scatter) reads complement planes (AVX-512 generated code does not): skip writing them.
  bool write_complements;
};

struct EncodePlan {
  uint32_t num_pixels;
  uint32_t num_thresholds;  // bits per pixel T; input bit p*T + j = pixel[p] >= thresholds[j]
  uint8_t thresholds[8];
  bool write_complements;  // the first layer reads complement planes
};

struct ModelPlan {
  EncodePlan encode;
  const LayerPlan* layers;
  uint32_t num_layers;
  uint32_t num_classes;
  uint32_t max_scratch;   // words of LUT outputs of one (output, level), padded
  uint32_t buffer_words;  // words of one chunk's plane buffer (max planes of any layer input)
  uint32_t group_chunks;  // chunks (words of images) per run_group call
};

// Per-thread memory, allocated by compile; a kernel call allocates nothing.
struct Workspace {
  void* buffers[2];  // plane buffers: group_chunks * buffer_words words each, 64-byte aligned
  void* scratch;     // max_scratch words
  void* acc;         // group_chunks * num_classes * acc_bits words: argmax layer accumulators
  void* partial;     // accumulators between the levels of a layer (generic kernel)
  uint64_t* rows;    // word_bits * max(1, pixel blocks * T) qwords: encoding masks, class scores
  void* window;      // conv: group_chunks * max buffer_words words of gathered window planes
  void* pixel;       // conv: the same size, one output pixel's planes
};

// One ISA's kernels. run_group evaluates up to group_chunks * word_bits images (count) starting
// at pixels.
struct KernelTable {
  const char* name;
  int word_bits;
  void (*run_group)(const ModelPlan& plan, const Workspace& ws, const uint8_t* pixels, size_t count,
                    int32_t* labels, int64_t* scores);
  // A register-only loop of simple logic ops on words of word_bits: peak_ops_per_iteration
  // independent ops per iteration. Timed by engine.cpp (no clocks in ISA-flagged code).
  void (*peak_loop)(uint64_t iterations);
  int peak_ops_per_iteration;
  // Transposes a 64x64 bit matrix in place: bit j of a[i] moves to bit i of a[j] (for tests).
  void (*transpose64)(uint64_t* a);
};

const KernelTable& scalar_kernels();
const KernelTable& avx2_kernels();
const KernelTable& avx512_kernels();

}  // namespace lutnet::engine::detail
