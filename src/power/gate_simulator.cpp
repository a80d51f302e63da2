#include "power/gate_simulator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <string_view>

#include "core/error.hpp"

namespace lutnet::power {

namespace {

// A cell's pins looked up by formal name.
class Pins {
 public:
  Pins(const GateNetlist& nl, int cell, std::string where) : nl_(nl), cell_(cell) {
    where_ = std::move(where);
    for (const auto& [pin, net] : nl.cells[cell].pins) map_.emplace(pin, net);
  }
  int get(const std::string& pin, int fallback) {
    const auto it = map_.find(pin);
    if (it == map_.end()) return fallback;
    used_.push_back(pin);
    return it->second;
  }
  // Every pin must have been asked for.
  void check_all_used() {
    if (used_.size() == map_.size()) return;
    for (const auto& [pin, net] : map_)
      if (std::find(used_.begin(), used_.end(), pin) == used_.end())
        throw Error(fmt::format("gate simulation: cell type {} has no pin {} ({})",
                                nl_.cells[cell_].type, pin, where_));
  }
  const std::map<std::string, int>& all() const { return map_; }

 private:
  const GateNetlist& nl_;
  int cell_;
  std::string where_;
  std::map<std::string, int> map_;
  std::vector<std::string> used_;
};

std::string unquoted(const std::string& v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
  return v;
}

// Bit i (LSB 0) of a binary parameter written MSB first: x reads `fallback`, a missing digit 0.
bool param_bit(const std::string& v, size_t i, bool fallback = false) {
  if (i >= v.size()) return false;
  const char c = v[v.size() - 1 - i];
  return c == '1' || (c != '0' && fallback);
}

// A parameter without its quotes, "" when absent.
std::string param_of(const GateCell& c, const std::string& name) {
  const auto it = c.params.find(name);
  return it == c.params.end() ? std::string() : unquoted(it->second);
}

uint64_t param_uint(const std::string& v, uint64_t fallback) {
  if (v.empty()) return fallback;
  uint64_t out = 0;
  for (size_t i = 0; i < std::min<size_t>(v.size(), 64); ++i)
    if (param_bit(v, i)) out |= uint64_t{1} << i;
  return out;
}

}  // namespace

struct GateSimulator::Impl {
  // Impl's own types, nested so that they share its linkage (unity builds include this file).
  // Combinational kinds. MUXF*, INV, BUF and small covers are LUTs.
  enum class Comb : uint8_t { kLut, kLut62, kCover, kCarry4, kCarry8, kSrlRead };

  struct CombCell {
    uint64_t init = 0;  // LUT table; kCover: cover index; kSrlRead: SRL index; kCarry8: dual
    uint32_t pins = 0;  // its first input in Impl::pins; the outputs follow the inputs
    uint8_t nin = 0, nout = 0;
    Comb kind = Comb::kLut;
  };

  struct Ff {
    int d, ce, sr, q;
    uint8_t sr_value, d_inv, sr_inv;
  };

  struct Srl {
    int d, ce;
    uint32_t state, mask;
    int read;  // its combinational read cell (Q = state[A], Q31)
  };

  struct RamPort {
    int en = -1, rst = -1;
    std::vector<int> addr;          // the bits of the byte address (ADDRARDADDR[0..])
    int shift = 0, dw = 0, pw = 0;  // word = addr >> shift; data and parity bits per word
    std::vector<int> dout, doutp;   // the output nets, dw and pw of them
    std::vector<uint8_t> srval;     // dw data bits then pw parity bits
  };

  struct Ram {
    int cell = 0;
    std::vector<uint64_t> data, parity;  // bit i = data bit i
    RamPort port[2];
  };

  const GateNetlist& nl;  // read while constructing only: the caller may drop it afterwards
  int nets = 0;
  size_t cell_count = 0;
  int sink = 0;  // an extra net that unconnected outputs write
  // Net values, padded to whole 8-byte words for the scan in account().
  std::vector<uint8_t> value, prev;

  // Combinational cells, numbered in level order after levelize(): a cell's readers have
  // higher numbers, so one pass over the scheduled bits in increasing order settles.
  std::vector<CombCell> comb;
  std::vector<int> pins;                     // flat pin nets of the combinational cells
  std::vector<std::vector<uint8_t>> covers;  // kCover: truth tables
  std::vector<uint64_t> scheduled;           // bit per cell
  size_t first_word = 0, last_word = 0;      // scheduled words lie in [first_word, last_word)

  std::vector<uint32_t> comb_reader_start, comb_readers;  // CSR by net
  std::vector<uint32_t> seq_reader_start, seq_readers;    // FFs then RAMs (index nff + r)

  std::vector<Ff> ffs;
  std::vector<Srl> srls;
  std::vector<Ram> rams;
  std::vector<int> ff_cell, srl_cell;
  std::vector<uint64_t> pending;  // bit per sequential cell (FFs, then RAMs)
  std::vector<std::pair<int, uint8_t>> staged;

  // Activity: toggles counted at clock(); net_high and enabled edges kept lazily.
  uint64_t cycles = 0;
  std::vector<uint64_t> toggles, high;
  std::vector<uint64_t> high_since;
  GateActivity act;

  std::map<std::string, std::vector<int>> in_ports, out_ports;

