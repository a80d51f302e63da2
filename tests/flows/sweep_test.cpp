// lutnet sweep's loop (flows/sweep.hpp) with a stand-in for training: random models of two sizes
// per point, so the test needs Yosys and Verilator but no LibTorch.
#include "flows/sweep.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/lut_function.hpp"
#include "core/model_io.hpp"
#include "flows_test_util.hpp"

namespace lutnet::test {
namespace {

namespace fs = std::filesystem;
using flows::SweepGrid;
using flows::SweepGridPoint;

Model point_model(double keep, int k, uint64_t seed) {
  RandomModelSpec spec;
  spec.input_shape = {1, 4, 4};
  spec.hidden = {6};
  spec.num_classes = 4;
  spec.k = k;
  spec.keep_fraction = keep;
  spec.seed = seed;
  return make_random_model(spec);
}

// Writes a LUTNet model (K = 4) and a baseline (K = 1) whose size follows the point's keep
// fraction. LUTNet's accuracy rises with it (both points on its front), the baseline's falls (the
// larger baseline is dominated: not verified with --verify front).
struct FakeTraining {
  int calls = 0;
  flows::TrainedPoint operator()(const SweepGrid&, const SweepGridPoint& p, const fs::path& dir) {
    ++calls;
    const double keep = p.overrides.at("keep_fraction").at(0).get<double>();
    fs::create_directories(dir);
    const Model lutnet = point_model(keep, 4, 3), baseline = point_model(keep, 1, 4);
    flows::TrainedPoint t;
    t.lutnet_model = dir / "model.json";
    t.baseline_model = dir / "baseline.json";
    write_file_atomically(t.lutnet_model, model_to_json(lutnet));
    write_file_atomically(t.baseline_model, model_to_json(baseline));
    t.lutnet_test_accuracy = 0.5 + keep / 2;
    t.baseline_test_accuracy = 0.9 - keep / 2;
    t.test = random_images(lutnet, 40, 5);
    t.command = "fake " + p.name;
    return t;
  }
};

TEST(SweepGrid, ExpandsAxesAndListedPoints) {
  const SweepGrid g = flows::parse_sweep_grid(
      R"({"preset": "tiny", "base": {"seed": 3},
          "axes": {"k": [4, 6], "keep_fraction": [[0.1, 1], [0.2, 1]]},
          "points": [{"name": "wide", "hidden": [64]}, {"input_bits": 2}]})",
      "grid.json");
  EXPECT_EQ(g.preset, "tiny");
  EXPECT_EQ(g.base.at("seed"), 3);
  ASSERT_EQ(g.points.size(), 6u);
  EXPECT_EQ(g.points[0].name, "k4-keep0.1_1");
  EXPECT_EQ(g.points[3].name, "k6-keep0.2_1");
  EXPECT_EQ(g.points[3].overrides.at("k"), 6);
  EXPECT_EQ(g.points[4].name, "wide");
  EXPECT_FALSE(g.points[4].overrides.contains("name"));
  EXPECT_EQ(g.points[5].name, "bits2");
  for (const auto& name : flows::builtin_sweep_grid_names())
    EXPECT_FALSE(flows::builtin_sweep_grid(name).points.empty()) << name;
}

