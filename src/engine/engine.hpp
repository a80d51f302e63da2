#pragma once
// The bit-sliced inference engine (docs/engine.md). A model is compiled once into a plan
// (validation, LUT simplification, buffer layout, kernel choice); run() then evaluates batches
// without allocating, one bit per sample in 64- or 512-bit words, with the same results as
// evaluate_reference (core/reference_evaluator.hpp) bit for bit.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/model.hpp"

namespace lutnet::engine {

enum class Isa { kScalar, kAvx2, kAvx512, kBest };

// "scalar", "avx2", "avx512", "best".
const char* isa_name(Isa isa);
// Parses those names; throws lutnet::Error naming the bad value.
Isa parse_isa(std::string_view name);
// The concrete ISAs this CPU runs, scalar first, best last.
std::vector<Isa> available_isas();
// kBest resolved for this CPU.
Isa best_isa();
// Samples per word of an ISA's kernels (64, or 512 for AVX2 and AVX-512).
int word_bits(Isa isa);

struct EngineOptions {
  Isa isa = Isa::kBest;
  int threads = 1;  // workers over chunks of one word of images; the caller is one of them
  // AVX-512 and AVX2: generate machine code for each layer's LUTs and adders (falls back to the
  // generic kernel per layer when a layer does not fit the generator). False: generic kernel only.
  bool generate_code = true;
};

// Logic operations the plan issues per word of samples, by kind (loads, stores and transposes
// are not counted). Divide by word_bits for operations per image.
struct PlanOps {
  double lut = 0;         // mux tree nodes of the LUTs
  double popcount = 0;    // adder tree and counter operations
  double accumulate = 0;  // level weights: shifted adds of the level counts
  double threshold = 0;   // comparators, residual-sign muxes, complements
  double total() const { return lut + popcount + accumulate + threshold; }
};

class CompiledModel {
 public:
  // Validates the model (lutnet::Error on any defect) and builds the plan for options.isa; an ISA
  // this CPU lacks is an Error. Allocates all memory run() needs for options.threads workers.
  static CompiledModel compile(const Model& model, const EngineOptions& options = {});

  CompiledModel(CompiledModel&&) noexcept;
  CompiledModel& operator=(CompiledModel&&) noexcept;
  ~CompiledModel();

  // pixels: count images of num_pixels() bytes each. labels: count entries (first maximum of the
  // scores). scores: count * num_classes() accumulators (the reference's last-layer
  // accumulators), or nullptr. Thread-safe: concurrent calls are serialized on one mutex.
  void run(const uint8_t* pixels, size_t count, int32_t* labels, int64_t* scores) const;

  const char* isa_name() const;
  Isa isa() const;
  // Layers whose LUT stage runs generated code, and the size of that code in bytes.
  int generated_layers() const;
  size_t generated_code_bytes() const;
  int threads() const;
  int word_bits() const;  // images per word
  int num_pixels() const;
  int num_classes() const;
  // Logic word operations of one word of images; per image: word_ops_per_image().
  const PlanOps& plan_ops() const;
  double word_ops_per_image() const;

  // The plan and its memory, built by compile's passes (engine.cpp); opaque to callers.
  struct Impl;

 private:
  explicit CompiledModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Measured peak of simple register-only logic operations (12 independent XOR or vpternlogq per
// loop iteration) on words of the ISA's width, summed over `threads` threads running at once (on
// hyperthreads of one core the sum stays near the one-thread rate), for `lutnet bench`.
struct PeakRate {
  double word_ops_per_second = 0;
  int word_bits = 0;
};
PeakRate measure_peak_word_ops(Isa isa, double seconds = 0.2, int threads = 1);

// Per-layer facts for `lutnet eval` (computed from the model, independent of the ISA).
struct LayerStats {
  LayerKind kind = LayerKind::kLutDense;
  int inputs = 0;  // input positions (per level); for conv: window positions
  int input_levels = 0;
  int outputs = 0;     // dense: neurons; conv: output channels; pool: output bits per level
  int64_t pixels = 1;  // conv: output pixels the LUT array runs for
  int k = 0;
  size_t connections = 0;    // kept connections = LUTs per level
  double fraction_kept = 0;  // connections / (inputs * outputs)
  size_t distinct_inputs_read = 0;
  // Tables (connections x levels) whose function does not depend on input position k.
  std::vector<size_t> tables_ignoring_input;
  size_t tables_ignoring_some = 0;  // tables ignoring at least one input position
  size_t tables = 0;                // connections x levels
};
std::vector<LayerStats> layer_stats(const Model& model);

// Transposes a 64x64 bit matrix with the given ISA's kernel (bit j of a[i] -> bit i of a[j]).
void transpose64_for_test(Isa isa, uint64_t* a);

}  // namespace lutnet::engine