  explicit Impl(const GateNetlist& netlist);
  std::string where(int cell) const;
  [[noreturn]] void unsupported(int cell) const;
  int add_comb(Comb kind, uint64_t init, const std::vector<int>& in, const std::vector<int>& out);
  void compile_cell(int cell);
  void compile_lut(int cell, Pins& p);
  void compile_names(int cell, Pins& p);
  void compile_carry(int cell, Pins& p, bool eight);
  void compile_ff(int cell, Pins& p);
  void compile_srl(int cell, Pins& p, bool long32);
  void compile_ram(int cell, Pins& p, bool b36);
  void compile_ram_port(const GateCell& c, Pins& p, int k, int width, bool sdp, int abits,
                        RamPort& port);
  void compile_ports();
  int clock_net = -1, clock_cell = -1;  // the one clock, and a cell on it
  void use_clock(int cell, int net);
  void check_clock() const;
  void levelize();
  void renumber(const std::vector<int>& level);
  void renumber_nets();
  std::vector<int> external;  // internal net -> netlist net (nets are renumbered for locality)
  void build_readers();
  void initialize();

  void write(int net, uint8_t v) {
    if (value[net] == v) return;
    value[net] = v;
    for (uint32_t i = comb_reader_start[net]; i < comb_reader_start[net + 1]; ++i)
      schedule(comb_readers[i]);
  }
  void schedule(uint32_t c) {
    const size_t w = c >> 6;
    scheduled[w] |= uint64_t{1} << (c & 63);
    first_word = std::min(first_word, w);
    last_word = std::max(last_word, w + 1);
  }
  void eval(uint32_t c);
  void settle();
  void account();
  void edge();
  void read_ram_port(const Ram& ram, const RamPort& p);
  void flush();
};

std::string GateSimulator::Impl::where(int cell) const {
  const GateCell& c = nl.cells[cell];
  const std::string& path = nl.instances[c.instance].path;
  std::string s = fmt::format("instance {}", path.empty() ? nl.top : path);
  if (!c.name.empty()) s += fmt::format(", cell {}", c.name);
  return s;
}

void GateSimulator::Impl::unsupported(int cell) const {
  throw Error(fmt::format("gate simulation does not support cell type {} ({})", nl.cells[cell].type,
                          where(cell)));
}

int GateSimulator::Impl::add_comb(Comb kind, uint64_t init, const std::vector<int>& in,
                                  const std::vector<int>& out) {
  CombCell c;
  c.kind = kind;
  c.init = init;
  c.pins = static_cast<uint32_t>(pins.size());
  c.nin = static_cast<uint8_t>(in.size());
  c.nout = static_cast<uint8_t>(out.size());
  pins.insert(pins.end(), in.begin(), in.end());
  // Every LUT as a LUT6, its missing inputs 0 (same table): one branch-free evaluation.
  for (; kind == Comb::kLut && c.nin < 6; ++c.nin) pins.push_back(nl.const0);
  for (int o : out) pins.push_back(o < 0 ? sink : o);
  comb.push_back(c);
  return static_cast<int>(comb.size()) - 1;
}

void GateSimulator::Impl::compile_lut(int cell, Pins& p) {
  const GateCell& c = nl.cells[cell];
  const std::string& t = c.type;
  const auto init_of = [&](int n) {
    const auto it = c.params.find("INIT");
    const std::string v = it == c.params.end() ? "" : unquoted(it->second);
    uint64_t init = 0;
    for (int i = 0; i < (1 << n); ++i)
      if (param_bit(v, static_cast<size_t>(i))) init |= uint64_t{1} << i;
    return init;
  };
  std::vector<int> in;
  if (t == "INV" || t == "BUF") {
    in.push_back(p.get("I", nl.const0));
    add_comb(Comb::kLut, t == "INV" ? 0b01 : 0b10, in, {p.get("O", -1)});
  } else if (t.starts_with("MUXF")) {
    in = {p.get("I0", nl.const0), p.get("I1", nl.const0), p.get("S", nl.const0)};
    add_comb(Comb::kLut, 0b11001010, in, {p.get("O", -1)});  // S ? I1 : I0
  } else if (t == "VCC" || t == "GND") {
    add_comb(Comb::kLut, t == "VCC" ? 1 : 0, in, {p.get(t == "VCC" ? "P" : "G", -1)});
  } else if (t == "LUT6_2") {
    for (int j = 0; j < 6; ++j) in.push_back(p.get(fmt::format("I{}", j), nl.const0));
    add_comb(Comb::kLut62, init_of(6), in, {p.get("O6", -1), p.get("O5", -1)});
  } else {
    const int n = t[3] - '0';
    for (int j = 0; j < n; ++j) in.push_back(p.get(fmt::format("I{}", j), nl.const0));
    add_comb(Comb::kLut, init_of(n), in, {p.get("O", -1)});
  }
}

// A BLIF cover as a truth table: a LUT up to 6 inputs, a table of its own beyond.
void GateSimulator::Impl::compile_names(int cell, Pins& p) {
  const GateCell& c = nl.cells[cell];
  const int n = static_cast<int>(c.pins.size()) - 1;
  if (n < 0 || n > 16)
    throw Error(fmt::format("gate simulation: a .names of {} inputs is not supported ({})", n,
                            where(cell)));
  std::vector<int> in;
  for (int j = 0; j < n; ++j) in.push_back(p.get(fmt::format("I{}", j), nl.const0));
  const int out = p.get("O", -1);
  std::vector<uint8_t> table(size_t{1} << n, 0);
  const bool offset = !c.cover.empty() && c.cover.front().back() == '0';
  for (const std::string& cube : c.cover)
    for (size_t idx = 0; idx < table.size(); ++idx) {
      bool match = true;
      for (int j = 0; j < n && match; ++j) {
        const char ch = cube[static_cast<size_t>(j)];
        match = ch == '-' || (ch == '1') == (((idx >> j) & 1) != 0);
      }
      if (match) table[idx] = 1;
    }
  if (offset)
    for (auto& b : table) b ^= 1;
  if (n <= 6) {
    uint64_t init = 0;
    for (size_t idx = 0; idx < table.size(); ++idx)
      if (table[idx]) init |= uint64_t{1} << idx;
    add_comb(Comb::kLut, init, in, {out});
  } else {
    covers.push_back(std::move(table));
    add_comb(Comb::kCover, covers.size() - 1, in, {out});
  }
}

void GateSimulator::Impl::compile_carry(int cell, Pins& p, bool eight) {
  const int w = eight ? 8 : 4;
  std::vector<int> in = {p.get("CI", nl.const0),
                         eight ? p.get("CI_TOP", nl.const0) : p.get("CYINIT", nl.const0)};
  for (int i = 0; i < w; ++i) in.push_back(p.get(fmt::format("DI[{}]", i), nl.const0));
  for (int i = 0; i < w; ++i) in.push_back(p.get(fmt::format("S[{}]", i), nl.const0));
  std::vector<int> out;
  for (int i = 0; i < w; ++i) out.push_back(p.get(fmt::format("O[{}]", i), -1));
  for (int i = 0; i < w; ++i) out.push_back(p.get(fmt::format("CO[{}]", i), -1));
  uint64_t dual = 0;
  if (eight) {
    const auto it = nl.cells[cell].params.find("CARRY_TYPE");
    const std::string type =
        it == nl.cells[cell].params.end() ? "SINGLE_CY8" : unquoted(it->second);
    if (type != "SINGLE_CY8" && type != "DUAL_CY4")
      throw Error(fmt::format("gate simulation: CARRY8 CARRY_TYPE {} is not supported ({})", type,
                              where(cell)));
    dual = type == "DUAL_CY4";
  }
  add_comb(eight ? Comb::kCarry8 : Comb::kCarry4, dual, in, out);
}

void GateSimulator::Impl::compile_ff(int cell, Pins& p) {
  const GateCell& c = nl.cells[cell];
  const std::string& t = c.type;
  const bool sets = t == "FDSE" || t == "FDPE";
  const char* sr_pin = t == "FDRE" ? "R" : t == "FDSE" ? "S" : t == "FDCE" ? "CLR" : "PRE";
  const auto param = [&](const std::string& name) { return param_of(c, name); };
  if (param_bit(param("IS_C_INVERTED"), 0))
    throw Error(fmt::format(
        "gate simulation: {} with IS_C_INVERTED = 1 is not supported: one clock edge only ({})", t,
        where(cell)));
  Ff f;
  use_clock(cell, p.get("C", -1));
  f.d = p.get("D", nl.const0);
  f.ce = p.get("CE", nl.const1);
  f.sr = p.get(sr_pin, nl.const0);
  f.q = p.get("Q", -1);
  if (f.q < 0) f.q = sink;
  f.sr_value = sets;
  f.d_inv = param_bit(param("IS_D_INVERTED"), 0);
  f.sr_inv = param_bit(param(std::string("IS_") + sr_pin + "_INVERTED"), 0);
  // INIT x: the value the set/reset pin would give.
  const std::string init = param("INIT");
  value[f.q] = init.empty() ? sets : param_bit(init, 0, sets);
  ffs.push_back(f);
  ff_cell.push_back(cell);
}

void GateSimulator::Impl::compile_srl(int cell, Pins& p, bool long32) {
  const GateCell& c = nl.cells[cell];
  for (const char* name : {"IS_CLK_INVERTED"})
    if (const auto it = c.params.find(name); it != c.params.end() && param_bit(it->second, 0))
      throw Error(fmt::format(
          "gate simulation: {} with IS_CLK_INVERTED = 1 is not supported: one clock edge only ({})",
          c.type, where(cell)));
  Srl s;
  use_clock(cell, p.get("CLK", -1));
  s.d = p.get("D", nl.const0);
  s.ce = p.get("CE", nl.const1);
  s.mask = long32 ? 0xffffffffu : 0xffffu;
  const auto it = c.params.find("INIT");
  s.state = it == c.params.end() ? 0 : static_cast<uint32_t>(param_uint(it->second, 0)) & s.mask;
  std::vector<int> in;
  for (int i = 0; i < (long32 ? 5 : 4); ++i)
    in.push_back(p.get(long32 ? fmt::format("A[{}]", i) : fmt::format("A{}", i), nl.const0));
  std::vector<int> out = {p.get("Q", -1)};
  if (long32) out.push_back(p.get("Q31", -1));
  s.read = add_comb(Comb::kSrlRead, srls.size(), in, out);
  srls.push_back(s);
  srl_cell.push_back(cell);
}

// Every sequential cell must be on one clock, a top input: the simulator has one edge.
void GateSimulator::Impl::use_clock(int cell, int net) {
  if (net < 0) return;  // not connected (hand-written netlists)
  if (clock_net < 0) {
    clock_net = net;
    clock_cell = cell;
  }
  if (net != clock_net)
    throw Error(
        fmt::format("gate simulation supports one clock: {} ({}) is clocked by {}, {} ({}) by {}",
                    nl.cells[cell].type, where(cell), nl.net_names[net], nl.cells[clock_cell].type,
                    where(clock_cell), nl.net_names[clock_net]));
}

void GateSimulator::Impl::check_clock() const {
  if (clock_net < 0) return;
  for (const auto& [name, net] : nl.inputs)
    if (net == clock_net) return;
  throw Error(fmt::format(
      "gate simulation supports one clock from a top input: {} ({}) is clocked by net {}",
      nl.cells[clock_cell].type, where(clock_cell), nl.net_names[clock_net]));
}

void GateSimulator::Impl::compile_cell(int cell) {
  const GateCell& c = nl.cells[cell];
  const std::string& t = c.type;
  Pins p(nl, cell, where(cell));
  const bool lut = t.size() == 4 && t.starts_with("LUT") && t[3] >= '1' && t[3] <= '6';
  if (lut || t == "LUT6_2" || t == "INV" || t == "BUF" || t == "MUXF7" || t == "MUXF8" ||
      t == "MUXF9" || t == "VCC" || t == "GND")
    compile_lut(cell, p);
  else if (t == "$names")
    compile_names(cell, p);
  else if (t == "CARRY4" || t == "CARRY8")
    compile_carry(cell, p, t == "CARRY8");
  else if (t == "FDRE" || t == "FDSE" || t == "FDCE" || t == "FDPE")
    compile_ff(cell, p);
  else if (t == "SRL16E" || t == "SRLC32E")
    compile_srl(cell, p, t == "SRLC32E");
  else if (t == "RAMB18E2" || t == "RAMB36E2")
    return compile_ram(cell, p, t == "RAMB36E2");  // checks its pins itself
  else
    unsupported(cell);
  p.check_all_used();
}

namespace {

// READ_WIDTH w -> data bits and parity bits per word.
bool ram_width(int w, int& dw, int& pw) {
  switch (w) {
    case 1:
    case 2:
    case 4:
      dw = w;
      pw = 0;
      return true;
    case 9:
    case 18:
    case 36:
    case 72:
      dw = w / 9 * 8;
      pw = w / 9;
      return true;
    default:
      return false;
  }
}

// The block RAM features lutnet's ROMs do not use are errors, not silently wrong results.
void check_ram(const GateNetlist& nl, int cell, Pins& p, const std::string& where) {
  const GateCell& c = nl.cells[cell];
  const auto fail = [&](const std::string& why) {
    throw Error(
        fmt::format("gate simulation: block RAM {} ({}) {}: only read-only block RAMs "
                    "without output registers or cascades are supported",
                    c.type, where, why));
  };
  for (const auto& [name, raw] : c.params) {
    const std::string v = unquoted(raw);
    if (name.starts_with("IS_") && name.ends_with("_INVERTED") && param_uint(v, 0) != 0)
      fail(fmt::format("has {} = 1", name));
    if (name.starts_with("CASCADE_ORDER") && v != "NONE") fail(fmt::format("has {} {}", name, v));
    if (name.starts_with("EN_ECC") && v != "FALSE") fail(fmt::format("has {} {}", name, v));
  }
  // With ENADDREN, ADDREN low keeps the old address latched: not modelled.
  for (const char port : {'A', 'B'})
    if (param_of(c, std::string("ENADDREN") + port) == "TRUE" &&
        p.all().count(std::string("ADDREN") + port) &&
        p.all().at(std::string("ADDREN") + port) != nl.const1)
      fail(fmt::format("uses ADDREN{}", port));
  for (const char* reg : {"DOA_REG", "DOB_REG"}) {
    const auto it = c.params.find(reg);
    if (it == c.params.end() || param_uint(unquoted(it->second), 1) != 0)
      fail(fmt::format("has {} = 1", reg));
  }
  for (const auto& [pin, net] : p.all()) {
    if (gate_pin_is_output(c.type, pin)) continue;
    const bool constant = net == nl.const0 || net == nl.const1;
    if ((pin.starts_with("WEA") || pin.starts_with("WEBWE")) && net != nl.const0)
      fail(fmt::format("is written ({} is not constant 0)", pin));
    if (pin.starts_with("CAS") && !constant) fail(fmt::format("has cascade input {}", pin));
    const bool mux = pin == "CASDIMUXA" || pin == "CASDIMUXB" || pin == "CASDOMUXA" ||
                     pin == "CASDOMUXB" || pin == "CASOREGIMUXA" || pin == "CASOREGIMUXB";
    if (mux && net == nl.const1) fail(fmt::format("selects its cascade ({} = 1)", pin));
    if (pin == "SLEEP" && net != nl.const0) fail("has SLEEP not constant 0");
  }
}

}  // namespace

void GateSimulator::Impl::compile_ram(int cell, Pins& p, bool b36) {
  const GateCell& c = nl.cells[cell];
  const std::string w = where(cell);
  check_ram(nl, cell, p, w);
  const int width_a = static_cast<int>(param_uint(param_of(c, "READ_WIDTH_A"), 0));
  const int width_b = static_cast<int>(param_uint(param_of(c, "READ_WIDTH_B"), 0));
  const bool sdp = width_a == (b36 ? 72 : 36);
  const int max_tdp = b36 ? 36 : 18;
  Ram ram;
  ram.cell = cell;
  const int data_bits = b36 ? 32768 : 16384;
  ram.data.assign(static_cast<size_t>(data_bits / 64), 0);
  ram.parity.assign(static_cast<size_t>(data_bits / 8 / 64), 0);
  // INIT_xx holds data bits xx*256.., INITP_xx parity bits xx*256.. (bit 0 of INIT_00 first).
  for (int block = 0; block < data_bits / 256; ++block) {
    const std::string d = param_of(c, fmt::format("INIT_{:02X}", block));
    const std::string pr =
        block < data_bits / 2048 ? param_of(c, fmt::format("INITP_{:02X}", block)) : "";
    for (int i = 0; i < 256; ++i) {
      const size_t bit = static_cast<size_t>(block * 256 + i);
      if (param_bit(d, static_cast<size_t>(i))) ram.data[bit / 64] |= uint64_t{1} << (bit % 64);
      if (param_bit(pr, static_cast<size_t>(i))) ram.parity[bit / 64] |= uint64_t{1} << (bit % 64);
    }
  }
  for (int k = 0; k < 2; ++k) {
    const int width = k == 0 ? width_a : width_b;
    const bool valid =
        width == 0 || (sdp && k == 0) ||
        (width <= max_tdp && !(sdp && k == 1) && ram_width(width, ram.port[k].dw, ram.port[k].pw));
    if (!valid)
      throw Error(fmt::format("gate simulation: block RAM {} ({}) has READ_WIDTH_{} {}", c.type, w,
                              k == 0 ? 'A' : 'B', width));
    compile_ram_port(c, p, k, width, sdp, b36 ? 15 : 14, ram.port[k]);
  }
  rams.push_back(std::move(ram));
}

// Port k (0: A, 1: B) of a block RAM. SDP: port A reads the whole word, its low half on the A
// outputs and the high half on the B outputs; INIT_x and SRVAL_x hold each half's data bits,
// then its parity bits.
void GateSimulator::Impl::compile_ram_port(const GateCell& c, Pins& p, int k, int width, bool sdp,
                                           int abits, RamPort& port) {
  const std::string x = k == 0 ? "A" : "B";
  const std::string addr = k == 0 ? "ADDRARDADDR" : "ADDRBWRADDR";
  port.en = p.get(k == 0 ? "ENARDEN" : "ENBWREN", nl.const0);
  port.rst = p.get(k == 0 ? "RSTRAMARSTRAM" : "RSTRAMB", nl.const0);
  for (int i = 0; i < abits; ++i)
    port.addr.push_back(p.get(fmt::format("{}[{}]", addr, i), nl.const0));
  const int clock = p.get(k == 0 ? "CLKARDCLK" : "CLKBWRCLK", -1);
  if (width == 0) return;
  use_clock(static_cast<int>(&c - nl.cells.data()), clock);
  ram_width(width, port.dw, port.pw);
  while ((1 << port.shift) < port.dw) ++port.shift;
  const int halves = sdp ? 2 : 1;
  const int hd = port.dw / halves, hp = port.pw / halves;
  std::vector<uint8_t> init(static_cast<size_t>(port.dw + port.pw));
  port.srval = init;
  for (int h = 0; h < halves; ++h) {
    const std::string y = h == 0 ? x : "B";
    const std::string o = y == "A" ? "DOUTADOUT" : "DOUTBDOUT";
    const std::string op = y == "A" ? "DOUTPADOUTP" : "DOUTPBDOUTP";
    const std::string iv = param_of(c, "INIT_" + y), sv = param_of(c, "SRVAL_" + y);
    for (int j = 0; j < hd; ++j) {
      port.dout.push_back(p.get(fmt::format("{}[{}]", o, j), sink));
      init[static_cast<size_t>(h * hd + j)] = param_bit(iv, static_cast<size_t>(j));
      port.srval[static_cast<size_t>(h * hd + j)] = param_bit(sv, static_cast<size_t>(j));
    }
    for (int j = 0; j < hp; ++j) {
      port.doutp.push_back(p.get(fmt::format("{}[{}]", op, j), sink));
      const size_t at = static_cast<size_t>(port.dw + h * hp + j);
      init[at] = param_bit(iv, static_cast<size_t>(hd + j));
      port.srval[at] = param_bit(sv, static_cast<size_t>(hd + j));
    }
  }
  for (size_t j = 0; j < port.dout.size(); ++j) value[port.dout[j]] = init[j];
  for (size_t j = 0; j < port.doutp.size(); ++j) value[port.doutp[j]] = init[port.dout.size() + j];
}

void GateSimulator::Impl::read_ram_port(const Ram& ram, const RamPort& p) {
  if (p.dw == 0 || !value[p.en]) return;
  const auto stage = [&](int net, uint8_t v) {
    if (value[net] != v) staged.emplace_back(net, v);
  };
  if (value[p.rst]) {
    for (size_t j = 0; j < p.dout.size(); ++j) stage(p.dout[j], p.srval[j]);
    for (size_t j = 0; j < p.doutp.size(); ++j) stage(p.doutp[j], p.srval[p.dout.size() + j]);
    return;
  }
  uint32_t addr = 0;
  for (size_t i = 0; i < p.addr.size(); ++i) addr |= uint32_t{value[p.addr[i]]} << i;
  const size_t words = ram.data.size() * 64 / static_cast<size_t>(p.dw);
  const size_t word = (addr >> p.shift) & (words - 1);
  for (size_t j = 0; j < p.dout.size(); ++j) {
    const size_t bit = word * static_cast<size_t>(p.dw) + j;
    stage(p.dout[j], static_cast<uint8_t>((ram.data[bit / 64] >> (bit % 64)) & 1));
  }
  for (size_t j = 0; j < p.doutp.size(); ++j) {
    const size_t bit = word * static_cast<size_t>(p.pw) + j;
    stage(p.doutp[j], static_cast<uint8_t>((ram.parity[bit / 64] >> (bit % 64)) & 1));
  }
}

void GateSimulator::Impl::compile_ports() {
  const auto add = [](std::map<std::string, std::vector<int>>& ports,
                      const std::vector<std::pair<std::string, int>>& bits) {
    std::map<std::string, std::vector<std::pair<long, int>>> by_index;
    for (const auto& [name, net] : bits) {
      const size_t open = name.rfind('[');
      long index = 0;
      std::string base = name;
      if (open != std::string::npos && name.back() == ']') {
        base = name.substr(0, open);
        index = std::strtol(name.c_str() + open + 1, nullptr, 10);
      }
      by_index[base].emplace_back(index, net);
    }
    for (auto& [base, list] : by_index) {
      std::sort(list.begin(), list.end());
      for (const auto& [index, net] : list) ports[base].push_back(net);
    }
  };
  add(in_ports, nl.inputs);
  add(out_ports, nl.outputs);
}

// Levels by Kahn's algorithm over combinational cells; a cell left over is on a loop.
void GateSimulator::Impl::levelize() {
  const size_t n = comb.size();
  std::vector<int> driver(static_cast<size_t>(nets) + 1, -1), indegree(n, 0);
  for (size_t c = 0; c < n; ++c)
    for (int j = 0; j < comb[c].nout; ++j) {
      const int net = pins[comb[c].pins + comb[c].nin + static_cast<uint32_t>(j)];
      if (net == sink) continue;
      if (driver[net] >= 0)
        throw Error(fmt::format("gate simulation: net {} has two drivers", nl.net_names[net]));
      driver[net] = static_cast<int>(c);
    }
  for (size_t c = 0; c < n; ++c)
    for (int j = 0; j < comb[c].nin; ++j)
      if (driver[pins[comb[c].pins + static_cast<uint32_t>(j)]] >= 0) ++indegree[c];
  std::vector<int> level(n, 0);
  std::vector<uint32_t> queue;
  for (size_t c = 0; c < n; ++c)
    if (indegree[c] == 0) queue.push_back(static_cast<uint32_t>(c));
  for (size_t head = 0; head < queue.size(); ++head) {
    const CombCell& k = comb[queue[head]];
    for (int j = 0; j < k.nout; ++j) {
      const int net = pins[k.pins + k.nin + static_cast<uint32_t>(j)];
      for (uint32_t i = comb_reader_start[net]; i < comb_reader_start[net + 1]; ++i) {
        const uint32_t r = comb_readers[i];
        level[r] = std::max(level[r], level[queue[head]] + 1);
        if (--indegree[r] == 0) queue.push_back(r);
      }
    }
  }
  if (queue.size() < n) {
    // Walk back through undone drivers until a cell repeats: the net taken then is on the loop.
    size_t c = 0;
    while (indegree[c] == 0) ++c;
    std::vector<uint8_t> seen(n, 0);
    int net = -1;
    while (!seen[c]) {
      seen[c] = 1;
      for (int j = 0; j < comb[c].nin; ++j) {
        net = pins[comb[c].pins + static_cast<uint32_t>(j)];
        if (driver[net] >= 0 && indegree[static_cast<size_t>(driver[net])] > 0) break;
      }
      c = static_cast<size_t>(driver[net]);
    }
    throw Error(
        fmt::format("gate simulation: combinational loop through net {}", nl.net_names[net]));
  }
  renumber(level);
}

// Cells sorted by level (stable), their pins with them; SRLs follow their read cells.
void GateSimulator::Impl::renumber(const std::vector<int>& level) {
  std::vector<uint32_t> order(comb.size());
  for (uint32_t c = 0; c < order.size(); ++c) order[c] = c;
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return level[a] < level[b]; });
  std::vector<CombCell> sorted;
  std::vector<int> sorted_pins;
  std::vector<int> new_index(comb.size());
  for (uint32_t c : order) {
    CombCell k = comb[c];
    new_index[c] = static_cast<int>(sorted.size());
    const auto first = pins.begin() + k.pins;
    k.pins = static_cast<uint32_t>(sorted_pins.size());
    sorted_pins.insert(sorted_pins.end(), first, first + k.nin + k.nout);
    sorted.push_back(k);
  }
  comb = std::move(sorted);
  pins = std::move(sorted_pins);
  for (Srl& srl : srls) srl.read = new_index[srl.read];
  scheduled.assign((comb.size() + 63) / 64, 0);
  first_word = scheduled.size();
  last_word = 0;
}

