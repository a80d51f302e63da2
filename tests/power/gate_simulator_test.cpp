// The gate simulator: toggles counted by hand, every primitive against its definition
// (cells_sim.v, integer arithmetic), the event-driven settle against a full re-evaluation, and
// real Yosys netlists against the Verilog they came from.
#include "power/gate_simulator.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "power/gate_netlist.hpp"

namespace lutnet::power {
namespace {

namespace fs = std::filesystem;

// A flat model "t" with the constants Yosys writes.
std::string flat(const std::string& inputs, const std::string& outputs, const std::string& body) {
  return ".model t\n.inputs " + inputs + "\n.outputs " + outputs +
         "\n.names $false\n.names $true\n1\n.names $undef\n" + body + ".end\n";
}

GateNetlist parse(const std::string& text, const std::string& top = "t") {
  return read_blif_design({{"t.blif", text}}, top);
}

// v as n binary digits, MSB first (how .param writes it).
std::string bits(uint64_t v, int n) {
  std::string s;
  for (int i = n - 1; i >= 0; --i) s += ((v >> i) & 1) ? '1' : '0';
  return s;
}

// "name[0] name[1] ..."
std::string bus(const std::string& name, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? " " : "") + name + "[" + std::to_string(i) + "]";
  return s;
}

int net_named(const GateNetlist& nl, const std::string& name) {
  const auto it = std::find(nl.net_names.begin(), nl.net_names.end(), name);
  if (it == nl.net_names.end()) ADD_FAILURE() << "no net " << name;
  return static_cast<int>(it - nl.net_names.begin());
}

std::string construct_error(const std::string& text) {
  try {
    const GateNetlist nl = parse(text);
    GateSimulator sim(nl);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Hand-counted toggles.

// A 2-bit counter of FDREs counting when en is 1 (CE), cleared by rst (R); y = q0 & q1.
const char* kCounter = R"(.model t
.inputs clk en rst
.outputs q[0] q[1] y
.names $false
.names $true
1
.subckt INV I=q[0] O=d0
.subckt LUT2 I0=q[0] I1=q[1] O=d1
.param INIT 0110
.subckt FDRE C=clk CE=en D=d0 Q=q[0] R=rst
.param INIT x
.subckt FDRE C=clk CE=en D=d1 Q=q[1] R=rst
.param INIT 0
.subckt LUT2 I0=q[0] I1=q[1] O=y
.param INIT 1000
.end
)";

TEST(GateSimulator, HandCountedCounter) {
  const GateNetlist nl = parse(kCounter);
  GateSimulator sim(nl);
  // Settled values per clock (s0: at construction), d0 = !q0, d1 = q0 ^ q1, y = q0 & q1:
  //   clock  en rst | q0 q1 d0 d1 y | edge
  //   s0     0  0   | 0  0  1  0  0 |
  //   1      1  0   | 0  0  1  0  0 | q = 01 (q0 = 1)
  //   2      1  0   | 1  0  0  1  0 | q0 = 0, q1 = 1
  //   3      0  0   | 0  1  1  1  0 | hold
  //   4      1  0   | 0  1  1  1  0 | q0 = 1, q1 = 1
  //   5      1  0   | 1  1  0  0  1 | q = 00
  //   6      1  0   | 0  0  1  0  0 | q0 = 1
  //   7      1  1   | 1  0  0  1  0 | reset
  //   8      0  0   | 0  0  1  0  0 | hold
  const int en[] = {1, 1, 0, 1, 1, 1, 1, 0};
  const int rst[] = {0, 0, 0, 0, 0, 0, 1, 0};
  const uint64_t q_after[] = {1, 2, 2, 3, 0, 1, 0, 0};
  for (int k = 0; k < 8; ++k) {
    sim.set("en", static_cast<uint64_t>(en[k]));
    sim.set("rst", static_cast<uint64_t>(rst[k]));
    sim.clock();
    EXPECT_EQ(sim.get("q"), q_after[k]) << "after clock " << k + 1;
    if (k == 3) {
      EXPECT_EQ(sim.activity().net_high[net_named(nl, "en")], 3u);  // clocks 1, 2, 4
    }
  }
  const GateActivity& a = sim.activity();
  EXPECT_EQ(a.cycles, 8u);
  struct Expect {
    const char* net;
    uint64_t toggles, high;
  };
  const Expect expect[] = {
      {"en", 4, 6},    // toggles at clocks 1, 3, 4, 8
      {"rst", 2, 1},   // 7, 8
      {"q[0]", 6, 3},  // 2, 3, 5, 6, 7, 8; high at 2, 5, 7
      {"q[1]", 2, 3},  // 3, 6; high at 3, 4, 5
      {"d0", 6, 5},    // like q0; high at 1, 3, 4, 6, 8
      {"d1", 4, 4},    // 2, 5, 7, 8; high at 2, 3, 4, 7
      {"y", 2, 1},     // 5, 6
      {"clk", 0, 0},  {"$true", 0, 8}, {"$false", 0, 0},
  };
  for (const Expect& e : expect) {
    EXPECT_EQ(a.net_toggles[net_named(nl, e.net)], e.toggles) << e.net;
    EXPECT_EQ(a.net_high[net_named(nl, e.net)], e.high) << e.net;
  }
  // Both flip-flops see en = 1 on 6 edges; the LUTs have no enable.
  EXPECT_EQ(a.cell_enabled_edges, (std::vector<uint64_t>{0, 0, 6, 6, 0}));

  // Counting again from zero: en stays 0, nothing moves; d0 = 1 and $true are high.
  sim.reset_activity();
  sim.set("en", 0);
  sim.clock();
  sim.clock();
  const GateActivity& b = sim.activity();
  EXPECT_EQ(b.cycles, 2u);
  for (size_t n = 0; n < nl.net_names.size(); ++n) EXPECT_EQ(b.net_toggles[n], 0u);
  EXPECT_EQ(b.net_high[net_named(nl, "d0")], 2u);
  EXPECT_EQ(b.net_high[nl.const1], 2u);
  EXPECT_EQ(b.net_high[net_named(nl, "q[0]")], 0u);
  EXPECT_EQ(b.cell_enabled_edges[2], 0u);
}

TEST(GateSimulator, InputsSetBeforeTheFirstClockToggleAtIt) {
  GateSimulator sim(parse(flat("a", "y", ".names a y\n1 1\n")));
  sim.set("a", 1);
  EXPECT_EQ(sim.get("y"), 1u);  // get settles but does not count
  sim.clock();
  EXPECT_EQ(sim.activity().net_toggles[0 + 2], 1u);  // nets: $false, $true, a, y
  EXPECT_EQ(sim.activity().net_toggles[3], 1u);
}

TEST(GateSimulator, Ports) {
  const GateNetlist nl = parse(flat(bus("x", 12) + " s", bus("y", 12) + " t", [] {
    std::string b;
    for (int i = 0; i < 12; ++i)
      b += ".names x[" + std::to_string(i) + "] y[" + std::to_string(i) + "]\n0 1\n";
    return b + ".names s t\n1 1\n";
  }()));
  GateSimulator sim(nl);
  EXPECT_EQ(sim.port_width("x"), 12);
  EXPECT_EQ(sim.port_width("t"), 1);
  EXPECT_EQ(sim.port_width("nothing"), 0);
  sim.set("x", 0x5a3);
  EXPECT_EQ(sim.get("y"), 0xa5cu);
  EXPECT_EQ(sim.get("x"), 0x5a3u);  // inputs read back too
  const uint8_t in[2] = {0x0f, 0x01};
  sim.set_bytes("x", in, 2);
  uint8_t out[2] = {0, 0};
  sim.get_bytes("y", out, 2);
  EXPECT_EQ(out[0], 0xf0);
  EXPECT_EQ(out[1], 0x0e);  // only 12 bits
  sim.set("s", 1);
  EXPECT_EQ(sim.get("t"), 1u);
  EXPECT_THROW(sim.set("y", 1), Error);  // an output
  EXPECT_THROW(sim.set("q", 1), Error);
  EXPECT_THROW(sim.get("q"), Error);
}

// ---------------------------------------------------------------------------------------------
// Primitives against their definitions.

TEST(GateSimulator, LutsWithRandomInits) {
  std::mt19937_64 rng(7);
  for (int n = 1; n <= 6; ++n)
    for (int trial = 0; trial < 4; ++trial) {
      const uint64_t init = rng() & (n == 6 ? ~uint64_t{0} : (uint64_t{1} << (1 << n)) - 1);
      std::string pins;
      for (int j = 0; j < n; ++j)
        pins += " I" + std::to_string(j) + "=i[" + std::to_string(j) + "]";
      GateSimulator sim(parse(flat(bus("i", n), "o",
                                   ".subckt LUT" + std::to_string(n) + pins + " O=o\n.param INIT " +
                                       bits(init, 1 << n) + "\n")));
      for (uint64_t idx = 0; idx < (uint64_t{1} << n); ++idx) {
        sim.set("i", idx);
        ASSERT_EQ(sim.get("o"), (init >> idx) & 1) << "LUT" << n << " idx " << idx;
      }
    }
}

TEST(GateSimulator, Lut62AndConstantCells) {
  const uint64_t init = 0x8f3e1c7a5b2d4e69ull;
  GateSimulator sim(parse(flat(bus("i", 6), "o6 o5 one zero",
                               ".subckt LUT6_2 I0=i[0] I1=i[1] I2=i[2] I3=i[3] I4=i[4] I5=i[5] "
                               "O6=o6 O5=o5\n.param INIT " +
                                   bits(init, 64) + "\n.subckt VCC P=one\n.subckt GND G=zero\n")));
  for (uint64_t idx = 0; idx < 64; ++idx) {
    sim.set("i", idx);
    ASSERT_EQ(sim.get("o6"), (init >> idx) & 1);
    ASSERT_EQ(sim.get("o5"), (init >> (idx & 31)) & 1);  // I5 unused: the lower half
  }
  EXPECT_EQ(sim.get("one"), 1u);
  EXPECT_EQ(sim.get("zero"), 0u);
}

TEST(GateSimulator, ShortInitsPadWithZeroAndXReadsZero) {
  GateSimulator sim(
      parse(flat(bus("i", 3), "o p",
                 ".subckt LUT3 I0=i[0] I1=i[1] I2=i[2] O=o\n.param INIT 10\n"
                 ".subckt LUT3 I0=i[0] I1=i[1] I2=i[2] O=p\n.param INIT x1xx1111\n")));
  for (uint64_t idx = 0; idx < 8; ++idx) {
    sim.set("i", idx);
    EXPECT_EQ(sim.get("o"), idx == 1 ? 1u : 0u) << idx;
    EXPECT_EQ(sim.get("p"), (0b01001111u >> idx) & 1) << idx;
  }
}

TEST(GateSimulator, MuxesInvBufAndCovers) {
  GateSimulator sim(
      parse(flat(bus("i", 8), "m7 m8 m9 inv buf on off wide",
                 ".subckt MUXF7 I0=i[0] I1=i[1] S=i[2] O=m7\n"
                 ".subckt MUXF8 I0=i[1] I1=i[0] S=i[3] O=m8\n"
                 ".subckt MUXF9 I0=i[2] I1=i[3] S=i[0] O=m9\n"
                 ".subckt INV I=i[4] O=inv\n.subckt BUF I=i[5] O=buf\n"
                 ".names i[0] i[1] i[2] on\n1-0 1\n011 1\n"
                 ".names i[0] i[1] off\n11 0\n"
                 ".names i[0] i[1] i[2] i[3] i[4] i[5] i[6] i[7] wide\n1------1 1\n-0101010 1\n")));
  for (uint64_t v = 0; v < 256; ++v) {
    sim.set("i", v);
    const auto b = [&](int j) { return (v >> j) & 1; };
    EXPECT_EQ(sim.get("m7"), b(2) ? b(1) : b(0));
    EXPECT_EQ(sim.get("m8"), b(3) ? b(0) : b(1));
    EXPECT_EQ(sim.get("m9"), b(0) ? b(3) : b(2));
    EXPECT_EQ(sim.get("inv"), 1 - b(4));
    EXPECT_EQ(sim.get("buf"), b(5));
    EXPECT_EQ(sim.get("on"), (b(0) && !b(2)) || (!b(0) && b(1) && b(2)) ? 1u : 0u);
    EXPECT_EQ(sim.get("off"), b(0) && b(1) ? 0u : 1u);
    const bool wide = (b(0) && b(7)) || (v >> 1) == 0b0101010;
    EXPECT_EQ(sim.get("wide"), wide ? 1u : 0u) << v;
  }
}

// An adder of width 4k from CARRY4s: S = a ^ b, DI = a, carry in on CYINIT of the first.
std::string carry4_adder(int k) {
  std::string b;
  for (int i = 0; i < 4 * k; ++i) {
    const std::string n = std::to_string(i);
    b += ".subckt LUT2 I0=a[" + n + "] I1=b[" + n + "] O=s[" + n + "]\n.param INIT 0110\n";
  }
  for (int c = 0; c < k; ++c) {
    b += ".subckt CARRY4 CI=" +
         (c == 0 ? std::string("$false") : "co[" + std::to_string(4 * c - 1) + "]") +
         " CYINIT=" + (c == 0 ? "cin" : "$false");
    for (int i = 0; i < 4; ++i) {
      const std::string n = std::to_string(4 * c + i), j = std::to_string(i);
      b += " DI[" + j + "]=a[" + n + "] S[" + j + "]=s[" + n + "] O[" + j + "]=o[" + n + "] CO[" +
           j + "]=co[" + n + "]";
    }
    b += "\n";
  }
  return flat(bus("a", 4 * k) + " " + bus("b", 4 * k) + " cin",
              bus("o", 4 * k) + " " + bus("co", 4 * k), b);
}

TEST(GateSimulator, Carry4ChainAdds) {
  GateSimulator sim(parse(carry4_adder(2)));
  std::mt19937_64 rng(3);
  for (int t = 0; t < 2000; ++t) {
    const uint64_t a = rng() & 0xff, b = rng() & 0xff, cin = rng() & 1;
    sim.set("a", a);
    sim.set("b", b);
    sim.set("cin", cin);
    const uint64_t sum = a + b + cin;
    ASSERT_EQ(sim.get("o"), sum & 0xff) << a << "+" << b << "+" << cin;
    ASSERT_EQ(sim.get("co") >> 7, sum >> 8);
    // CO[3] of the first CARRY4 is the carry out of the low nibble.
    ASSERT_EQ((sim.get("co") >> 3) & 1, ((a & 15) + (b & 15) + cin) >> 4);
  }
}

std::string carry8_adder(bool dual) {
  std::string b;
  for (int i = 0; i < 8; ++i) {
    const std::string n = std::to_string(i);
    b += ".subckt LUT2 I0=a[" + n + "] I1=b[" + n + "] O=s[" + n + "]\n.param INIT 0110\n";
  }
  b += ".subckt CARRY8 CI=cin CI_TOP=ctop";
  for (int i = 0; i < 8; ++i) {
    const std::string n = std::to_string(i);
    b += " DI[" + n + "]=b[" + n + "] S[" + n + "]=s[" + n + "] O[" + n + "]=o[" + n + "] CO[" + n +
         "]=co[" + n + "]";
  }
  b += std::string("\n.param CARRY_TYPE \"") + (dual ? "DUAL_CY4" : "SINGLE_CY8") + "\"\n";
  return flat(bus("a", 8) + " " + bus("b", 8) + " cin ctop", bus("o", 8) + " " + bus("co", 8), b);
}

TEST(GateSimulator, Carry8SingleAndDual) {
  GateSimulator single(parse(carry8_adder(false)));
  GateSimulator dual(parse(carry8_adder(true)));
  std::mt19937_64 rng(4);
  for (int t = 0; t < 2000; ++t) {
    const uint64_t a = rng() & 0xff, b = rng() & 0xff, cin = rng() & 1, ctop = rng() & 1;
    for (GateSimulator* sim : {&single, &dual}) {
      sim->set("a", a);
      sim->set("b", b);
      sim->set("cin", cin);
      sim->set("ctop", ctop);
    }
    const uint64_t sum = a + b + cin;
    ASSERT_EQ(single.get("o"), sum & 0xff);
    ASSERT_EQ(single.get("co") >> 7, sum >> 8);
    const uint64_t lo = (a & 15) + (b & 15) + cin, hi = (a >> 4) + (b >> 4) + ctop;
    ASSERT_EQ(dual.get("o"), (lo & 15) | ((hi & 15) << 4));
    ASSERT_EQ((dual.get("co") >> 3) & 1, lo >> 4);
    ASSERT_EQ(dual.get("co") >> 7, hi >> 4);
  }
}

struct FfCase {
  const char* type;
  const char* sr_pin;
  bool sets;
};

TEST(GateSimulator, FlipFlopsSetResetEnableAndInvertedPins) {
  const FfCase cases[] = {
      {"FDRE", "R", false}, {"FDSE", "S", true}, {"FDCE", "CLR", false}, {"FDPE", "PRE", true}};
  std::mt19937_64 rng(5);
  for (const FfCase& c : cases)
    for (int inv = 0; inv < 4; ++inv) {
      const bool d_inv = inv & 1, sr_inv = inv & 2;
      const std::string ff = std::string(".subckt ") + c.type + " C=clk CE=ce D=d " + c.sr_pin +
                             "=sr Q=q\n.param INIT x\n.param IS_D_INVERTED " + (d_inv ? "1" : "0") +
                             "\n.param IS_" + c.sr_pin + "_INVERTED " + (sr_inv ? "1" : "0") + "\n";
      // A second one with an explicit INIT opposite to the default, held by CE = 0.
      const std::string held = std::string(".subckt ") + c.type + " C=clk CE=$false D=d " +
                               c.sr_pin + "=$false Q=h\n.param INIT " + (c.sets ? "0" : "1") + "\n";
      GateSimulator sim(parse(flat("clk ce d sr", "q h", ff + held)));
      uint64_t q = c.sets ? 1 : 0;  // INIT x: the set/reset value
      uint64_t enabled = 0;
      for (int t = 0; t < 200; ++t) {
        ASSERT_EQ(sim.get("q"), q) << c.type << " inv " << inv << " t " << t;
        ASSERT_EQ(sim.get("h"), c.sets ? 0u : 1u);
        const uint64_t ce = rng() & 1, d = rng() & 1, sr = (rng() % 5) == 0;
        sim.set("ce", ce);
        sim.set("d", d);
        sim.set("sr", sr ^ sr_inv);
        sim.clock();
        enabled += ce;
        if (sr)
          q = c.sets;
        else if (ce)
          q = d ^ d_inv;
      }
      EXPECT_EQ(sim.activity().cell_enabled_edges[0], enabled);
      EXPECT_EQ(sim.activity().cell_enabled_edges[1], 0u);
    }
}

TEST(GateSimulator, InvertedClockIsAnError) {
  const std::string e = construct_error(
      flat("clk d", "q", ".subckt FDRE C=clk CE=$true D=d Q=q R=$false\n.param IS_C_INVERTED 1\n"));
  EXPECT_NE(e.find("IS_C_INVERTED"), std::string::npos) << e;
}

TEST(GateSimulator, Srl16eFixedTapDelays) {
  // A = 5: Q is the input of 6 enabled edges ago; INIT shifts out first.
  GateSimulator sim(parse(flat("clk ce d", "q",
                               ".subckt SRL16E A0=$true A1=$false A2=$true A3=$false CE=ce "
                               "CLK=clk D=d Q=q\n.param INIT 0000000000100000\n")));
  std::deque<int> r(16, 0);  // r[0] newest
  r[5] = 1;
  std::mt19937_64 rng(6);
  uint64_t enabled = 0;
  for (int t = 0; t < 300; ++t) {
    ASSERT_EQ(sim.get("q"), static_cast<uint64_t>(r[5])) << t;
    const int ce = (rng() % 4) != 0, d = rng() & 1;
    sim.set("ce", static_cast<uint64_t>(ce));
    sim.set("d", static_cast<uint64_t>(d));
    sim.clock();
    enabled += static_cast<uint64_t>(ce);
    if (ce) {
      r.push_front(d);
      r.pop_back();
    }
  }
  EXPECT_EQ(sim.activity().cell_enabled_edges[0], enabled);
}

TEST(GateSimulator, Srlc32eVariableTapAndQ31) {
  GateSimulator sim(parse(flat("clk d " + bus("a", 5), "q q31",
                               ".subckt SRLC32E A[0]=a[0] A[1]=a[1] A[2]=a[2] A[3]=a[3] A[4]=a[4] "
                               "CE=$true CLK=clk D=d Q=q Q31=q31\n.param INIT " +
                                   bits(0x80000001u, 32) + "\n")));
  uint32_t r = 0x80000001u;
  std::mt19937_64 rng(8);
  for (int t = 0; t < 300; ++t) {
    const uint32_t d = rng() & 1;
    sim.set("d", d);
    for (int k = 0; k < 3; ++k) {  // the tap is combinational
      const uint32_t a = rng() & 31;
      sim.set("a", a);
      ASSERT_EQ(sim.get("q"), (r >> a) & 1) << t;
      ASSERT_EQ(sim.get("q31"), r >> 31);
    }
    sim.clock();
    r = (r << 1) | d;
  }
}

// A RAMB18E2 read-only, port A 9 bits wide, port B 1 bit wide, with INIT_A and SRVAL_A.
std::string small_ram(const std::string& extra_pins, const std::string& extra_params) {
  std::string pins;
  for (int i = 0; i < 14; ++i) {
    const std::string n = std::to_string(i);
    pins += " ADDRARDADDR[" + n +
            "]=" + (i >= 3 && i < 6 ? "a[" + std::to_string(i - 3) + "]" : std::string("$false"));
    pins += " ADDRBWRADDR[" + n + "]=" + (i < 3 ? "b[" + n + "]" : std::string("$false"));
  }
  for (int i = 0; i < 8; ++i)
    pins += " DOUTADOUT[" + std::to_string(i) + "]=qa[" + std::to_string(i) + "]";
  pins += " DOUTPADOUTP[0]=qa[8] DOUTBDOUT[0]=qb";
  pins +=
      " CLKARDCLK=clk CLKBWRCLK=clk ENARDEN=ena ENBWREN=$true RSTRAMARSTRAM=rst "
      "RSTRAMB=$false WEA[0]=$false WEA[1]=$false WEBWE[0]=$false";
  // Data byte k = 16 * k + 1 (bits 8k..), parity bit k = k odd.
  std::string init(256, '0'), initp(256, '0');
  for (int k = 0; k < 32; ++k)
    for (int j = 0; j < 8; ++j) init[255 - (8 * k + j)] = (((16 * k + 1) >> j) & 1) ? '1' : '0';
  for (int k = 0; k < 256; ++k) initp[255 - k] = (k & 1) ? '1' : '0';
  return flat("clk ena rst " + bus("a", 3) + " " + bus("b", 3), bus("qa", 9) + " qb",
              ".subckt RAMB18E2" + pins + extra_pins +
                  "\n.param DOA_REG 0\n.param DOB_REG 0\n.param READ_WIDTH_A " + bits(9, 32) +
                  "\n.param READ_WIDTH_B " + bits(1, 32) + "\n.param INIT_A " + bits(0x155, 18) +
                  "\n.param SRVAL_A " + bits(0x1f0, 18) + "\n.param INIT_00 " + init +
                  "\n.param INITP_00 " + initp + extra_params + "\n");
}

TEST(GateSimulator, BlockRamReadEnableResetAndInitialOutput) {
  GateSimulator sim(parse(small_ram("", "")));
  EXPECT_EQ(sim.get("qa"), 0x155u);  // INIT_A
  EXPECT_EQ(sim.get("qb"), 0u);
  uint64_t qa = 0x155, qb = 0;
  std::mt19937_64 rng(9);
  for (int t = 0; t < 200; ++t) {
    const uint64_t a = rng() & 7, b = rng() & 7, en = (rng() % 3) != 0, rst = (rng() % 5) == 0;
    sim.set("a", a);
    sim.set("b", b);
    sim.set("ena", en);
    sim.set("rst", rst);
    sim.clock();
    if (en) qa = rst ? 0x1f0 : ((16 * a + 1) & 0xff) | ((a & 1) << 8);
    qb = (((16 * (b / 8) + 1) >> (b % 8)) & 1);  // bit b of the data
    ASSERT_EQ(sim.get("qa"), qa) << t;
    ASSERT_EQ(sim.get("qb"), qb) << t;
  }
  const GateActivity& act = sim.activity();
  EXPECT_EQ(act.cell_enabled_edges[0], act.net_high[3] + 200);  // ena's clocks + port B always
}

TEST(GateSimulator, UnsupportedBlockRamsAreErrors) {
  const auto e1 = construct_error(small_ram(" WEA[2]=ena", ""));
  EXPECT_NE(e1.find("RAMB18E2 (instance t) is written (WEA[2] is not constant 0)"),
            std::string::npos)
      << e1;
  const auto e2 = construct_error(small_ram(" CASDINA[0]=ena", ""));
  EXPECT_NE(e2.find("has cascade input CASDINA[0]"), std::string::npos) << e2;
  const auto e3 = construct_error(small_ram("", "\n.param CASCADE_ORDER_A \"FIRST\""));
  EXPECT_NE(e3.find("CASCADE_ORDER_A FIRST"), std::string::npos) << e3;
  std::string reg = small_ram("", "");
  reg.replace(reg.find(".param DOA_REG 0"), 16, ".param DOA_REG 1");
  EXPECT_NE(construct_error(reg).find("DOA_REG = 1"), std::string::npos);
}

TEST(GateSimulator, UnsupportedCellsLoopsAndPinsAreErrors) {
  EXPECT_EQ(construct_error(flat("a", "p", ".subckt DSP48E2 A[0]=a P[0]=p\n.cname _7_\n")),
            "gate simulation does not support cell type DSP48E2 (instance t, cell _7_)");
  const std::string hier =
      ".model t\n.inputs a\n.outputs p\n.subckt m a=a p=p\n.cname u_m\n.end\n"
      ".model m\n.inputs a\n.outputs p\n.subckt LDCE D=a G=a Q=p\n.end\n";
  EXPECT_EQ(construct_error(hier),
            "gate simulation does not support cell type LDCE (instance u_m)");
  const std::string loop = construct_error(flat(
      "a", "y",
      ".subckt LUT2 I0=a I1=n2 O=n1\n.param INIT 0110\n.subckt INV I=n1 O=n2\n.names n2 y\n1 1\n"));
  EXPECT_TRUE(loop == "gate simulation: combinational loop through net n1" ||
              loop == "gate simulation: combinational loop through net n2")
      << loop;
  // A loop through a flip-flop is not combinational.
  EXPECT_EQ(construct_error(flat("clk", "q",
                                 ".subckt INV I=q O=d\n"
                                 ".subckt FDRE C=clk CE=$true D=d Q=q R=$false\n")),
            "");
  EXPECT_NE(construct_error(flat("a", "o", ".subckt LUT1 I0=a I9=a O=o\n.param INIT 01\n"))
                .find("cell type LUT1 has no pin I9"),
            std::string::npos);
}

TEST(GateSimulator, OneClockFromATopInput) {
  const std::string two = construct_error(flat("clk clk2 d", "q r",
                                               ".subckt FDRE C=clk CE=$true D=d Q=q R=$false\n"
                                               ".subckt FDRE C=clk2 CE=$true D=d Q=r R=$false\n"));
  EXPECT_NE(two.find("supports one clock: FDRE (instance t) is clocked by clk2, FDRE (instance t) "
                     "by clk"),
            std::string::npos)
      << two;
  const std::string gated = construct_error(
      flat("clk en d", "q",
           ".subckt LUT2 I0=clk I1=en O=g\n.param INIT 1000\n"
           ".subckt SRL16E A0=$false A1=$false A2=$false A3=$false CE=$true CLK=g D=d Q=q\n"));
  EXPECT_NE(gated.find("one clock from a top input: SRL16E (instance t) is clocked by net g"),
            std::string::npos)
      << gated;
}

// ---------------------------------------------------------------------------------------------
// Event-driven settle and lazy counts against a plain full evaluation every clock.

struct RandomNetlist {
  std::string blif;
  int inputs = 0;
};

// LUTs, MUXF7s and CARRY4s in topological order over inputs, FF outputs and earlier outputs;
// FDREs with random enables and resets.
RandomNetlist random_netlist(uint64_t seed, int luts, int ffs, int inputs) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> pool;
  for (int i = 0; i < inputs; ++i) pool.push_back("in[" + std::to_string(i) + "]");
  for (int f = 0; f < ffs; ++f) pool.push_back("q" + std::to_string(f));
  pool.push_back("$false");
  pool.push_back("$true");
  // Mostly recent nets: deep logic, as in real designs.
  const auto pick = [&] {
    const size_t n = pool.size();
    if (rng() % 2) return pool[n - 1 - rng() % std::min<size_t>(n, 64)];
    return pool[rng() % n];
  };
  std::ostringstream b;
  for (int i = 0; i < luts; ++i) {
    const std::string o = "n" + std::to_string(i);
    const uint64_t kind = rng() % 20;
    if (kind == 0) {
      b << ".subckt CARRY4 CI=" << pick() << " CYINIT=" << pick();
      for (int j = 0; j < 4; ++j)
        b << " DI[" << j << "]=" << pick() << " S[" << j << "]=" << pick() << " O[" << j
          << "]=" << o << "o" << j << " CO[" << j << "]=" << o << "c" << j;
      b << "\n";
      for (int j = 0; j < 4; ++j) {
        pool.push_back(o + "o" + std::to_string(j));
        pool.push_back(o + "c" + std::to_string(j));
      }
      continue;
    }
    if (kind == 1) {
      b << ".subckt MUXF7 I0=" << pick() << " I1=" << pick() << " S=" << pick() << " O=" << o
        << "\n";
    } else {
      const int n = 1 + static_cast<int>(rng() % 6);
      b << ".subckt LUT" << n;
      for (int j = 0; j < n; ++j) b << " I" << j << "=" << pick();
      b << " O=" << o << "\n.param INIT " << bits(rng(), 1 << n) << "\n";
    }
    pool.push_back(o);
  }
  for (int f = 0; f < ffs; ++f) {
    const uint64_t ce = rng() % 3;
    b << ".subckt FDRE C=clk CE=" << (ce == 0 ? "$true" : pick()) << " D=" << pick() << " Q=q" << f
      << " R=" << (rng() % 4 == 0 ? pick() : "$false") << "\n.param INIT " << (rng() & 1) << "\n";
  }
  std::string outs;
  for (int i = 0; i < 8; ++i) outs += " o" + std::to_string(i);
  for (int i = 0; i < 8; ++i) b << ".names " << pick() << " o" << i << "\n1 1\n";
  return {flat("clk " + bus("in", inputs), outs.substr(1), b.str()), inputs};
}

// The obvious simulator: every cell every clock, in file order (topological here).
class FullSimulator {
 public:
  explicit FullSimulator(const GateNetlist& nl) : nl_(nl), v_(nl.net_names.size(), 0) {
    v_[nl.const1] = 1;
    for (const GateCell& c : nl.cells)
      if (c.type == "FDRE") v_[pin(c, "Q")] = c.params.at("INIT") == "1";
    settle();
    prev_ = v_;
    toggles.assign(v_.size(), 0);
    high.assign(v_.size(), 0);
    enabled.assign(nl.cells.size(), 0);
  }
  void set(int net, uint8_t value) { v_[net] = value; }
  void clock() {
    settle();
    for (size_t n = 0; n < v_.size(); ++n) {
      toggles[n] += v_[n] != prev_[n];
      high[n] += v_[n];
    }
    prev_ = v_;
    std::vector<std::pair<int, uint8_t>> next;
    for (size_t i = 0; i < nl_.cells.size(); ++i) {
      const GateCell& c = nl_.cells[i];
      if (c.type != "FDRE") continue;
      const uint8_t ce = v_[pin(c, "CE")];
      enabled[i] += ce;
      const int q = pin(c, "Q");
      next.emplace_back(q, v_[pin(c, "R")] ? 0 : ce ? v_[pin(c, "D")] : v_[q]);
    }
    for (const auto& [n, x] : next) v_[n] = x;
  }
  uint8_t value(int net) {
    settle();
    return v_[net];
  }
  std::vector<uint64_t> toggles, high, enabled;

