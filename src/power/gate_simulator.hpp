#pragma once
// A zero-delay, cycle-based simulator of a GateNetlist of Xilinx UltraScale(+) primitives, which
// counts what dynamic power is made of: the toggles of every net from one clock to the next,
// the clock edges each flip-flop sees with its clock enable on, and the block-RAM accesses.
//
// One clock: the combinational cells settle on the current inputs and registers (event-driven,
// in topological order), the settled value of every net is compared with the previous clock's
// (a toggle when it differs; zero delay, so no glitches), then every sequential cell takes its
// rising edge. All sequential cells share the one clock; asynchronous clears and presets act at
// the edge like synchronous ones (the designs only pulse them with the clock running).
//
// Supported cells (semantics of Yosys' techlibs/xilinx/cells_sim.v): LUT1..LUT6, LUT6_2 (INIT;
// x and missing digits read 0), INV, BUF, VCC, GND, MUXF7/8/9, CARRY4, CARRY8 (CARRY_TYPE),
// FDRE, FDSE, FDCE, FDPE (INIT, x reads the set/reset value; IS_D_INVERTED and the set/reset
// pin's IS_*_INVERTED; IS_C_INVERTED = 1 is an error), SRL16E, SRLC32E (the tap A is
// combinational), RAMB18E2 and RAMB36E2 used as read-only memories (INIT_xx, INITP_xx,
// READ_WIDTH_A/B up to 36, or 36 / 72 on port A for simple dual port, INIT_A/B, SRVAL_A/B,
// RSTRAM*, DOA_REG/DOB_REG = 0, write enables constant 0, no cascade, no ECC), and BLIF covers
// ($names, up to 16 inputs). Any other type, or a block RAM that is written, is a lutnet::Error
// naming the cell and its instance. A missing input pin reads 0 (a clock enable 1).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "power/gate_netlist.hpp"

namespace lutnet::power {

// What one run of clocks did, indexed like the netlist's nets and cells.
struct GateActivity {
  uint64_t cycles = 0;
  std::vector<uint64_t> net_toggles;  // per net: clocks whose settled value differs from the last
  std::vector<uint64_t> net_high;     // per net: clocks it settled at 1 (SAIF T1)
  // Per cell (0 for non-sequential cells): flip-flops and SRLs: edges with the clock enable on;
  // block RAMs: edges with a reading port enabled (ENARDEN, ENBWREN), summed over the ports.
  std::vector<uint64_t> cell_enabled_edges;
};

class GateSimulator {
 public:
  // Throws lutnet::Error for an unsupported cell or a combinational loop (naming a net on it).
  // The netlist is read here only: it need not outlive the simulator.
  explicit GateSimulator(const GateNetlist& netlist);
  ~GateSimulator();
  GateSimulator(const GateSimulator&) = delete;
  GateSimulator& operator=(const GateSimulator&) = delete;

  // Top ports by bus name ("in_data", "clk"); bit i of the bus (its i-th lowest index) is bit i
  // of the value, or of the little-endian bytes; bits beyond the value or bytes given are 0.
  // Unknown names throw lutnet::Error, so does set() of an output. Port width: the bits named
  // NAME or NAME[i] (0 when none).
  int port_width(const std::string& port) const;
  void set(const std::string& port, uint64_t value);
  void set_bytes(const std::string& port, const uint8_t* bytes, size_t count);
  // The settled value (settles the combinational logic first, without counting toggles).
  uint64_t get(const std::string& port);
  void get_bytes(const std::string& port, uint8_t* bytes, size_t count);

  // One rising edge of the clock (the port "clk" is not driven: every sequential cell is on it).
  void clock();

  // The counts so far (valid until the next call of a non-const member).
  const GateActivity& activity() const;
  void reset_activity();  // counts start again from zero (the net values stay)

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace lutnet::power
