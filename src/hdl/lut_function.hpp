#pragma once
// Reduces a learned table to what hardware needs: repeated inputs merged, inputs the table ignores
// dropped. What is left is a constant, a wire, an inverter (all free in hardware) or a real LUT of
// 2..6 inputs. The k = 1 XNOR connections of a plain binarized network land on wire / inverter.
#include <cstdint>
#include <span>
#include <vector>

namespace lutnet::hdl {

struct ReducedLut {
  enum class Kind { kConst, kWire, kInverter, kLut };
  Kind kind = Kind::kConst;
  std::vector<uint32_t> inputs;  // distinct input positions; inputs[0] is address bit 0
  uint64_t table = 0;            // over inputs (2^inputs.size() bits); kConst: 0 or 1

  // The value for input bits given by `bit(position)`.
  template <class BitOf>
  bool eval(BitOf bit) const {
    unsigned address = 0;
    for (size_t i = 0; i < inputs.size(); ++i)
      address |= static_cast<unsigned>(bit(inputs[i]) ? 1 : 0) << i;
    return (table >> address) & 1;
  }
};

// `inputs` are the k input positions of one connection; `table` uses its low 2^k bits.
ReducedLut reduce_lut(std::span<const uint32_t> inputs, uint64_t table);

}  // namespace lutnet::hdl