 private:
  static int pin(const GateCell& c, const std::string& name) {
    for (const auto& [p, n] : c.pins)
      if (p == name) return n;
    return -1;
  }
  void settle() {
    for (const GateCell& c : nl_.cells) {
      const auto in = [&](const std::string& p) { return v_[pin(c, p)]; };
      if (c.type == "CARRY4") {
        uint8_t carry = in("CI") | in("CYINIT");
        for (int j = 0; j < 4; ++j) {
          // Appended, not "[" + ...: GCC 12 warns -Wrestrict on that form once inlined (unity).
          const std::string k = std::string(1, '[').append(std::to_string(j)).append("]");
          v_[pin(c, "O" + k)] = in("S" + k) ^ carry;
          carry = in("S" + k) ? carry : in("DI" + k);
          v_[pin(c, "CO" + k)] = carry;
        }
      } else if (c.type == "MUXF7") {
        v_[pin(c, "O")] = in("S") ? in("I1") : in("I0");
      } else if (c.type == "$names") {
        v_[pin(c, "O")] = in("I0");
      } else if (c.type != "FDRE") {
        const int n = c.type[3] - '0';
        size_t idx = 0;
        static const char* const kPins[] = {"I0", "I1", "I2", "I3", "I4", "I5"};
        for (int j = 0; j < n; ++j) idx |= size_t{in(kPins[j])} << j;
        const std::string& init = c.params.at("INIT");
        v_[pin(c, "O")] = init[init.size() - 1 - idx] == '1';
      }
    }
  }
  const GateNetlist& nl_;
  std::vector<uint8_t> v_, prev_;
};

TEST(GateSimulator, EventDrivenMatchesFullEvaluation) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    const RandomNetlist r = random_netlist(seed, 1500, 300, 16);
    const GateNetlist nl = parse(r.blif);
    GateSimulator sim(nl);
    FullSimulator full(nl);
    std::mt19937_64 rng(seed * 77);
    for (int t = 0; t < 400; ++t) {
      // Few inputs change most clocks, as in real designs; all of them sometimes.
      uint64_t in = sim.get("in");
      in ^= t % 50 == 0 ? rng() : (uint64_t{1} << (rng() % 16));
      in &= 0xffff;
      sim.set("in", in);
      for (int i = 0; i < 16; ++i)
        full.set(nl.inputs[static_cast<size_t>(i) + 1].second, (in >> i) & 1);
      if (t % 7 == 0)
        for (int o = 0; o < 8; ++o) {
          const int net = nl.outputs[static_cast<size_t>(o)].second;
          ASSERT_EQ(sim.get(nl.outputs[static_cast<size_t>(o)].first), full.value(net))
              << seed << " " << t;
        }
      sim.clock();
      full.clock();
      if (t == 200) {
        ASSERT_EQ(sim.activity().net_toggles, full.toggles);  // a read mid-run changes nothing
      }
    }
    const GateActivity& a = sim.activity();
    EXPECT_EQ(a.net_toggles, full.toggles) << seed;
    EXPECT_EQ(a.net_high, full.high) << seed;
    EXPECT_EQ(a.cell_enabled_edges, full.enabled) << seed;
  }
}

