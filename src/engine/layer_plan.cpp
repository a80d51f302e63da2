#include "engine/layer_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <limits>

#include "core/error.hpp"
#include "core/lut_function.hpp"
#include "engine/leaf_order.hpp"

namespace lutnet::engine::detail {

int plane_class(uint32_t acc_bits) {
  return acc_bits < 8 ? 8 : acc_bits < 16 ? 16 : acc_bits < 32 ? 32 : 64;
}

OpCosts op_costs(Isa isa) {
  if (isa == Isa::kAvx512) return {1, 1, 1, 1, 1, 1, 1};
  return {3, 2, 4, 1, 1, 1, 4};
}

namespace {

// The largest popcount of one (output, level) and the largest accumulator of the layer.
struct CountRange {
  uint64_t max_count = 0;
  uint64_t max_acc = 0;
};

// Reduces every LUT; per (level, output) emits its records sorted by effective inputs, then its
// header (plan.hpp). Adds the mux operations to ops.
CountRange emit_records(const Layer& layer, int word_bits, const OpCosts& cost, bool wide,
                        LayerData& out, PlanOps& ops) {
  const uint32_t n_in = static_cast<uint32_t>(layer.num_inputs);
  const uint32_t levels = static_cast<uint32_t>(layer.input_levels);
  const uint64_t unit = static_cast<uint64_t>(word_bits) / 64;
  auto plane = [&](uint32_t level, uint32_t input, bool complement) -> uint64_t {
    return 2 + static_cast<uint64_t>(level) * 2 * n_in + (complement ? n_in : 0) + input;
  };
  // Offsets of the current record, packed 4 (or 2) per qword; each record starts a qword.
  const int per_qword = wide ? 2 : 4;
  int field = 0;
  auto emit = [&](uint64_t p) {
    if (field == 0) out.records.push_back(0);
    out.records.back() |= (p * unit) << ((wide ? 32 : 16) * field);
    field = (field + 1) % per_qword;
  };
  CountRange range;
  std::vector<ReducedLut> reduced;
  std::vector<uint64_t> acc_max(static_cast<size_t>(layer.num_outputs), 0);
  for (uint32_t l = 0; l < levels; ++l) {
    for (int o = 0; o < layer.num_outputs; ++o) {
      uint32_t header[kHeaderWords] = {};
      reduced.clear();
      for (uint32_t c = layer.conn_offset[o]; c < layer.conn_offset[o + 1]; ++c) {
        const ReducedLut r = best_leaf_order(reduce_lut(
            {&layer.lut_inputs[static_cast<size_t>(c) * layer.k], static_cast<size_t>(layer.k)},
            layer.tables[static_cast<size_t>(c) * levels + l]));
        if (r.num_inputs == 0) {
          header[0] += static_cast<uint32_t>(r.table & 1u);
        } else {
          ++header[r.num_inputs];
          reduced.push_back(r);
        }
      }
      std::stable_sort(
          reduced.begin(), reduced.end(),
          [](const ReducedLut& a, const ReducedLut& b) { return a.num_inputs < b.num_inputs; });
      for (const ReducedLut& r : reduced) {
        const int leaves = 1 << (r.num_inputs - 1);
        for (int j = 0; j < leaves; ++j) {
          const unsigned pair = static_cast<unsigned>((r.table >> (2 * j)) & 3u);  // (f0, f1)
          // Constant leaves read the zeros or ones plane; f0 = 1, f1 = 0 reads ~x0.
          emit(pair == 0 ? 0 : pair == 3 ? 1 : plane(l, r.inputs[0], pair == 1));
        }
        for (int i = 1; i < r.num_inputs; ++i) emit(plane(l, r.inputs[i], false));
        field = 0;
        ops.lut += cost.mux * (leaves - 1);
      }
      out.headers.insert(out.headers.end(), header, header + kHeaderWords);
      uint64_t count = 0;
      for (int ke = 0; ke <= kMaxEffectiveInputs; ++ke) count += header[ke];
      range.max_count = std::max(range.max_count, count);
      acc_max[static_cast<size_t>(o)] += count * static_cast<uint64_t>(layer.level_weights[l]);
    }
  }
  for (uint64_t a : acc_max) range.max_acc = std::max(range.max_acc, a);
  return range;
}

// Thresholds as unsigned compares (accumulator_compare), the constant clamped to [0, 2^B] where
// acc < 2^B.
void build_compares(const Layer& layer, LayerData& out) {
  const LayerPlan& p = out.plan;
  const int64_t limit = int64_t{1} << p.acc_bits;
  for (int o = 0; o < layer.num_outputs && p.out_levels > 0; ++o) {
    out.invert.push_back(layer.output_sign[o] < 0 ? 1 : 0);
    for (uint32_t t = 0; t < p.thresholds_per_output; ++t) {
      const int64_t threshold = std::clamp<int64_t>(
          layer.thresholds[static_cast<size_t>(o) * p.thresholds_per_output + t],
          -(int64_t{1} << 61), int64_t{1} << 61);
      const AccumulatorCompare c = accumulator_compare(layer.output_sign[o], threshold);
      out.compare.push_back(static_cast<uint64_t>(std::clamp<int64_t>(c.at_least, 0, limit)));
    }
  }
}

// Operation counts of the generic kernel (kernels_impl.inc) for one word of samples, beyond the
// muxes: popcounts, level weights, comparators and residual-sign muxes.
void count_kernel_ops(const Layer& layer, const OpCosts& cost, const LayerData& out, PlanOps& ops) {
  const LayerPlan& p = out.plan;
  const int n = plane_class(p.acc_bits);
  const double fa = cost.xor3 + cost.maj;
  const double inc = (cost.and_ + cost.xor_) * (n - 4);
  for (size_t h = 0; h < out.headers.size(); h += kHeaderWords) {
    uint64_t count = 0;
    for (int i = 0; i < kHeaderWords; ++i) count += out.headers[h + i];
    const uint64_t padded = (count + 3) / 4 * 4;
    ops.popcount += static_cast<double>(padded / 16) * (15 * fa + inc);
    if (padded % 16 >= 8) ops.popcount += 7 * fa + cost.and_ + cost.xor_ + inc;
    if (padded % 8 >= 4) ops.popcount += 3 * fa + 2 * (cost.and_ + cost.xor_) + inc;
    const uint32_t w = out.level_weights[h / kHeaderWords / layer.num_outputs];
    for (int s = 0; s < n; ++s)
      if ((w >> s) & 1u) ops.accumulate += fa * (n - s);
  }
  if (p.out_levels > 0) {
    double per_output = p.thresholds_per_output * ((p.acc_bits + 1) * cost.ge + cost.xor_);
    for (uint32_t b = 0; b < p.out_levels; ++b)
      per_output += cost.mux * ((1u << b) - 1) + cost.not_;
    ops.threshold += per_output * layer.num_outputs;
  }
}

}  // namespace

void build_lut_array(const Layer& layer, int word_bits, const OpCosts& cost, LayerData& out,
                     PlanOps& ops, size_t& max_scratch) {
  const uint32_t n_in = static_cast<uint32_t>(layer.num_inputs);
  const uint32_t levels = static_cast<uint32_t>(layer.input_levels);
  const uint64_t unit = static_cast<uint64_t>(word_bits) / 64;
  const uint64_t n_planes = 2 + 2 * static_cast<uint64_t>(levels) * n_in;
  const bool wide = n_planes * unit > std::numeric_limits<uint16_t>::max();
  if (n_planes * unit > std::numeric_limits<uint32_t>::max())
    throw Error(
        fmt::format("layer with {} inputs x {} levels is too large for the engine", n_in, levels));
  const CountRange range = emit_records(layer, word_bits, cost, wide, out, ops);
  max_scratch = std::max<size_t>(max_scratch, (range.max_count + 7) / 8 * 8);

  LayerPlan& p = out.plan;
  p.num_outputs = static_cast<uint32_t>(layer.num_outputs);
  p.num_levels = levels;
  p.out_levels =
      layer.output == LayerOutput::kArgmax ? 0u : static_cast<uint32_t>(layer.output_levels);
  p.acc_bits = static_cast<uint32_t>(std::max(1, static_cast<int>(std::bit_width(range.max_acc))));
  p.count_bits =
      static_cast<uint32_t>(std::max(4, static_cast<int>(std::bit_width(range.max_count))));
  p.thresholds_per_output = static_cast<uint32_t>(layer.thresholds_per_output());
  for (int64_t w : layer.level_weights) out.level_weights.push_back(static_cast<uint32_t>(w));
  build_compares(layer, out);
  count_kernel_ops(layer, cost, out, ops);

  p.headers = out.headers.data();
  p.wide_indices = wide;
  p.records = out.records.data();
  p.level_weights = out.level_weights.data();
  p.compare = out.compare.data();
  p.invert = out.invert.data();
}

size_t planes_of(const ActivationShape& shape) {
  return 2 + 2 * static_cast<size_t>(shape.levels) * static_cast<size_t>(shape.plane_bits());
}

double pixels_of(const LayerPlan& p) {
  return p.kind == kDenseStep ? 1.0 : static_cast<double>(p.window.out_height) * p.window.out_width;
}

void build_window(const Layer& layer, const ActivationShape& in, const ActivationShape& out,
                  LayerData& data, PlanOps& ops) {
  WindowPlan& g = data.plan.window;
  g.in_plane_bits = static_cast<uint32_t>(in.plane_bits());
  g.out_plane_bits = static_cast<uint32_t>(out.plane_bits());
  g.levels = static_cast<uint32_t>(in.levels);
  g.channels = static_cast<uint32_t>(in.channels);
  g.in_height = static_cast<uint32_t>(in.height);
  g.in_width = static_cast<uint32_t>(in.width);
  g.group = static_cast<uint32_t>(in.group);
  g.stride = static_cast<uint32_t>(layer.stride);
  g.kernel_h = static_cast<uint32_t>(layer.kernel_h);
  g.kernel_w = static_cast<uint32_t>(layer.kernel_w);
  g.out_height = static_cast<uint32_t>(out.height);
  g.out_width = static_cast<uint32_t>(out.width);
  const double pixels = static_cast<double>(out.height) * out.width;
  if (layer.kind == LayerKind::kMaxPool) {
    data.plan.kind = kPoolStep;
    // Per window element after the first: 3 ops for the order, 2 per level for the update.
    ops.threshold +=
        pixels * in.channels * (layer.kernel_h * layer.kernel_w - 1) * (3.0 * in.levels + 1);
    return;
  }
  data.plan.kind = kConvStep;
  g.window_size = static_cast<uint32_t>(layer.num_inputs);
  for (int c = 0; c < in.channels; ++c)
    for (int ky = 0; ky < layer.kernel_h; ++ky)
      for (int kx = 0; kx < layer.kernel_w; ++kx)
        data.window_base.push_back(static_cast<uint32_t>(in.index(c, ky, kx)));
  g.window_base = data.window_base.data();
  g.buffer_words =
      static_cast<uint32_t>(std::max(planes_of({in.levels, layer.num_inputs, 1, 1, 1}),
                                     planes_of({out.levels, layer.num_outputs, 1, 1, 1})));
  ops.lut *= pixels;
  ops.popcount *= pixels;
  ops.accumulate *= pixels;
  ops.threshold *= pixels;
}

}  // namespace lutnet::engine::detail
