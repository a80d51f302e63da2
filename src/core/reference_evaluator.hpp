#pragma once
// The scalar reference evaluator: a direct, obviously correct reading of docs/model-format.md.
// Every faster view of a model (engine, RTL, training's hard forward) is tested against it.
#include <cstdint>
#include <vector>

#include "core/model.hpp"

namespace lutnet {

// What one layer computed for one image.
struct LayerTrace {
  // Per output (dense) or per (output channel, row, column) row-major (conv); empty for max_pool.
  std::vector<int64_t> accumulators;
  // The layer's output activation: output_levels planes, plane-major, each in the layer's
  // ActivationShape order (core/model.hpp); empty for the argmax layer.
  std::vector<uint8_t> output_bits;
};

struct Prediction {
  int label = 0;
  std::vector<int64_t> scores;  // the last layer's accumulators
};

// Runs the LUT array of a dense layer (or of a conv layer at one pixel) on input_levels planes of
// num_inputs bits (0/1), plane-major.
LayerTrace evaluate_lut_array(const Layer& layer, const uint8_t* input_bits);

// Runs one layer of any kind on its input activation of shape `in` (bits 0/1, plane-major).
LayerTrace evaluate_layer(const Layer& layer, const ActivationShape& in, const uint8_t* input_bits);

// Lexicographic maximum of residual-sign codes (bit 0 most significant), in place: `best` and
// `candidate` hold one code's `levels` bits.
void max_code(uint8_t* best, const uint8_t* candidate, int levels);

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