// Run by hand (--gtest_also_run_disabled_tests): the rate on 200k LUT6 + 50k FFs.
TEST(GateSimulator, DISABLED_ThroughputOnLargeRandomNetlist) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const RandomNetlist r = random_netlist(11, 200000, 50000, 64);
  const auto t1 = Clock::now();
  const GateNetlist nl = parse(r.blif);
  const auto t2 = Clock::now();
  GateSimulator sim(nl);
  const auto t3 = Clock::now();
  std::mt19937_64 rng(1);
  const int clocks = 200;
  for (int t = 0; t < clocks; ++t) {
    sim.set("in", rng());
    sim.clock();
  }
  const auto t4 = Clock::now();
  const auto s = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  uint64_t toggles = 0;
  for (uint64_t x : sim.activity().net_toggles) toggles += x;
  std::printf("BLIF %.1f MB generated %.2f s, read %.2f s, compiled %.2f s\n",
              static_cast<double>(r.blif.size()) / 1e6, s(t0, t1), s(t1, t2), s(t2, t3));
  std::printf(
      "%d clocks of %zu cells: %.2f s, %.0f clocks/s, %.1f M cell-clocks/s, "
      "%.1f%% of nets toggle per clock\n",
      clocks, nl.cells.size(), s(t3, t4), clocks / s(t3, t4),
      static_cast<double>(nl.cells.size()) * clocks / s(t3, t4) / 1e6,
      100.0 * static_cast<double>(toggles) / clocks / static_cast<double>(nl.net_names.size()));
}

