#include "core/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>

#include "core/error.hpp"
#include "core/tiling.hpp"

namespace lutnet {

int InputEncoding::num_pixels() const {
  // Saturate instead of overflowing: validate() relies on this to reject absurd shapes.
  int64_t n = 1;
  for (int d : shape) {
    n *= std::max(d, 0);
    if (n > INT_MAX) return INT_MAX;
  }
  return static_cast<int>(n);
}

namespace {

void check(bool ok, const std::string& where, const std::string& what) {
  if (!ok) throw Error(where + ": " + what);
}

// The LUT array of a dense or conv layer.
void validate_luts(const Layer& layer, const std::string& where, int64_t expected_inputs,
                   int expected_levels, bool is_last) {
  check(layer.num_inputs == expected_inputs, where,
        fmt::format("num_inputs = {} but the previous stage produces {}", layer.num_inputs,
                    expected_inputs));
  check(layer.input_levels == expected_levels, where,
        fmt::format("input_levels = {} but the previous stage produces {}", layer.input_levels,
                    expected_levels));
  check(layer.k >= 1 && layer.k <= kMaxLutInputs, where,
        fmt::format("k = {} is out of range 1..{}", layer.k, kMaxLutInputs));
  check(layer.num_outputs >= 1 && layer.num_outputs <= (1 << 24), where,
        fmt::format("num_outputs = {} is out of range", layer.num_outputs));
  if (is_last) {
    check(layer.output == LayerOutput::kArgmax, where, "the last layer must have output 'argmax'");
  } else {
    check(layer.output == LayerOutput::kResidualSign, where,
          "only the last layer may have output 'argmax'");
    check(layer.output_levels >= 1 && layer.output_levels <= kMaxLevels, where,
          fmt::format("output_levels = {} is out of range 1..{}", layer.output_levels, kMaxLevels));
  }
  check(layer.level_weights.size() == static_cast<size_t>(layer.input_levels), where,
        fmt::format("level_weights has {} entries, expected {}", layer.level_weights.size(),
                    layer.input_levels));
  for (int64_t w : layer.level_weights)
    check(w > 0 && w < (int64_t{1} << 20), where, fmt::format("level weight {} out of range", w));
  check(layer.conn_offset.size() == static_cast<size_t>(layer.num_outputs) + 1, where,
        fmt::format("conn_offset has {} entries, expected {}", layer.conn_offset.size(),
                    layer.num_outputs + 1));
  check(layer.conn_offset.front() == 0, where, "conn_offset must start at 0");
  for (size_t o = 0; o + 1 < layer.conn_offset.size(); ++o)
    check(layer.conn_offset[o] <= layer.conn_offset[o + 1], where,
          fmt::format("conn_offset decreases at output {}", o));
  const size_t conns = layer.num_connections();
  check(conns <= (size_t{1} << 28), where, "too many connections");
  check(layer.lut_inputs.size() == conns * layer.k, where,
        fmt::format("lut_inputs has {} entries, expected {} connections x k = {}",
                    layer.lut_inputs.size(), conns, conns * layer.k));
  for (size_t i = 0; i < layer.lut_inputs.size(); ++i)
    check(layer.lut_inputs[i] < static_cast<uint32_t>(layer.num_inputs), where,
          fmt::format("lut_inputs[{}] = {} >= num_inputs {}", i, layer.lut_inputs[i],
                      layer.num_inputs));
  check(layer.tables.size() == conns * layer.input_levels, where,
        fmt::format("tables has {} entries, expected {}", layer.tables.size(),
                    conns * layer.input_levels));
  for (size_t i = 0; i < layer.tables.size(); ++i)
    check((layer.tables[i] & ~layer.table_mask()) == 0, where,
          fmt::format("tables[{}] has bits above 2^k", i));
  if (layer.output == LayerOutput::kResidualSign) {
    check(layer.output_sign.size() == static_cast<size_t>(layer.num_outputs), where,
          "output_sign must have one entry per output");
    for (int8_t s : layer.output_sign)
      check(s == 1 || s == -1, where, "output_sign entries must be +1 or -1");
    check(layer.thresholds.size() ==
              static_cast<size_t>(layer.num_outputs) * layer.thresholds_per_output(),
          where,
          fmt::format("thresholds has {} entries, expected {}", layer.thresholds.size(),
                      static_cast<size_t>(layer.num_outputs) * layer.thresholds_per_output()));
  } else {
    check(layer.output_sign.empty() && layer.thresholds.empty(), where,
          "an argmax layer has no thresholds");
  }
}

ActivationShape checked_output_shape(const Layer& layer, const ActivationShape& in,
                                     const std::string& where) {
  if (layer.kind == LayerKind::kLutDense) return layer_output_shape(layer, in);
  const char* kind = layer_kind_name(layer.kind);
  check(layer.kernel_h >= 1 && layer.kernel_w >= 1 && layer.kernel_h <= 64 && layer.kernel_w <= 64,
        where,
        fmt::format("{} window {}x{} is out of range 1..64", kind, layer.kernel_h, layer.kernel_w));
  check(layer.stride >= 1 && layer.stride <= 64, where,
        fmt::format("{} stride {} is out of range 1..64", kind, layer.stride));
  check(layer.kernel_h <= in.height && layer.kernel_w <= in.width, where,
        fmt::format("{} window {}x{} is larger than its {}x{} input", kind, layer.kernel_h,
                    layer.kernel_w, in.height, in.width));
  if (layer.kind == LayerKind::kLutConv2d)
    check(layer.num_inputs == int64_t{in.channels} * layer.kernel_h * layer.kernel_w, where,
          fmt::format("the window has {} positions ({} input channels x {}x{}) but num_inputs = {}",
                      int64_t{in.channels} * layer.kernel_h * layer.kernel_w, in.channels,
                      layer.kernel_h, layer.kernel_w, layer.num_inputs));
  return layer_output_shape(layer, in);
}

}  // namespace

const char* layer_kind_name(LayerKind kind) {
  switch (kind) {
    case LayerKind::kLutDense:
      return "lut_dense";
    case LayerKind::kLutConv2d:
      return "lut_conv2d";
    case LayerKind::kMaxPool:
      return "max_pool";
  }
  return "?";
}

ActivationShape input_activation_shape(const InputEncoding& input) {
  const int t = static_cast<int>(std::max<size_t>(1, input.thresholds.size()));
  const auto& d = input.shape;
  if (d.size() == 3) return {1, d[0] * t, d[1], d[2], t};
  if (d.size() == 2) return {1, t, d[0], d[1], t};
  return {1, input.num_bits(), 1, 1, 1};
}

ActivationShape layer_output_shape(const Layer& layer, const ActivationShape& in) {
  switch (layer.kind) {
    case LayerKind::kLutDense:
      return {layer.output == LayerOutput::kArgmax ? 0 : layer.output_levels, layer.num_outputs, 1,
              1, 1};
    case LayerKind::kLutConv2d:
      return {layer.output_levels, layer.num_outputs,
              (in.height - layer.kernel_h) / layer.stride + 1,
              (in.width - layer.kernel_w) / layer.stride + 1, 1};
    case LayerKind::kMaxPool:
      return {in.levels, in.channels, (in.height - layer.kernel_h) / layer.stride + 1,
              (in.width - layer.kernel_w) / layer.stride + 1, in.group};
  }
  return in;
}

std::vector<ActivationShape> infer_shapes(const Model& model) {
  std::vector<ActivationShape> shapes{input_activation_shape(model.input)};
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const Layer& layer = model.layers[i];
    const std::string where = fmt::format("layer {} ({})", i, layer_kind_name(layer.kind));
    check(shapes.back().levels >= 1, where, "reads the output of an argmax layer");
    shapes.push_back(checked_output_shape(layer, shapes.back(), where));
    check(shapes.back().plane_bits() < (int64_t{1} << 28), where,
          fmt::format("its output has {} bits per level (at most 2^28 - 1)",
                      shapes.back().plane_bits()));
  }
  return shapes;
}

