#pragma once
// Helpers shared by the engine tests: the reference's and the engine's labels and scores for a
// batch, every ISA variant of this CPU, and a bit-for-bit comparison.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "core/reference_evaluator.hpp"
#include "engine/engine.hpp"

namespace lutnet::engine {

struct Outputs {
  std::vector<int32_t> labels;
  std::vector<int64_t> scores;
};

inline Outputs run_reference(const Model& model, const std::vector<uint8_t>& pixels, size_t count) {
  Outputs out;
  const size_t n = static_cast<size_t>(model.input.num_pixels());
  for (size_t i = 0; i < count; ++i) {
    const Prediction p = evaluate_reference(model, pixels.data() + i * n);
    out.labels.push_back(p.label);
    out.scores.insert(out.scores.end(), p.scores.begin(), p.scores.end());
  }
  return out;
}

// Whether the engine generates code for an ISA (docs/engine.md, "Generated code").
inline bool has_code_generator(Isa isa) { return isa == Isa::kAvx512 || isa == Isa::kAvx2; }

// An ISA, and for one with a code generator whether its LUT stage runs generated code.
struct Variant {
  Isa isa;
  bool generate_code;
  std::string name() const {
    return std::string(isa_name(isa)) +
           (has_code_generator(isa) ? (generate_code ? " generated" : " generic") : "");
  }
};

// Every ISA of this CPU; those with a code generator twice (generated code and the generic
// kernel).
inline std::vector<Variant> variants() {
  std::vector<Variant> out;
  for (Isa isa : available_isas()) {
    out.push_back({isa, true});
    if (has_code_generator(isa)) out.push_back({isa, false});
  }
  return out;
}

inline Outputs run_engine(const Model& model, const std::vector<uint8_t>& pixels, size_t count,
                          Variant variant, int threads = 1) {
  const CompiledModel compiled =
      CompiledModel::compile(model, {variant.isa, threads, variant.generate_code});
  Outputs out;
  out.labels.assign(count, -1);
  out.scores.assign(count * model.num_classes, -1);
  compiled.run(pixels.data(), count, out.labels.data(), out.scores.data());
  return out;
}

inline void expect_same(const Outputs& expected, const Outputs& actual, int num_classes) {
  ASSERT_EQ(expected.labels.size(), actual.labels.size());
  ASSERT_EQ(expected.scores.size(), actual.scores.size());
  for (size_t i = 0; i < expected.labels.size(); ++i) {
    for (int c = 0; c < num_classes; ++c) {
      const size_t at = i * num_classes + c;
      ASSERT_EQ(expected.scores[at], actual.scores[at]) << "image " << i << " class " << c;
    }
    ASSERT_EQ(expected.labels[i], actual.labels[i]) << "image " << i;
  }
}

}  // namespace lutnet::engine
