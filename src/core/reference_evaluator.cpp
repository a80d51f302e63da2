#include "core/reference_evaluator.hpp"

#include "core/input_encoding.hpp"

namespace lutnet {

LayerTrace evaluate_lut_array(const Layer& layer, const uint8_t* input_bits) {
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

void max_code(uint8_t* best, const uint8_t* candidate, int levels) {
  for (int l = 0; l < levels; ++l) {
    if (candidate[l] == best[l]) continue;
    if (candidate[l] > best[l])
      for (int j = l; j < levels; ++j) best[j] = candidate[j];
    return;
  }
}

LayerTrace evaluate_layer(const Layer& layer, const ActivationShape& in,
                          const uint8_t* input_bits) {
  if (layer.kind == LayerKind::kLutDense) return evaluate_lut_array(layer, input_bits);
  const ActivationShape out = layer_output_shape(layer, in);
  const int64_t in_plane = in.plane_bits();
  const int64_t out_plane = out.plane_bits();
  LayerTrace trace;
  trace.output_bits.assign(static_cast<size_t>(out.levels * out_plane), 0);
  if (layer.kind == LayerKind::kMaxPool) {
    std::vector<uint8_t> best(static_cast<size_t>(in.levels)), code(best.size());
    for (int c = 0; c < out.channels; ++c)
      for (int y = 0; y < out.height; ++y)
        for (int x = 0; x < out.width; ++x) {
          for (int dy = 0; dy < layer.kernel_h; ++dy)
            for (int dx = 0; dx < layer.kernel_w; ++dx) {
              const int64_t at = in.index(c, y * layer.stride + dy, x * layer.stride + dx);
              for (int l = 0; l < in.levels; ++l) code[l] = input_bits[l * in_plane + at];
              if (dy == 0 && dx == 0)
                best = code;
              else
                max_code(best.data(), code.data(), in.levels);
            }
          for (int l = 0; l < in.levels; ++l)
            trace.output_bits[l * out_plane + out.index(c, y, x)] = best[l];
        }
    return trace;
  }
  // lut_conv2d: gather each output pixel's window, window position (c * kh + ky) * kw + kx.
  const int window = layer.num_inputs;
  std::vector<uint8_t> window_bits(static_cast<size_t>(in.levels) * window);
  const int64_t pixels = int64_t{out.height} * out.width;
  trace.accumulators.assign(static_cast<size_t>(layer.num_outputs * pixels), 0);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x) {
      for (int c = 0; c < in.channels; ++c)
        for (int ky = 0; ky < layer.kernel_h; ++ky)
          for (int kx = 0; kx < layer.kernel_w; ++kx) {
            const int64_t at = in.index(c, y * layer.stride + ky, x * layer.stride + kx);
            const int w = (c * layer.kernel_h + ky) * layer.kernel_w + kx;
            for (int l = 0; l < in.levels; ++l)
              window_bits[static_cast<size_t>(l) * window + w] = input_bits[l * in_plane + at];
          }
      const LayerTrace at_pixel = evaluate_lut_array(layer, window_bits.data());
      for (int o = 0; o < layer.num_outputs; ++o) {
        const int64_t position = out.index(o, y, x);
        trace.accumulators[position] = at_pixel.accumulators[o];
        for (int l = 0; l < out.levels; ++l)
          trace.output_bits[l * out_plane + position] =
              at_pixel.output_bits[static_cast<size_t>(l) * layer.num_outputs + o];
      }
    }
  return trace;
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
  ActivationShape shape = input_activation_shape(model.input);
  for (const auto& layer : model.layers) {
    LayerTrace step = evaluate_layer(layer, shape, bits.data());
    shape = layer_output_shape(layer, shape);
    if (layer.has_luts() && layer.output == LayerOutput::kArgmax)
      prediction.scores = step.accumulators;
    bits = step.output_bits;
    if (trace) trace->push_back(std::move(step));
  }
  prediction.label = argmax(prediction.scores);
  return prediction;
}

}  // namespace lutnet