void validate(const Model& model) {
  check(!model.input.shape.empty(), "input", "shape is empty");
  for (int d : model.input.shape) check(d >= 1 && d <= 65536, "input", "shape entry out of range");
  check(model.input.num_pixels() < (1 << 25), "input", "too many pixels (at most 2^25 - 1)");
  check(!model.input.thresholds.empty() && model.input.thresholds.size() <= 8, "input",
        "encoding needs 1..8 thresholds");
  for (size_t j = 1; j < model.input.thresholds.size(); ++j)
    check(model.input.thresholds[j - 1] < model.input.thresholds[j], "input",
          "encoding thresholds must be strictly ascending");
  check(!model.layers.empty(), "model", "has no layers");
  const Layer& last = model.layers.back();
  check(last.kind == LayerKind::kLutDense,
        fmt::format("layer {} ({})", model.layers.size() - 1, layer_kind_name(last.kind)),
        "the last layer must be a lut_dense layer with output 'argmax'");
  for (size_t i = 0; i + 1 < model.layers.size(); ++i) {
    const Layer& layer = model.layers[i];
    if (layer.kind == LayerKind::kMaxPool) continue;
    // Only the end of the chain may produce class scores.
    check(layer.output == LayerOutput::kResidualSign,
          fmt::format("layer {} ({})", i, layer_kind_name(layer.kind)),
          "only the last layer may have output 'argmax'");
  }
  const std::vector<ActivationShape> shapes = infer_shapes(model);
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const Layer& layer = model.layers[i];
    if (!layer.has_luts()) continue;
    const int64_t inputs = layer.kind == LayerKind::kLutConv2d
                               ? int64_t{shapes[i].channels} * layer.kernel_h * layer.kernel_w
                               : shapes[i].plane_bits();
    validate_luts(layer, fmt::format("layer {}", i), inputs, shapes[i].levels,
                  i + 1 == model.layers.size());
    if (layer.tiling.enabled()) validate_tiling(layer, fmt::format("layer {}", i));
  }
  check(model.num_classes == last.num_outputs, "model",
        fmt::format("num_classes = {} but the last layer has {} outputs", model.num_classes,
                    last.num_outputs));
}

}  // namespace lutnet