// Nets in the order their values are written while settling (combinational outputs in cell
// order), then the rest; the extra sink net stays last.
void GateSimulator::Impl::renumber_nets() {
  std::vector<int> internal(value.size(), -1);
  int next = 0;
  const auto take = [&](int n) {
    if (n != sink && internal[n] < 0) internal[n] = next++;
  };
  for (const CombCell& k : comb)
    for (int j = 0; j < k.nout; ++j) take(pins[k.pins + k.nin + static_cast<uint32_t>(j)]);
  for (const Ff& f : ffs) take(f.q);
  for (int n = 0; n < nets; ++n) take(n);
  internal[sink] = sink;
  external.assign(value.size(), sink);
  for (int n = 0; n <= nets; ++n) external[internal[n]] = n;
  const auto map = [&](int& n) { n = internal[n]; };
  for (int& n : pins) map(n);
  for (Ff& f : ffs) {
    map(f.d);
    map(f.ce);
    map(f.sr);
    map(f.q);
  }
  for (Srl& s : srls) {
    map(s.d);
    map(s.ce);
  }
  for (Ram& r : rams)
    for (RamPort& port : r.port) {
      map(port.en);
      map(port.rst);
      for (int& n : port.addr) map(n);
      for (int& n : port.dout) map(n);
      for (int& n : port.doutp) map(n);
    }
  for (auto* ports : {&in_ports, &out_ports})
    for (auto& [name, list] : *ports)
      for (int& n : list) map(n);
  std::vector<uint8_t> old = value;
  for (int n = 0; n <= nets; ++n) value[internal[n]] = old[n];
}