TEST(SweepGrid, ErrorsNameTheSourceAndEntry) {
  auto message = [](const std::string& text) {
    try {
      flows::parse_sweep_grid(text, "my.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("{").find("my.json"), std::string::npos);
  EXPECT_NE(message(R"({"axis": {}})").find("unknown key 'axis'"), std::string::npos);
  EXPECT_NE(message(R"({"axes": {"k": []}})").find("axis 'k'"), std::string::npos);
  EXPECT_NE(message(R"({"points": [{"name": "a"}, {"name": "a"}]})").find("two points"),
            std::string::npos);
  EXPECT_NE(message(R"({"points": [{"name": "../x"}]})").find("'../x'"), std::string::npos);
  EXPECT_NE(message(R"({"preset": "tiny"})").find("no points"), std::string::npos);
  EXPECT_THROW(flows::builtin_sweep_grid("huge"), Error);
  EXPECT_THROW(flows::parse_sweep_verify("some"), Error);
}

TEST(Sweep, PlainXnorLutsCountsTablesOfAtMostOneInput) {
  Model m = point_model(0.5, 4, 7);
  const int64_t total = flows::learned_tables(m);
  EXPECT_GT(total, 0);
  for (auto& l : m.layers)
    for (auto& t : l.tables) t = 0xAAAA;  // input 0 only: an XNOR connection
  EXPECT_EQ(flows::plain_xnor_luts(m), total);
  m.layers[0].tables[0] = 0x6996;  // the parity of all four inputs
  EXPECT_EQ(flows::plain_xnor_luts(m), total - 1);
  EXPECT_EQ(flows::plain_xnor_luts(point_model(0.5, 1, 7)), total);
}

// Point "a" goes through Yosys and Verilator; point "b" comes with its hardware.json already
// written (as a killed sweep leaves it), with designs the fronts dominate: loaded, not
// synthesized, not verified.
TEST(Sweep, TrainsSynthesizesVerifiesFrontsAndResumes) {
  LUTNET_REQUIRE_TOOL("yosys");
  LUTNET_REQUIRE_TOOL("verilator");
  const fs::path out = fs::temp_directory_path() / "lutnet_sweep_test";
  fs::remove_all(out);
  const SweepGrid grid = flows::parse_sweep_grid(
      R"({"points": [{"name": "a", "keep_fraction": [0.3]}, {"name": "b", "keep_fraction": [0.8]}]})",
      "test grid");
  flows::SweepOptions options;
  options.out_dir = out;
  options.verify_jobs = 2;
  FakeTraining fake;
  const flows::TrainPointFn train = std::ref(fake);
  std::vector<flows::SweepPoint> b(2);
  for (size_t i = 0; i < 2; ++i) {
    b[i].name = "b";
    b[i].kind = i == 0 ? flows::kSweepLutnet : flows::kSweepBaseline;
    b[i].test_accuracy = 0.1;
    b[i].luts = 1000000;
    b[i].model_path = (out / "points" / "b" / (i == 0 ? "model.json" : "baseline.json")).string();
  }
  fs::create_directories(out / "points" / "b");
  write_file_atomically(out / "points" / "b" / "hardware.json", flows::sweep_to_json(b, {}).dump());
  const auto first = flows::run_sweep(grid, train, options);
  ASSERT_EQ(first.points.size(), 4u);
  EXPECT_EQ(first.synthesized, 2u);
  EXPECT_EQ(first.verified, 2u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_GT(first.points[i].luts, 0) << i;
    EXPECT_EQ(first.points[i].verified, i < 2) << i;
  }
  EXPECT_EQ(first.points[0].kind, flows::kSweepLutnet);
  EXPECT_EQ(first.points[1].kind, flows::kSweepBaseline);
  EXPECT_EQ(first.points[2].luts, 1000000);
  EXPECT_GT(first.points[1].tables, 0);
  EXPECT_EQ(first.points[1].xnor_luts, first.points[1].tables);  // a baseline is XNORs only
  EXPECT_EQ(first.points[1].tables, flows::learned_tables(load_model(first.points[1].model_path)));
  EXPECT_TRUE(fs::exists(out / "points" / "a" / "verify-lutnet.json"));
  EXPECT_FALSE(fs::exists(out / "points" / "b" / "verify-lutnet.json"));
  for (const auto& f : {first.json_path, first.svg_path, first.html_path})
    EXPECT_TRUE(fs::exists(f)) << f;
  // A second run trains (loads) each point again but synthesizes and verifies nothing.
  const auto second = flows::run_sweep(grid, train, options);
  EXPECT_EQ(second.synthesized, 0u);
  EXPECT_EQ(second.verified, 0u);
  EXPECT_EQ(second.points, first.points);
  fs::remove_all(out);
}

}  // namespace
}  // namespace lutnet::test