// ---------------------------------------------------------------------------------------------
// Real Yosys netlists, synthesized the way lutnet synth does (no -flatten), against the Verilog.

bool on_path(const std::string& tool) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && ::access((fs::path(dir) / tool).c_str(), X_OK) == 0) return true;
  return false;
}

#define REQUIRE_YOSYS()                                                                          \
  do {                                                                                           \
    if (!on_path("yosys"))                                                                       \
      GTEST_SKIP() << "yosys not found on PATH: install it (apt-get install yosys) to run this " \
                      "test";                                                                    \
  } while (0)

class ScratchDir {
 public:
  ScratchDir() {
    static int count = 0;
    path_ = fs::temp_directory_path() /
            ("lutnet_gates_" + std::to_string(::getpid()) + "_" + std::to_string(count++));
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// One Yosys run of lutnet's flow over `verilog`: the BLIF text ("" and a failure if it fails).
std::string synthesize(const fs::path& dir, const std::string& stem, const std::string& verilog,
                       const std::string& top) {
  std::ofstream(dir / (stem + ".v")) << verilog;
  const std::string script = "read_verilog " + stem + ".v; synth_xilinx -family xcup -top " + top +
                             " -noiopad -noclkbuf; opt_clean -purge; rename -enumerate; " +
                             "write_blif -param -cname " + stem + ".blif";
  const std::string command = "cd '" + dir.string() + "' && yosys -q -l " + stem + ".log -p '" +
                              script + "' > " + stem + ".out 2>&1";
  if (std::system(command.c_str()) != 0) {
    ADD_FAILURE() << "yosys failed:\n" << read_all(dir / (stem + ".out"));
    return "";
  }
  return read_all(dir / (stem + ".blif"));
}

std::map<std::string, int> cell_counts(const GateNetlist& nl) {
  std::map<std::string, int> out;
  for (const GateCell& c : nl.cells) ++out[c.type];
  return out;
}

TEST(GateSimulatorYosys, RegisteredArithmeticAndWideLut) {
  REQUIRE_YOSYS();
  ScratchDir dir;
  std::mt19937_64 rng(21);
  const uint64_t tt[4] = {rng(), rng(), rng(), rng()};
  char table[80];
  std::snprintf(table, sizeof table, "256'h%016llx%016llx%016llx%016llx",
                static_cast<unsigned long long>(tt[3]), static_cast<unsigned long long>(tt[2]),
                static_cast<unsigned long long>(tt[1]), static_cast<unsigned long long>(tt[0]));
  const std::string verilog = std::string(R"(
module arith(input clk, input [7:0] a, input [7:0] b, input sub,
             output reg [8:0] s = 0, output reg [7:0] d = 0, output reg gt = 0,
             output reg f = 0, output reg [15:0] acc = 0);
  wire [255:0] tt = )") + table +
                              R"(;
  always @(posedge clk) begin
    s <= a + b;
    d <= sub ? a - b : a + 8'd77;
    gt <= a > b;
    f <= tt[a ^ {b[3:0], b[7:4]}];
    acc <= acc + {8'd0, a};
  end
endmodule
)";
  const GateNetlist nl = parse(synthesize(dir.path(), "arith", verilog, "arith"), "arith");
  const auto counts = cell_counts(nl);
  EXPECT_GT(counts.count("CARRY4") + counts.count("CARRY8"), 0u);
  EXPECT_GT(counts.count("MUXF7"), 0u);  // the 8-input table
  GateSimulator sim(nl);
  uint64_t s = 0, d = 0, gt = 0, f = 0, acc = 0;
  for (int t = 0; t < 500; ++t) {
    ASSERT_EQ(sim.get("s"), s) << t;
    ASSERT_EQ(sim.get("d"), d) << t;
    ASSERT_EQ(sim.get("gt"), gt) << t;
    ASSERT_EQ(sim.get("f"), f) << t;
    ASSERT_EQ(sim.get("acc"), acc) << t;
    const uint64_t a = rng() & 0xff, b = rng() & 0xff, sub = rng() & 1;
    sim.set("a", a);
    sim.set("b", b);
    sim.set("sub", sub);
    sim.clock();
    s = a + b;
    d = (sub ? a - b : a + 77) & 0xff;
    gt = a > b;
    const uint64_t idx = a ^ (((b & 15) << 4) | (b >> 4));
    f = (tt[idx / 64] >> (idx % 64)) & 1;
    acc = (acc + a) & 0xffff;
  }
}

TEST(GateSimulatorYosys, ShiftRegistersWithFixedAndVariableTaps) {
  REQUIRE_YOSYS();
  ScratchDir dir;
  const std::string verilog = R"(
module shifter(input clk, input en, input d, input [4:0] tap, input [1:0] x,
               output q, output [1:0] y);
  reg [31:0] r = 0;
  always @(posedge clk) if (en) r <= {r[30:0], d};
  assign q = r[tap];
  reg [17:0] dl = 0;
  always @(posedge clk) dl <= {dl[15:0], x};
  assign y = dl[17:16];
endmodule
)";
  const GateNetlist nl = parse(synthesize(dir.path(), "shifter", verilog, "shifter"), "shifter");
  const auto counts = cell_counts(nl);
  EXPECT_GT(counts.count("SRLC32E") + counts.count("SRL16E"), 0u) << "no SRL cells";
  GateSimulator sim(nl);
  std::mt19937_64 rng(22);
  uint32_t r = 0, dl = 0;
  for (int t = 0; t < 400; ++t) {
    const uint64_t en = rng() % 4 != 0, d = rng() & 1, x = rng() & 3;
    sim.set("en", en);
    sim.set("d", d);
    sim.set("x", x);
    for (int k = 0; k < 2; ++k) {
      const uint32_t tap = rng() & 31;
      sim.set("tap", tap);
      ASSERT_EQ(sim.get("q"), (r >> tap) & 1) << t;
    }
    ASSERT_EQ(sim.get("y"), (dl >> 16) & 3) << t;
    sim.clock();
    if (en) r = (r << 1) | static_cast<uint32_t>(d);
    dl = ((dl << 2) | static_cast<uint32_t>(x)) & 0x3ffff;
  }
}

// A read-only memory of the ROM test: width up to 72 bits, as two words.
struct Rom {
  Rom(int w, int d) : width(w), depth(d) {}
  int width, depth;
  bool reset = false;        // if (rst) q <= reset_value
  uint64_t reset_value = 0;  // (low 64 bits)
  uint64_t init_value = 0;   // the output register's initial value
  bool second_port = false;  // another read port on the same memory
  bool assignments = false;  // the contents as mem[i] = ... (lutnet's style), not $readmemh
  std::vector<std::pair<uint64_t, uint64_t>> words;
};

std::string hex(std::pair<uint64_t, uint64_t> w, int width) {
  char buf[40];
  if (width > 64)
    std::snprintf(buf, sizeof buf, "%llx%016llx", static_cast<unsigned long long>(w.second),
                  static_cast<unsigned long long>(w.first));
  else
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(w.first));
  return buf;
}