void GateSimulator::Impl::build_readers() {
  const auto csr = [&](std::vector<uint32_t>& start, std::vector<uint32_t>& list, auto each) {
    start.assign(value.size() + 1, 0);
    each([&](int net, uint32_t) { ++start[static_cast<size_t>(net) + 1]; });
    for (size_t i = 1; i < start.size(); ++i) start[i] += start[i - 1];
    list.assign(start.back(), 0);
    std::vector<uint32_t> fill(start.begin(), start.end() - 1);
    each([&](int net, uint32_t reader) { list[fill[net]++] = reader; });
  };
  csr(comb_reader_start, comb_readers, [&](auto visit) {
    for (size_t c = 0; c < comb.size(); ++c)
      for (int j = 0; j < comb[c].nin; ++j)
        visit(pins[comb[c].pins + static_cast<uint32_t>(j)], static_cast<uint32_t>(c));
  });
  const uint32_t nff = static_cast<uint32_t>(ffs.size());
  csr(seq_reader_start, seq_readers, [&](auto visit) {
    for (uint32_t f = 0; f < nff; ++f) {
      visit(ffs[f].d, f);
      visit(ffs[f].ce, f);
      visit(ffs[f].sr, f);
    }
    for (uint32_t r = 0; r < rams.size(); ++r)
      for (const RamPort& port : rams[r].port) {
        if (port.dw == 0) continue;
        visit(port.en, nff + r);
        visit(port.rst, nff + r);
        for (int a : port.addr) visit(a, nff + r);
      }
  });
}

