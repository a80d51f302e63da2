#include "hdl/bit_heap.hpp"

#include <algorithm>
#include <bit>

#include "core/error.hpp"
#include "core/lut_function.hpp"

namespace lutnet::hdl {

const char* popcount_style_name(PopcountStyle style) {
  switch (style) {
    case PopcountStyle::kCompressorTree:
      return "tree";
    case PopcountStyle::kCompressorGates:
      return "gates";
    case PopcountStyle::kFlatSum:
      return "flat";
  }
  return "?";
}

PopcountStyle parse_popcount_style(const std::string& name) {
  for (auto style :
       {PopcountStyle::kCompressorTree, PopcountStyle::kCompressorGates, PopcountStyle::kFlatSum})
    if (name == popcount_style_name(style)) return style;
  throw Error("popcount style '" + name + "' is not one of tree, gates, flat");
}

int bit_width(int64_t value) {
  int w = 0;
  while (value > 0) {
    ++w;
    value >>= 1;
  }
  return w;
}

void BitHeap::add(Net bit, int column) {
  if (bit == kConst0) return;
  if (static_cast<int>(columns.size()) <= column) columns.resize(column + 1);
  columns[column].push_back(bit);
}

void BitHeap::add_weighted(Net bit, int64_t weight) {
  for (int c = 0; weight > 0; ++c, weight >>= 1)
    if (weight & 1) add(bit, c);
}

int64_t BitHeap::num_bits() const {
  int64_t n = 0;
  for (const auto& column : columns) n += static_cast<int64_t>(column.size());
  return n;
}

int64_t BitHeap::max_value() const {
  int64_t total = 0;
  for (size_t c = 0; c < columns.size(); ++c) total += static_cast<int64_t>(columns[c].size()) << c;
  return total;
}

namespace {

std::vector<int> heights_of(const std::vector<std::vector<Net>>& columns) {
  std::vector<int> h;
  for (const auto& column : columns) h.push_back(static_cast<int>(column.size()));
  return h;
}

int max_height(const std::vector<int>& heights) {
  return heights.empty() ? 0 : *std::max_element(heights.begin(), heights.end());
}

int outputs_of(const Counter& counter) { return bit_width(counter.n0 + 2 * counter.n1); }

// A counter as full and half adders. The synthesis tool maps each output (a function of at most
// six inputs) to one LUT; the adder form only keeps the Verilog readable and small.
std::vector<Net> build_counter(Netlist& nl, std::vector<Net> col0, std::vector<Net> col1) {
  std::vector<std::vector<Net>> cols = {std::move(col0), std::move(col1)};
  std::vector<Net> out;
  for (size_t c = 0; c < cols.size(); ++c) {
    std::vector<Net> bits = cols[c];
    std::vector<Net> carries;
    while (bits.size() >= 3) {
      const Net a = bits[0], b = bits[1], d = bits[2];
      bits.erase(bits.begin(), bits.begin() + 3);
      bits.push_back(nl.xor3(a, b, d));
      carries.push_back(nl.maj3(a, b, d));
    }
    if (bits.size() == 2) {
      carries.push_back(nl.and2(bits[0], bits[1]));
      bits = {nl.xor2(bits[0], bits[1])};
    }
    if (!carries.empty()) {
      if (cols.size() <= c + 1) cols.emplace_back();
      for (Net carry : carries) cols[c + 1].push_back(carry);
    }
    out.push_back(bits.empty() ? kConst0 : bits[0]);
  }
  return out;
}

// A counter with one explicit table per output bit (at most six inputs each), so that a LUT
// primitive or the synthesis tool's mapper has nothing left to choose.
std::vector<Net> build_counter_tables(Netlist& nl, const std::vector<Net>& col0,
                                      const std::vector<Net>& col1, int outputs) {
  std::vector<Net> inputs = col0;
  inputs.insert(inputs.end(), col1.begin(), col1.end());
  const unsigned n0 = static_cast<unsigned>(col0.size());
  std::vector<Net> out;
  for (int j = 0; j < outputs; ++j) {
    uint64_t table = 0;
    for (unsigned a = 0; a < (1u << inputs.size()); ++a) {
      const unsigned value =
          static_cast<unsigned>(std::popcount(a & ((1u << n0) - 1)) + 2 * std::popcount(a >> n0));
      table |= static_cast<uint64_t>((value >> j) & 1) << a;
    }
    out.push_back(table_function(nl, inputs, table));
  }
  return out;
}

}  // namespace

Net table_function(Netlist& nl, const std::vector<Net>& inputs, uint64_t table) {
  // Constants select half of the table; what is left goes through reduce_lut.
  std::vector<uint32_t> vars;
  for (size_t i = 0, at = 0; i < inputs.size(); ++i) {
    if (inputs[i] == kConst0 || inputs[i] == kConst1) {
      const unsigned bit = inputs[i] == kConst1;
      uint64_t reduced = 0;
      for (unsigned a = 0; a < (1u << (inputs.size() - 1)); ++a) {
        const unsigned low = a & ((1u << at) - 1);
        reduced |= ((table >> (low | (bit << at) | ((a >> at) << (at + 1)))) & 1) << a;
      }
      table = reduced;
      continue;
    }
    vars.push_back(static_cast<uint32_t>(inputs[i]));
    ++at;
  }
  const ReducedLut r = reduce_lut(vars, table);
  switch (r.kind) {
    case ReducedLut::Kind::kConst:
      return nl.constant(r.table & 1);
    case ReducedLut::Kind::kWire:
      return static_cast<Net>(r.inputs[0]);
    case ReducedLut::Kind::kInverter:
      return nl.not_(static_cast<Net>(r.inputs[0]));
    case ReducedLut::Kind::kLut:
      break;
  }
  std::vector<Net> nets;
  for (uint32_t v : r.input_list()) nets.push_back(static_cast<Net>(v));
  return nl.lut(nets, r.table);
}

std::vector<Counter> plan_stage(const std::vector<int>& heights) {
  std::vector<int> left = heights;
  left.push_back(0);
  std::vector<Counter> plan;
  for (size_t c = 0; c + 1 < left.size(); ++c) {
    while (left[c] >= 3) {
      const int h = left[c];
      const int next = left[c + 1];
      Counter counter{static_cast<int>(c), 0, 0};
      // Prefer counters that remove as many bits per LUT as a 6:3 counter (3 bits for 3 LUTs):
      // (6;3) and (1,5;3); then 2-for-3 shapes; a full adder (1 for 2) only as the last resort.
      if (h >= 6) {
        counter.n0 = 6;
      } else if (h == 5) {
        counter.n0 = 5;
        counter.n1 = next >= 1 ? 1 : 0;
      } else if (h == 4) {
        counter.n0 = next >= 1 ? 4 : 3;
        counter.n1 = next >= 1 ? 1 : 0;
      } else {
        counter.n0 = 3;
        counter.n1 = next >= 2 ? 2 : 0;
      }
      left[c] -= counter.n0;
      left[c + 1] -= counter.n1;
      plan.push_back(counter);
    }
  }
  return plan;
}

namespace {

using Columns = std::vector<std::vector<Net>>;

// One counter stage over the columns; bits at or above `width` are dropped (always 0).
Columns compress_stage(Netlist& nl, const Columns& cols, PopcountStyle style, int width) {
  const std::vector<int> heights = heights_of(cols);
  const std::vector<Counter> plan = plan_stage(heights);
  Columns next(cols.size() + 3);
  std::vector<size_t> taken(cols.size() + 1, 0);
  auto take = [&](int column, int n) {
    std::vector<Net> bits;
    for (int i = 0; i < n; ++i) bits.push_back(cols[column][taken[column]++]);
    return bits;
  };
  for (const auto& counter : plan) {
    std::vector<Net> c0 = take(counter.column, counter.n0);
    std::vector<Net> c1 = take(counter.column + 1, counter.n1);
    std::vector<Net> out = style == PopcountStyle::kCompressorGates
                               ? build_counter(nl, std::move(c0), std::move(c1))
                               : build_counter_tables(nl, c0, c1, outputs_of(counter));
    for (int j = 0; j < outputs_of(counter) && j < static_cast<int>(out.size()); ++j)
      next[counter.column + j].push_back(out[j]);
  }
  for (size_t c = 0; c < cols.size(); ++c)
    for (size_t i = taken[c]; i < cols[c].size(); ++i) next[c].push_back(cols[c][i]);
  next.resize(static_cast<size_t>(width));
  for (auto& column : next)
    column.erase(std::remove(column.begin(), column.end(), kConst0), column.end());
  if (heights_of(next) == heights) throw Error("internal: compressor stage made no progress");
  return next;
}

// Adds `cols` times `multiplier` into `main` (one copy per set bit of the multiplier).
void add_scaled(Columns& main, const Columns& cols, int64_t multiplier) {
  for (int shift = 0; multiplier > 0; ++shift, multiplier >>= 1) {
    if (!(multiplier & 1)) continue;
    for (size_t c = 0; c < cols.size(); ++c)
      for (Net b : cols[c])
        if (c + shift < main.size()) main[c + shift].push_back(b);
  }
}

}  // namespace

std::vector<Net> sum_heaps(Netlist& nl, const std::vector<ScaledHeap>& heaps, PopcountStyle style,
                           const HeapPipeline& pipeline, int* stages_used) {
  int64_t total = 0;
  for (const auto& h : heaps) total += h.multiplier * h.heap.max_value();
  const int width = bit_width(total);
  if (stages_used) *stages_used = 0;
  if (width == 0) return {};
  auto registered_at = [&](int position) {
    return std::find(pipeline.register_after.begin(), pipeline.register_after.end(), position) !=
           pipeline.register_after.end();
  };
  auto register_all = [&](Columns& cols) {
    for (auto& column : cols)
      for (Net& b : column) b = nl.reg(b);
  };

  Columns main(static_cast<size_t>(width));
  if (style == PopcountStyle::kFlatSum) {
    for (const auto& h : heaps) add_scaled(main, h.heap.columns, h.multiplier);
    std::vector<SumTerm> terms;
    for (int c = 0; c < width; ++c)
      for (Net b : main[c]) terms.push_back({{b}, c});
    Columns result = {nl.sum(std::move(terms), width)};
    for (int position = 1; position <= pipeline.stages + 1; ++position)
      if (registered_at(position)) register_all(result);
    return result[0];
  }

  // A multiplier with several set bits would copy every bit of its heap that many times; when
  // that costs more than compressing the heap on its own first, it gets its own tree whose two
  // remaining rows are then copied instead (3 * pc costs n + 4 log n bits, not 2n).
  struct Pending {
    Columns cols;
    int64_t multiplier;
    int width;
  };
  std::vector<Pending> pending;
  for (const auto& h : heaps) {
    const int copies = std::popcount(static_cast<uint64_t>(h.multiplier));
    const int64_t bits = h.heap.num_bits();
    const int sub_width = bit_width(h.heap.max_value());
    if (copies >= 2 && bits * (copies - 1) > 2 * sub_width * copies) {
      Columns cols = h.heap.columns;
      cols.resize(static_cast<size_t>(sub_width));
      pending.push_back({std::move(cols), h.multiplier, sub_width});
    } else {
      add_scaled(main, h.heap.columns, h.multiplier);
    }
  }
  auto merge_finished = [&] {
    for (size_t i = 0; i < pending.size();) {
      if (max_height(heights_of(pending[i].cols)) > 2) {
        ++i;
        continue;
      }
      add_scaled(main, pending[i].cols, pending[i].multiplier);
      pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
    }
  };
  merge_finished();
  int stage = 1;
  for (; stage <= pipeline.stages || !pending.empty() || max_height(heights_of(main)) > 2;
       ++stage) {
    for (auto& p : pending)
      if (max_height(heights_of(p.cols)) > 2) p.cols = compress_stage(nl, p.cols, style, p.width);
    if (max_height(heights_of(main)) > 2) main = compress_stage(nl, main, style, width);
    merge_finished();
    if (stage <= pipeline.stages && registered_at(stage)) {
      register_all(main);
      for (auto& p : pending) register_all(p.cols);
    }
  }
  if (stages_used) *stages_used = stage - 1;

  std::vector<Net> row0(static_cast<size_t>(width), kConst0);
  std::vector<Net> row1(static_cast<size_t>(width), kConst0);
  bool two_rows = false;
  for (int c = 0; c < width; ++c) {
    if (!main[c].empty()) row0[c] = main[c][0];
    if (main[c].size() > 1) {
      row1[c] = main[c][1];
      two_rows = true;
    }
  }
  Columns result = {two_rows ? nl.sum({{row0, 0}, {row1, 0}}, width) : row0};
  if (registered_at(pipeline.stages + 1)) register_all(result);
  return result[0];
}

std::vector<Net> sum_heap(Netlist& nl, const BitHeap& heap, PopcountStyle style,
                          const HeapPipeline& pipeline) {
  return sum_heaps(nl, {{heap, 1}}, style, pipeline);
}

int compression_stages(const std::vector<ScaledHeap>& heaps, PopcountStyle style) {
  if (style == PopcountStyle::kFlatSum) return 0;
  // Build the same tree once in a scratch netlist, with stand-in inputs for the bits.
  Netlist scratch;
  int64_t n = 0;
  for (const auto& h : heaps) n += h.heap.num_bits();
  const int port = scratch.add_input("x", static_cast<int>(std::max<int64_t>(n, 1)));
  std::vector<ScaledHeap> copy = heaps;
  int next = 0;
  for (auto& h : copy)
    for (auto& column : h.heap.columns)
      for (Net& b : column)
        if (b != kConst0 && b != kConst1) b = scratch.input(port, next++);
  int stages = 0;
  sum_heaps(scratch, copy, style, {}, &stages);
  return stages;
}

int compression_stages(const BitHeap& heap) {
  return compression_stages({{heap, 1}}, PopcountStyle::kCompressorTree);
}

}  // namespace lutnet::hdl