std::pair<uint64_t, uint64_t> random_word(std::mt19937_64& rng, int width) {
  const uint64_t lo = width >= 64 ? rng() : rng() & ((uint64_t{1} << width) - 1);
  const uint64_t hi = width > 64 ? rng() & ((uint64_t{1} << (width - 64)) - 1) : 0;
  return {lo, hi};
}

int address_bits(int depth) {
  int b = 1;
  while ((1 << b) < depth) ++b;
  return b;
}

std::string rom_verilog(std::vector<Rom>& roms, const fs::path& dir, std::mt19937_64& rng) {
  std::ostringstream ports, body;
  for (size_t i = 0; i < roms.size(); ++i) {
    Rom& r = roms[i];
    const int w = r.width, ab = address_bits(r.depth);
    for (int k = 0; k < r.depth; ++k) r.words.push_back(random_word(rng, w));
    ports << ", input [" << ab - 1 << ":0] a" << i << ", input en" << i << ", output [" << w - 1
          << ":0] q" << i;
    if (r.second_port)
      ports << ", input [" << ab - 1 << ":0] b" << i << ", input enb" << i << ", output [" << w - 1
            << ":0] p" << i;
    body << "  (* ram_style = \"block\" *) reg [" << w - 1 << ":0] rom" << i
         << " [0:" << r.depth - 1 << "];\n  initial begin\n";
    if (r.assignments) {
      for (int k = 0; k < r.depth; ++k)
        body << "    rom" << i << "[" << k << "] = " << w << "'h" << hex(r.words[k], w) << ";\n";
    } else {
      const fs::path file = dir / ("rom" + std::to_string(i) + ".hex");
      std::ofstream out(file);
      for (const auto& word : r.words) out << hex(word, w) << "\n";
      body << "    $readmemh(\"" << file.string() << "\", rom" << i << ");\n";
    }
    body << "  end\n  reg [" << w - 1 << ":0] r" << i << " = " << w << "'h"
         << hex({r.init_value, 0}, w) << ";\n  assign q" << i << " = r" << i << ";\n";
    body << "  always @(posedge clk)\n    ";
    if (r.reset)
      body << "if (rst) r" << i << " <= " << w << "'h" << hex({r.reset_value, 0}, w)
           << ";\n    else ";
    body << "if (en" << i << ") r" << i << " <= rom" << i << "[a" << i << "];\n";
    if (r.second_port)
      body << "  reg [" << w - 1 << ":0] s" << i << " = 0;\n  assign p" << i << " = s" << i
           << ";\n  always @(posedge clk) if (enb" << i << ") s" << i << " <= rom" << i << "[b" << i
           << "];\n";
  }
  return "module roms(input clk, input rst" + ports.str() + ");\n" + body.str() + "endmodule\n";
}