GateSimulator::Impl::Impl(const GateNetlist& netlist) : nl(netlist) {
  nets = static_cast<int>(nl.net_names.size());
  cell_count = nl.cells.size();
  sink = nets;
  if (nl.const0 < 0 || nl.const1 < 0 || nl.const0 >= nets || nl.const1 >= nets)
    throw InternalError("gate simulation: the netlist has no constant nets");
  value.assign((static_cast<size_t>(nets) + 1 + 7) / 8 * 8, 0);
  value[nl.const1] = 1;
  for (int c = 0; c < static_cast<int>(nl.cells.size()); ++c) compile_cell(c);
  check_clock();
  compile_ports();
  build_readers();
  levelize();
  renumber_nets();
  build_readers();  // again, for the new numbers
  initialize();
}

void GateSimulator::Impl::initialize() {
  for (uint32_t c = 0; c < comb.size(); ++c) schedule(c);
  settle();
  prev = value;
  const size_t count = value.size();
  toggles.assign(count, 0);
  high.assign(count, 0);
  high_since.assign(count, 0);
  // Every sequential cell takes the first edge.
  const size_t seq = ffs.size() + rams.size();
  pending.assign((seq + 63) / 64, ~uint64_t{0});
  if (seq % 64) pending.back() = (uint64_t{1} << (seq % 64)) - 1;
}

