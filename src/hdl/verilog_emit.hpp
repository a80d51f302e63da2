#pragma once
// Prints a Netlist as one Verilog-2005 module: a wire per gate, a behavioural table or a Xilinx
// LUTn instance per LUT, one `+` per word adder, one clocked always block for every register
// (registered output ports included; combinational ones are assigned). Logic that reaches no
// output is not printed.
#include <string>

#include "hdl/netlist.hpp"

namespace lutnet::hdl {

struct EmitOptions {
  bool xilinx_primitives = false;
  std::string comment;  // printed above the module, one `//` line per text line
};

std::string emit_module(const Netlist& netlist, const std::string& name,
                        const EmitOptions& options);

// Verilog-2005 models of LUT1..LUT6 with the Xilinx port names and INIT parameter, for simulators
// only (synthesis tools have their own primitives).
std::string xilinx_lut_simulation_models();

}  // namespace lutnet::hdl
