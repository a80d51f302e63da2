#include "core/reference_evaluator.hpp"

#include "core/input_encoding.hpp"

namespace lutnet {

LayerTrace evaluate_layer(const LutDenseLayer& layer, const uint8_t* input_bits) {
  LayerTrace out;
  out.accumulators.assign(layer.num_outputs, 0);
  for (int o = 0; o < layer.num_outputs; ++o) {
    int64_t acc = 0;
    for (int l = 0; l < layer.input_levels; ++l) {
      const uint8_t* plane = input_bits + static_cast<size_t>(l) * layer.num_inputs;
      int64_t popcount = 0;
      for (uint32_t c = layer.conn_offset[o]; c < layer.conn_offset[o + 1]; ++c) {
        unsigned address = 0;
        for (int i = 0; i < layer.k; ++i)
          address |= static_cast<unsigned>(plane[layer.lut_inputs[c * layer.k + i]]) << i;
        popcount += (layer.tables[c * layer.input_levels + l] >> address) & 1;
      }
      acc += layer.level_weights[l] * popcount;
    }
    out.accumulators[o] = acc;
  }
  if (layer.output == LayerOutput::kResidualSign) {
    const int per_output = layer.thresholds_per_output();
    out.output_bits.assign(static_cast<size_t>(layer.output_levels) * layer.num_outputs, 0);
    for (int o = 0; o < layer.num_outputs; ++o) {
      const int64_t* t = &layer.thresholds[static_cast<size_t>(o) * per_output];
      unsigned prefix = 0;
      for (int b = 0; b < layer.output_levels; ++b) {
        const bool bit = residual_sign_bit(t, layer.output_sign[o], out.accumulators[o], b, prefix);
        out.output_bits[static_cast<size_t>(b) * layer.num_outputs + o] = bit;
        prefix = (prefix << 1) | static_cast<unsigned>(bit);
      }
    }
  }
  return out;
}

int argmax(const std::vector<int64_t>& scores) {
  int best = 0;
  for (size_t i = 1; i < scores.size(); ++i)
    if (scores[i] > scores[best]) best = static_cast<int>(i);
  return best;
}

double reference_accuracy(const Model& model, const uint8_t* pixels, const uint8_t* labels,
                          size_t count) {
  const size_t image_size = static_cast<size_t>(model.input.num_pixels());
  size_t correct = 0;
  for (size_t i = 0; i < count; ++i)
    correct += evaluate_reference(model, pixels + i * image_size).label == labels[i];
  return count ? static_cast<double>(correct) / static_cast<double>(count) : 0;
}

Prediction evaluate_reference(const Model& model, const uint8_t* pixels,
                              std::vector<LayerTrace>* trace) {
  std::vector<uint8_t> bits(model.input.num_bits());
  encode_input(model.input, pixels, bits.data());
  Prediction prediction;
  for (const auto& layer : model.layers) {
    LayerTrace step = evaluate_layer(layer, bits.data());
    if (layer.output == LayerOutput::kArgmax) prediction.scores = step.accumulators;
    bits = step.output_bits;
    if (trace) trace->push_back(std::move(step));
  }
  prediction.label = argmax(prediction.scores);
  return prediction;
}

}  // namespace lutnet