void GateSimulator::Impl::eval(uint32_t c) {
  const CombCell& k = comb[c];
  const int* p = pins.data() + k.pins;
  const uint8_t* v = value.data();
  switch (k.kind) {
    case Comb::kLut: {
      const unsigned idx =
          v[p[0]] | v[p[1]] << 1 | v[p[2]] << 2 | v[p[3]] << 3 | v[p[4]] << 4 | v[p[5]] << 5;
      write(p[6], static_cast<uint8_t>((k.init >> idx) & 1));
      return;
    }
    case Comb::kLut62: {
      unsigned idx = 0;
      for (int j = 0; j < 6; ++j) idx |= unsigned{v[p[j]]} << j;
      write(p[6], static_cast<uint8_t>((k.init >> idx) & 1));
      write(p[7], static_cast<uint8_t>((k.init >> (idx & 31)) & 1));
      return;
    }
    case Comb::kCover: {
      size_t idx = 0;
      for (int j = 0; j < k.nin; ++j) idx |= size_t{v[p[j]]} << j;
      write(p[k.nin], covers[k.init][idx]);
      return;
    }
    case Comb::kCarry4: {
      // cells_sim.v: O = S ^ {CO[2:0], CI | CYINIT}; CO[i] = S[i] ? carry in : DI[i].
      uint8_t carry = v[p[0]] | v[p[1]];
      for (int i = 0; i < 4; ++i) {
        const uint8_t s = v[p[6 + i]];
        write(p[10 + i], s ^ carry);
        carry = s ? carry : v[p[2 + i]];
        write(p[14 + i], carry);
      }
      return;
    }
    case Comb::kCarry8: {
      // cells_sim.v: DUAL_CY4 restarts the chain at bit 4 from CI_TOP.
      uint8_t carry = v[p[0]];
      for (int i = 0; i < 8; ++i) {
        if (i == 4 && k.init) carry = v[p[1]];
        const uint8_t s = v[p[10 + i]];
        write(p[18 + i], s ^ carry);
        carry = s ? carry : v[p[2 + i]];
        write(p[26 + i], carry);
      }
      return;
    }
    case Comb::kSrlRead: {
      unsigned idx = 0;
      for (int j = 0; j < k.nin; ++j) idx |= unsigned{v[p[j]]} << j;
      const uint32_t state = srls[k.init].state;
      write(p[k.nin], static_cast<uint8_t>((state >> idx) & 1));
      if (k.nout == 2) write(p[k.nin + 1], static_cast<uint8_t>(state >> 31));
      return;
    }
  }
}

