#pragma once
// The scalar reference evaluator: a direct, obviously correct reading of docs/model-format.md.
// Every faster view of a model (engine, RTL, training's hard forward) is tested against it.
#include <cstdint>
#include <vector>

#include "core/model.hpp"

namespace lutnet {

// What one layer computed for one image.
struct LayerTrace {
  std::vector<int64_t> accumulators;  // num_outputs
  std::vector<uint8_t> output_bits;   // output_levels planes of num_outputs bits, plane-major
};

struct Prediction {
  int label = 0;
  std::vector<int64_t> scores;  // the last layer's accumulators
};

// Runs one layer. `input_bits` holds input_levels planes of num_inputs bits (0/1), plane-major.
LayerTrace evaluate_layer(const LutDenseLayer& layer, const uint8_t* input_bits);

// Index of the first maximum.
int argmax(const std::vector<int64_t>& scores);

// Fraction of `count` images (consecutive, model.input.num_pixels() bytes each) whose predicted
// class equals their label.
double reference_accuracy(const Model& model, const uint8_t* pixels, const uint8_t* labels,
                          size_t count);

// Runs the whole model on one image of 8-bit pixels. When `trace` is given it receives one entry
// per layer.
Prediction evaluate_reference(const Model& model, const uint8_t* pixels,
                              std::vector<LayerTrace>* trace = nullptr);

}  // namespace lutnet