std::pair<uint64_t, uint64_t> get_word(GateSimulator& sim, const std::string& port) {
  uint8_t b[16] = {};
  sim.get_bytes(port, b, sizeof b);
  uint64_t lo = 0, hi = 0;
  for (int i = 0; i < 8; ++i) lo |= uint64_t{b[i]} << (8 * i);
  for (int i = 0; i < 8; ++i) hi |= uint64_t{b[8 + i]} << (8 * i);
  return {lo, hi};
}

// Simulates the ROMs on random addresses, enables and resets against their contents.
void check_roms(const GateNetlist& nl, const std::vector<Rom>& roms, std::mt19937_64& rng) {
  GateSimulator sim(nl);
  using Word = std::pair<uint64_t, uint64_t>;
  std::vector<Word> q(roms.size()), p(roms.size());
  for (size_t i = 0; i < roms.size(); ++i) q[i] = {roms[i].init_value, 0};
  for (int t = 0; t < 300; ++t) {
    for (size_t i = 0; i < roms.size(); ++i) {
      const std::string n = std::to_string(i);
      ASSERT_EQ(get_word(sim, "q" + n), q[i]) << "rom " << i << " clock " << t;
      if (roms[i].second_port) {
        ASSERT_EQ(get_word(sim, "p" + n), p[i]) << "rom " << i << " B";
      }
    }
    const bool rst = rng() % 10 == 0;
    sim.set("rst", rst);
    for (size_t i = 0; i < roms.size(); ++i) {
      const Rom& r = roms[i];
      const std::string n = std::to_string(i);
      const uint64_t a = rng() % static_cast<uint64_t>(r.depth), en = rng() % 4 != 0;
      sim.set("a" + n, a);
      sim.set("en" + n, en);
      if (r.reset && rst)
        q[i] = {r.reset_value, 0};
      else if (en)
        q[i] = r.words[a];
      if (r.second_port) {
        const uint64_t b = rng() % static_cast<uint64_t>(r.depth), enb = rng() % 2;
        sim.set("b" + n, b);
        sim.set("enb" + n, enb);
        if (enb) p[i] = r.words[b];
      }
    }
    sim.clock();
  }
  // Every block RAM counts its enabled reads.
  const GateActivity& act = sim.activity();
  for (size_t c = 0; c < nl.cells.size(); ++c)
    if (nl.cells[c].type.rfind("RAMB", 0) == 0) {
      EXPECT_GT(act.cell_enabled_edges[c], 0u);
    }
}

