#pragma once
// The synthesized design as one flat netlist of Xilinx UltraScale(+) primitives, read from the
// BLIF files `lutnet synth` writes (Yosys `write_blif -param -cname`, one file per layer module and
// one for the rest, the layers there as black boxes). Instances of the design's own modules are
// expanded; every cell keeps the module instance it came from, so activity can be reported per
// layer and written as a hierarchical SAIF file.
//
// Instance names: BLIF does not name .subckt instances, so an instance of a design module takes
// the name of its `.cname` line (Yosys `write_blif -cname`: the Verilog instance name, u_layer0);
// without one it is "<module>_<n>", n counting that module's unnamed instances in the parent
// from 0 in file order. lutnet synth writes `write_blif -param -cname`.
//
// The nets $false and $undef are const0 and $true is const1 in every module; the `.names` lines
// that define them are dropped. A model that is only `.blackbox` does not shadow a definition of
// the same name; two different definitions of one model are an error (identical ones are not).
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lutnet::power {

struct GateCell {
  std::string type;                           // "LUT6", "FDRE", "CARRY4", "RAMB18E2", "$names", ...
  std::map<std::string, std::string> params;  // .param values as written (binary digits, "text")
  // Formal pin ("I0", "DI[3]", "ADDRARDADDR[5]") to net, in the order written.
  std::vector<std::pair<std::string, int>> pins;
  std::vector<std::string> cover;  // "$names" only: the cube lines ("1 1", "1", "01 1")
  // "$names" pins are I0..I<n-1> (the inputs in cover column order), then O.
  int instance = 0;  // index into GateNetlist::instances
  std::string name;  // instance-local name when BLIF gave one (.cname), else empty
};

struct GateInstance {
  std::string path;    // "" for the top, "u_layer0", "u_layer2.u_tiles", ...
  std::string module;  // the BLIF .model it is an instance of
  int parent = -1;     // -1 for the top
};

struct GateNetlist {
  std::string top;
  // Hierarchical net names: "clk", "u_layer0.acc[3]", "u_layer0._19_". A net that crosses a
  // module boundary has the name of its highest instance (the top's name for a port connection).
  std::vector<std::string> net_names;
  std::vector<int> net_instance;  // per net: the instance whose name it carries
  std::vector<GateCell> cells;
  std::vector<GateInstance> instances;
  // Top port bits, "in_data[3]" -> net, in declaration order.
  std::vector<std::pair<std::string, int>> inputs, outputs;
  int const0 = -1, const1 = -1;  // the nets of $false and $true ($undef is const0)

  // Per net: how many cell input pins read it (a top output counts one).
  std::vector<int> fanout() const;
  // Broken invariants (a net with two drivers, a pin out of range, a cell in no instance) throw
  // InternalError naming the net or cell.
  void check() const;
};

// Whether `pin` of a cell of `type` is an output (O, O5, O6, CO[i], Q, Q31, DOUT..., ...): every
// other pin reads its net.
bool gate_pin_is_output(std::string_view type, std::string_view pin);

// One BLIF text and the name to cite in errors (its file).
struct BlifSource {
  std::string name;
  std::string text;
};

// Reads every .model of every source and expands `top`. A .subckt whose type is a .model of any
// source is expanded (recursively); any other type is a primitive cell. Errors (lutnet::Error)
// name the source and line: a syntax error, a .subckt pin its model lacks, a missing top, a
// module instantiated inside itself, a net with two drivers.
GateNetlist read_blif_design(const std::vector<BlifSource>& sources, const std::string& top);
GateNetlist read_blif_files(const std::vector<std::filesystem::path>& files,
                            const std::string& top);

}  // namespace lutnet::power