void GateSimulator::Impl::settle() {
  // Evaluating a cell schedules only higher-numbered ones: re-read the word after each.
  for (size_t w = first_word; w < last_word; ++w)
    while (const uint64_t bits = scheduled[w]) {
      scheduled[w] = bits & (bits - 1);
      eval(static_cast<uint32_t>(w * 64 + static_cast<size_t>(std::countr_zero(bits))));
    }
  first_word = scheduled.size();
  last_word = 0;
}

// Toggles against the last clock's values, found 8 nets at a time; the sequential cells reading
// a changed net must see their next edge (every other one would only repeat its last).
void GateSimulator::Impl::account() {
  const size_t words = value.size() / 8;
  for (size_t w = 0; w < words; ++w) {
    uint64_t a, b;
    std::memcpy(&a, value.data() + 8 * w, 8);
    std::memcpy(&b, prev.data() + 8 * w, 8);
    for (uint64_t diff = a ^ b; diff; diff &= diff - 1) {  // one set bit per changed net
      const size_t n = 8 * w + static_cast<size_t>(std::countr_zero(diff)) / 8;
      const uint64_t v = value[n];
      ++toggles[n];
      high[n] += (1 - v) * (cycles - high_since[n]);  // a fall ends a run of clocks at 1
      high_since[n] = v ? cycles : high_since[n];
      prev[n] = value[n];
      for (uint32_t i = seq_reader_start[n]; i < seq_reader_start[n + 1]; ++i)
        pending[seq_readers[i] >> 6] |= uint64_t{1} << (seq_readers[i] & 63);
    }
  }
  ++cycles;
}