// (type, READ_WIDTH_A) of every block RAM.
std::multiset<std::pair<std::string, int>> ram_shapes(const GateNetlist& nl) {
  std::multiset<std::pair<std::string, int>> out;
  for (const GateCell& c : nl.cells)
    if (c.type.rfind("RAMB", 0) == 0) {
      int w = 0;
      for (char ch : c.params.at("READ_WIDTH_A")) w = 2 * w + (ch == '1');
      out.emplace(c.type, w);
    }
  return out;
}

TEST(GateSimulatorYosys, BlockRomsOneBramEachWidth) {
  REQUIRE_YOSYS();
  ScratchDir dir;
  std::mt19937_64 rng(23);
  std::vector<Rom> roms = {{1, 16384}, {2, 8192},  {4, 4096}, {9, 2048}, {18, 1024},
                           {36, 512},  {36, 1024}, {72, 512}, {1, 32768}};
  const GateNetlist nl =
      parse(synthesize(dir.path(), "roms", rom_verilog(roms, dir.path(), rng), "roms"), "roms");
  const std::multiset<std::pair<std::string, int>> expect = {
      {"RAMB18E2", 1},  {"RAMB18E2", 2},  {"RAMB18E2", 4},  {"RAMB18E2", 9}, {"RAMB18E2", 18},
      {"RAMB18E2", 36}, {"RAMB36E2", 36}, {"RAMB36E2", 72}, {"RAMB36E2", 1}};
  EXPECT_EQ(ram_shapes(nl), expect);  // SDP: 36 on a RAMB18E2, 72 on a RAMB36E2
  check_roms(nl, roms, rng);
}

