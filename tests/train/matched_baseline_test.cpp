// The baseline at matched accuracy: candidates by keep multiple, chosen on validation only,
// reused when finished, and named errors for bad scales.
#include "train/matched_baseline.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.hpp"
#include "core/model_io.hpp"
#include "train/config.hpp"
#include "train/trainer.hpp"
#include "train_test_util.hpp"

namespace lutnet::train {
namespace {

namespace fs = std::filesystem;

int64_t connections(const Model& m) {
  int64_t n = 0;
  for (const auto& layer : m.layers) n += static_cast<int64_t>(layer.num_connections());
  return n;
}

TEST(MatchedBaseline, ChoosesTheFirstCandidateWithinToleranceAndReusesFinishedOnes) {
  TrainConfig config = preset("tiny");
  config.lut_real.epochs = 1;
  config.lut_binary.epochs = 1;
  RunOptions run;
  run.out_dir = test::fresh_dir("matched", "run");
  ASSERT_TRUE(run_training(config, run).finished);

  MatchedBaselineOptions options;
  options.keep_scales = {1, 2};
  options.tolerance = 1.0;  // any accuracy matches: the run's own baseline, nothing trained
  const MatchedBaseline own = train_matched_baseline(config, run.out_dir, options);
  EXPECT_TRUE(own.matched);
  EXPECT_EQ(own.keep_scale, 1);
  EXPECT_EQ(own.model_path, run.out_dir / "baseline.json");
  EXPECT_FALSE(fs::exists(run.out_dir / "baseline-keep-x2"));

  options.tolerance = -1.0;  // nothing matches: every candidate trains, the best is chosen
  const MatchedBaseline best = train_matched_baseline(config, run.out_dir, options);
  EXPECT_FALSE(best.matched);
  const fs::path candidate = run.out_dir / "baseline-keep-x2" / "baseline.json";
  ASSERT_TRUE(fs::exists(candidate));
  EXPECT_FALSE(fs::exists(run.out_dir / "baseline-keep-x2" / "model.json"));  // baseline only
  EXPECT_NE(best.explanation.find("no keep multiple"), std::string::npos) << best.explanation;
  EXPECT_GT(connections(load_model(candidate)), connections(load_model(own.model_path)));
  ASSERT_EQ(best.keep.size(), static_cast<size_t>(num_layers(config)));
  EXPECT_DOUBLE_EQ(best.keep.front(), std::min(1.0, 2 * config.keep_fraction.front()));
  EXPECT_DOUBLE_EQ(best.keep.back(), 1.0);  // the output layer keeps its own

  // A finished candidate of the same config is reused, not trained again.
  const auto written = fs::last_write_time(candidate);
  train_matched_baseline(config, run.out_dir, options);
  EXPECT_EQ(fs::last_write_time(candidate), written);
  fs::remove_all(run.out_dir);
}

TEST(MatchedBaseline, ScalesMustIncrease) {
  MatchedBaselineOptions options;
  options.keep_scales = {2, 1};
  try {
    train_matched_baseline(preset("tiny"), "no-such-run", options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("entry 2"), std::string::npos) << e.what();
  }
}

// Every preset is a valid config that survives its JSON round trip; the demo (lutnet flow's
// default) is the results/mnist-frontier point docs/hardware.md names: 128-128, keep 3% / 20%,
// learned inputs, a decayed 20/5/3/6 schedule, with candidates up to x8 its keep.
TEST(MatchedBaseline, PresetsAreValidAndTheDemoIsTheDocumentedPoint) {
  for (const auto& name : preset_names()) {
    const TrainConfig c = preset(name);
    validate(c);
    EXPECT_EQ(config_to_json(config_from_json(config_to_json(c), name, TrainConfig{})),
              config_to_json(c))
        << name;
  }
  const TrainConfig demo = preset("demo");
  EXPECT_EQ(demo.hidden, (std::vector<int>{128, 128}));
  EXPECT_EQ(keep_fractions(demo), (std::vector<double>{0.03, 0.2, 1}));
  EXPECT_EQ(demo.input_selection, "learned");
  EXPECT_EQ(demo.bnn.epochs + demo.retrain.epochs + demo.lut_real.epochs + demo.lut_binary.epochs,
            34);
  EXPECT_EQ(MatchedBaselineOptions{}.keep_scales.back(), 8);
}

}  // namespace
}  // namespace lutnet::train
