// `lutnet sweep` end to end on the tiny synthetic preset: grid points trained by the real
// schedule, synthesized, the report written; a second run loads every point.
#include "train/sweep_training.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/read_file.hpp"
#include "flows/subprocess.hpp"
#include "train_test_util.hpp"

namespace lutnet::train {
namespace {

namespace fs = std::filesystem;

TEST(SweepTraining, PointConfigsComeFromPresetBaseAndPoint) {
  const auto grid = flows::parse_sweep_grid(
      R"({"preset": "tiny", "base": {"seed": 5}, "axes": {"k": [3], "hidden": [[20]]}})", "g");
  SweepTrainingOptions options;
  options.threads = 2;
  const TrainConfig c = sweep_point_config(grid, grid.points[0], options);
  EXPECT_EQ(c.dataset, "synthetic");  // from the preset
  EXPECT_EQ(c.seed, 5u);
  EXPECT_EQ(c.k, 3);
  EXPECT_EQ(c.hidden, std::vector<int>{20});
  EXPECT_EQ(c.threads, 2);
  const auto bad = flows::parse_sweep_grid(R"({"points": [{"name": "p", "k": 9}]})", "g");
  try {
    sweep_point_config(bad, bad.points[0], options);
    FAIL() << "K = 9 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("point 'p'"), std::string::npos) << e.what();
  }
  const auto unknown = flows::parse_sweep_grid(R"({"points": [{"name": "p", "kk": 4}]})", "g");
  EXPECT_THROW(sweep_point_config(unknown, unknown.points[0], options), Error);
  for (const auto& name : flows::builtin_sweep_grid_names()) {
    const auto builtin = flows::builtin_sweep_grid(name);
    for (const auto& p : builtin.points)
      EXPECT_NO_THROW(sweep_point_config(builtin, p, options)) << name << " " << p.name;
  }
}

TEST(SweepTraining, TinyGridEndToEnd) {
  if (flows::find_program("yosys").empty()) GTEST_SKIP() << "yosys not found on PATH";
  const auto grid = flows::parse_sweep_grid(
      R"({"preset": "tiny",
          "base": {"bnn": {"epochs": 2}, "retrain": {"epochs": 1},
                   "lut_real": {"epochs": 1}, "lut_binary": {"epochs": 1}},
          "axes": {"keep_fraction": [[0.3]]}})",
      "tiny test grid");
  SweepTrainingOptions training;
  flows::SweepOptions options;
  options.out_dir = test::fresh_dir("sweep", "tiny");
  options.verify = flows::SweepVerify::kNone;  // flows' sweep test verifies fronts
  const auto train = [&](const flows::SweepGrid& g, const flows::SweepGridPoint& p,
                         const fs::path& dir) { return train_sweep_point(g, p, dir, training); };
  const auto first = flows::run_sweep(grid, train, options);
  ASSERT_EQ(first.points.size(), 2u);  // one point (Yosys dominates): its LUTNet and baseline
  for (const auto& p : first.points) {
    EXPECT_GT(p.test_accuracy, 0.3) << p.name << " " << p.kind;
    EXPECT_GT(p.luts, 0) << p.name << " " << p.kind;
    EXPECT_TRUE(fs::exists(p.model_path)) << p.model_path;
  }
  EXPECT_EQ(first.points[0].name, "keep0.3");
  EXPECT_EQ(first.points[0].kind, flows::kSweepLutnet);
  EXPECT_EQ(first.points[1].kind, flows::kSweepBaseline);
  EXPECT_LT(first.points[0].xnor_luts, first.points[1].xnor_luts);  // the baseline: all XNOR
  const auto report = nlohmann::json::parse(read_text_file(first.json_path, "sweep"));
  EXPECT_EQ(report.at("points").size(), 2u);
  const fs::path summary = options.out_dir / "points" / "keep0.3" / "summary.json";
  const auto stamp = fs::last_write_time(summary);
  const auto second = flows::run_sweep(grid, train, options);
  EXPECT_EQ(second.synthesized, 0u);
  EXPECT_EQ(fs::last_write_time(summary), stamp) << "a finished point was trained again";
  EXPECT_EQ(second.points, first.points);
  fs::remove_all(options.out_dir);
}

}  // namespace
}  // namespace lutnet::train