TEST(GateSimulatorYosys, BlockRomsSplitResetInitialValueAndTwoPorts) {
  REQUIRE_YOSYS();
  ScratchDir dir;
  std::mt19937_64 rng(24);
  std::vector<Rom> roms = {{1, 65536}, {72, 1024}, {9, 2048}, {18, 1024},
                           {5, 300},   {12, 64},   {36, 512}, {72, 512}};
  roms[2].reset = true;
  roms[2].reset_value = 0x1a5;
  roms[2].init_value = 0x0f3;
  roms[3].second_port = true;
  roms[3].init_value = 0x2b3c5;
  roms[4].reset = true;
  roms[4].reset_value = 0x16;
  roms[5].assignments = true;
  // SDP: the initial and reset values in two halves (INIT_A/B, SRVAL_A/B).
  for (int i : {6, 7}) {
    roms[i].reset = true;
    roms[i].reset_value = 0x9876543210fedcbaull >> (i == 6 ? 28 : 0);
    roms[i].init_value = 0x0123456789abcdefull >> (i == 6 ? 28 : 0);
  }
  const GateNetlist nl =
      parse(synthesize(dir.path(), "roms", rom_verilog(roms, dir.path(), rng), "roms"), "roms");
  const auto shapes = ram_shapes(nl);
  // One block RAM per memory, two for 64K x 1 (in depth: a mux on the registered address
  // bit) and for 1K x 72 (in width).
  EXPECT_GE(shapes.size(), 10u);
  check_roms(nl, roms, rng);
}

// lutnet's flow: the layer module alone, then the top with the layer as a black box.
TEST(GateSimulatorYosys, HierarchyFromSeparateRuns) {
  REQUIRE_YOSYS();
  ScratchDir dir;
  const std::string layer = R"(
module layer(input clk, input [5:0] x, output reg [3:0] y = 0);
  always @(posedge clk) y <= {^x[5:3], x[0] & x[1] | x[2], x[3:2] + x[5:4]};
endmodule
)";
  const std::string top = R"(
(* blackbox *)
module layer(input clk, input [5:0] x, output reg [3:0] y);
endmodule
module top(input clk, input [5:0] in, output [3:0] out, output [3:0] mid);
  wire [3:0] h;
  layer u_l0(.clk(clk), .x(in), .y(h));
  layer u_l1(.clk(clk), .x({h[1:0] ^ in[1:0], h}), .y(out));
  assign mid = ~h;
endmodule
)";
  const std::string layer_blif = synthesize(dir.path(), "layer", layer, "layer");
  const std::string top_blif = synthesize(dir.path(), "top", top, "top");
  EXPECT_NE(top_blif.find(".subckt layer"), std::string::npos);
  EXPECT_EQ(top_blif.find(".model layer"), std::string::npos);
  const GateNetlist nl =
      read_blif_design({{"top.blif", top_blif}, {"layer.blif", layer_blif}}, "top");
  nl.check();
  ASSERT_EQ(nl.instances.size(), 3u);
  EXPECT_EQ(nl.instances[1].path, "u_l0");
  EXPECT_EQ(nl.instances[2].path, "u_l1");
  EXPECT_EQ(nl.instances[2].module, "layer");
  for (const GateCell& c : nl.cells) EXPECT_NE(c.type, "layer");
  const auto f = [](uint64_t x) {
    const auto bit = [&](int i) { return (x >> i) & 1; };
    const uint64_t parity = bit(3) ^ bit(4) ^ bit(5);
    const uint64_t logic = (bit(0) & bit(1)) | bit(2);
    const uint64_t sum = (((x >> 2) & 3) + ((x >> 4) & 3)) & 3;
    return (parity << 3) | (logic << 2) | sum;
  };
  GateSimulator sim(nl);
  std::mt19937_64 rng(25);
  uint64_t h = 0, out = 0;
  for (int t = 0; t < 300; ++t) {
    ASSERT_EQ(sim.get("out"), out) << t;
    ASSERT_EQ(sim.get("mid"), ~h & 15) << t;
    const uint64_t in = rng() & 63;
    sim.set("in", in);
    sim.clock();
    out = f(((((h & 3) ^ (in & 3)) << 4) | h));
    h = f(in);
  }
}

}  // namespace
}  // namespace lutnet::power
