// Parsing Yosys output: cell counts from `stat -json`, LUT depth from a `write_json` netlist.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flows/synth.hpp"
#include "flows/verify.hpp"
#include "flows_test_util.hpp"

namespace lutnet::flows {
namespace {

using nlohmann::json;

TEST(LutDepth, CountsLutsBetweenRegistersThroughCarries) {
  // FF q -> LUT a -> LUT b -> CARRY4 -> LUT d -> FF; the port p -> LUT e path is shorter.
  const std::string blif = R"(# test
.model m
.inputs clk p
.outputs y
.names $false
.names $true
1
.subckt FDRE C=clk CE=$true D=n6 Q=n2 R=$false
.subckt LUT2 I0=n2 I1=$true O=n3
.subckt LUT2 I0=n3 I1=n2 O=n4
.subckt CARRY4 CI=$false CYINIT=$false DI[0]=n2 DI[1]=$false S[0]=n4 S[1]=$false \
 CO[0]=c0 CO[1]=c1 O[0]=o0 O[1]=o1
.subckt LUT2 I0=c1 I1=o0 O=n6
.subckt LUT1 I0=p O=y
.end

.model bb
.inputs a
.outputs b
.subckt mystery x=a y=b
.end
)";
  const auto depth = lut_depth_by_module(blif);
  EXPECT_EQ(depth.at("m"), 3);
  EXPECT_EQ(depth.at("bb"), 0);
}

TEST(LutDepth, RegistersAndBlackBoxesBreakPaths) {
  const std::string blif = R"(.model m
.inputs a
.outputs z
.subckt LUT1 I0=a O=b
.subckt FDRE C=clk D=b Q=c
.subckt lutnet_top_layer0 clk=clk x[0]=c y[0]=d
.subckt LUT1 I0=d O=e
.names e z
1 1
.end
)";
  EXPECT_EQ(lut_depth_by_module(blif).at("m"), 1);
}

TEST(StatJson, CellsByModule) {
  const json stat = json::parse(R"({"modules": {"\\top": {"num_cells": 5,
      "num_cells_by_type": {"LUT4": 3, "FDRE": 2}}, "\\sub": {"num_cells": 0}}})");
  const auto cells = cells_by_module(stat);
  EXPECT_EQ(cells.at("top").at("LUT4"), 3);
  EXPECT_EQ(cells.at("top").at("FDRE"), 2);
  EXPECT_TRUE(cells.at("sub").empty());
}

TEST(VivadoTcl, OutOfContextScriptForTheFamily) {
  const hdl::HdlDesign d = hdl::generate_verilog(test::tiny_model(1), {});
  const std::string tcl = vivado_tcl(d, "net.v", "xcu");
  EXPECT_THAT(tcl, ::testing::HasSubstr("set_part xcku115"));
  EXPECT_THAT(tcl, ::testing::HasSubstr("synth_design -top lutnet_top -mode out_of_context"));
  EXPECT_THAT(tcl, ::testing::HasSubstr("[file join $here net.v]"));
  EXPECT_THAT(vivado_tcl(d, "net.v", "xcup", "xcvu13p-fhga2104-2-e"),
              ::testing::HasSubstr("set_part xcvu13p-fhga2104-2-e"));
}

}  // namespace
}  // namespace lutnet::flows
