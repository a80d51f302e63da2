#pragma once
// Weighted sums of bits (a popcount, or the level-weighted sum of several popcounts) as a
// compressor tree: stages of generalized parallel counters, each a 6-input function per output
// bit, reduce the bit heap to two rows; one carry-chain adder adds them. On 6-LUT FPGAs this
// costs about one LUT per input bit, against ~2.7 for a flat `a + b + c + ...` (DESIGN.md §6).
#include <cstdint>
#include <string>
#include <vector>

#include "hdl/netlist.hpp"

namespace lutnet::hdl {

enum class PopcountStyle {
  kCompressorTree,   // counters, one explicit table per output bit, into a final adder (default)
  kCompressorGates,  // the same counters written as full and half adders, mapped by the tool
  kFlatSum,          // one `+` of every bit: what a plain HDL description gives, for comparison
};

// "tree", "gates", "flat" and back; parse throws lutnet::Error naming the bad value.
const char* popcount_style_name(PopcountStyle style);
PopcountStyle parse_popcount_style(const std::string& name);

// Bits by column: a bit in column c weighs 2^c.
struct BitHeap {
  std::vector<std::vector<Net>> columns;

  void add(Net bit, int column);
  // Adds the bit once for every set bit of `weight` (> 0).
  void add_weighted(Net bit, int64_t weight);
  int64_t num_bits() const;
  // Upper bound of the sum (every bit 1).
  int64_t max_value() const;
};

// One counter of a stage: n0 bits of `column` and n1 bits of column + 1, summed into
// bit_width(n0 + 2 n1) bits starting at `column`.
struct Counter {
  int column = 0;
  int n0 = 0;
  int n1 = 0;
};

// The counters of one compression stage for a heap of these column heights.
std::vector<Counter> plan_stage(const std::vector<int>& heights);

// A heap whose value counts `multiplier` (> 0) times, e.g. the LUT outputs of one input level
// and its level weight.
struct ScaledHeap {
  BitHeap heap;
  int64_t multiplier = 1;
};

// Where pipeline registers go: after counter stage s (1 <= s <= stages) and, as position
// stages + 1, after the final adder. `stages` is the same for every neuron of a layer so that the
// neurons' registers line up; a heap that is already reduced just registers its rows.
struct HeapPipeline {
  int stages = 0;
  std::vector<int> register_after;  // ascending positions in 1..stages + 1
};

// Sums the heap; returns bit_width(max_value) result bits, LSB first.
std::vector<Net> sum_heap(Netlist& netlist, const BitHeap& heap, PopcountStyle style,
                          const HeapPipeline& pipeline = {});

// Sums sum_k multiplier_k * heap_k. A multiplier with one set bit shifts its heap into the main
// one; one with several set bits either copies its bits that many times or, when cheaper,
// compresses its heap on its own first (in the same stages) and copies the two remaining rows.
// `stages_used` receives the number of counter stages.
std::vector<Net> sum_heaps(Netlist& netlist, const std::vector<ScaledHeap>& heaps,
                           PopcountStyle style, const HeapPipeline& pipeline = {},
                           int* stages_used = nullptr);

// Number of counter stages sum_heaps needs for these heaps (0 for the flat sum).
int compression_stages(const std::vector<ScaledHeap>& heaps, PopcountStyle style);
int compression_stages(const BitHeap& heap);

int bit_width(int64_t value);  // bits needed for value >= 0 (0 for 0)

// The function `table` of up to six nets (inputs[0] = address bit 0) as the cheapest node:
// constants folded, repeated or ignored inputs dropped, a wire or inverter when that is all it is.
Net table_function(Netlist& netlist, const std::vector<Net>& inputs, uint64_t table);

}  // namespace lutnet::hdl