void GateSimulator::Impl::edge() {
  staged.clear();
  const uint32_t nff = static_cast<uint32_t>(ffs.size());
  for (size_t w = 0; w < pending.size(); ++w) {
    for (uint64_t bits = pending[w]; bits; bits &= bits - 1) {
      const uint32_t r =
          static_cast<uint32_t>(w * 64 + static_cast<size_t>(std::countr_zero(bits)));
      if (r >= nff) {
        const Ram& ram = rams[r - nff];
        read_ram_port(ram, ram.port[0]);
        read_ram_port(ram, ram.port[1]);
        continue;
      }
      const Ff& f = ffs[r];
      uint8_t q = value[f.q];
      if (value[f.sr] ^ f.sr_inv)
        q = f.sr_value;
      else if (value[f.ce])
        q = value[f.d] ^ f.d_inv;
      if (q != value[f.q]) staged.emplace_back(f.q, q);
    }
    pending[w] = 0;
  }
  for (Srl& s : srls) {
    if (!value[s.ce]) continue;
    const uint32_t next = ((s.state << 1) | value[s.d]) & s.mask;
    if (next == s.state) continue;
    s.state = next;
    schedule(static_cast<uint32_t>(s.read));
  }
  for (const auto& [net, v] : staged) write(net, v);
}

void GateSimulator::Impl::flush() {
  act.cycles = cycles;
  act.net_toggles.resize(static_cast<size_t>(nets));
  act.net_high.resize(static_cast<size_t>(nets));
  for (int n = 0; n < nets; ++n) {
    if (prev[n]) {
      high[n] += cycles - high_since[n];
      high_since[n] = cycles;
    }
    if (n == sink) continue;
    act.net_toggles[external[n]] = toggles[n];
    act.net_high[external[n]] = high[n];
  }
  // An enable's clocks at 1 are its cell's enabled edges (the edge uses the settled value).
  act.cell_enabled_edges.assign(cell_count, 0);
  for (size_t f = 0; f < ffs.size(); ++f) act.cell_enabled_edges[ff_cell[f]] = high[ffs[f].ce];
  for (size_t s = 0; s < srls.size(); ++s) act.cell_enabled_edges[srl_cell[s]] = high[srls[s].ce];
  for (const Ram& ram : rams)
    for (const RamPort& port : ram.port)
      if (port.dw > 0) act.cell_enabled_edges[ram.cell] += high[port.en];
}

GateSimulator::GateSimulator(const GateNetlist& netlist) : impl_(new Impl(netlist)) {}
GateSimulator::~GateSimulator() { delete impl_; }

int GateSimulator::port_width(const std::string& port) const {
  if (const auto it = impl_->in_ports.find(port); it != impl_->in_ports.end())
    return static_cast<int>(it->second.size());
  if (const auto it = impl_->out_ports.find(port); it != impl_->out_ports.end())
    return static_cast<int>(it->second.size());
  return 0;
}

namespace {

const std::vector<int>& find_port(const std::map<std::string, std::vector<int>>& inputs,
                                  const std::map<std::string, std::vector<int>>* outputs,
                                  const std::string& port) {
  if (const auto it = inputs.find(port); it != inputs.end()) return it->second;
  if (outputs)
    if (const auto it = outputs->find(port); it != outputs->end()) return it->second;
  throw Error(fmt::format("gate simulation: the design has no {} {}",
                          outputs ? "port" : "input port", port));
}

}  // namespace

void GateSimulator::set(const std::string& port, uint64_t value) {
  const auto& nets = find_port(impl_->in_ports, nullptr, port);
  for (size_t i = 0; i < nets.size(); ++i)
    impl_->write(nets[i], i < 64 ? static_cast<uint8_t>((value >> i) & 1) : 0);
}

void GateSimulator::set_bytes(const std::string& port, const uint8_t* bytes, size_t count) {
  const auto& nets = find_port(impl_->in_ports, nullptr, port);
  for (size_t i = 0; i < nets.size(); ++i)
    impl_->write(nets[i], i / 8 < count ? static_cast<uint8_t>((bytes[i / 8] >> (i % 8)) & 1) : 0);
}

uint64_t GateSimulator::get(const std::string& port) {
  const auto& nets = find_port(impl_->out_ports, &impl_->in_ports, port);
  impl_->settle();
  uint64_t out = 0;
  for (size_t i = 0; i < std::min<size_t>(nets.size(), 64); ++i)
    out |= uint64_t{impl_->value[nets[i]]} << i;
  return out;
}

void GateSimulator::get_bytes(const std::string& port, uint8_t* bytes, size_t count) {
  const auto& nets = find_port(impl_->out_ports, &impl_->in_ports, port);
  impl_->settle();
  std::fill(bytes, bytes + count, uint8_t{0});
  for (size_t i = 0; i < nets.size() && i / 8 < count; ++i)
    bytes[i / 8] |= static_cast<uint8_t>(impl_->value[nets[i]] << (i % 8));
}

void GateSimulator::clock() {
  impl_->settle();
  impl_->account();
  impl_->edge();
}

const GateActivity& GateSimulator::activity() const {
  impl_->flush();
  return impl_->act;
}

void GateSimulator::reset_activity() {
  impl_->cycles = 0;
  std::fill(impl_->toggles.begin(), impl_->toggles.end(), 0);
  std::fill(impl_->high.begin(), impl_->high.end(), 0);
  std::fill(impl_->high_since.begin(), impl_->high_since.end(), 0);
}

}  // namespace lutnet::power
