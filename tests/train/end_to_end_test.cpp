// The whole schedule on tiny synthetic data: every stage, export, reference evaluation, the
// bit-exact check against the trained network, determinism and --resume.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/input_encoding.hpp"
#include "core/model_io.hpp"
#include "core/reference_evaluator.hpp"
#include "train/checkpoint.hpp"
#include "train/config.hpp"
#include "train/export_model.hpp"
#include "train/network_setup.hpp"
#include "train/trainer.hpp"
#include "train_test_util.hpp"

namespace lutnet::train {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) { return test::fresh_dir("e2e", name); }

// Rebuilds the trained network from the run's final checkpoint and compares every bit of every
// test image's layer outputs with the exported model's reference evaluation.
void expect_model_is_the_trained_network(const TrainConfig& config, const TrainResult& r,
                                         const Model& model) {
  const auto data = load_training_data(config);
  const auto enc = input_encoding(config, data.test.shape);
  Network net(enc.num_bits(), config.hidden, data.test.num_classes, config.levels, config.seed);
  load_checkpoint(r.checkpoint_path, net);
  const auto bits = (encode_images(data.test, enc) > 0).to(torch::kUInt8);
  const HardTrace hard = hard_forward(net, model, bits);
  size_t correct = 0;
  for (size_t i = 0; i < data.test.size(); ++i) {
    std::vector<LayerTrace> trace;
    const Prediction p = evaluate_reference(model, data.test.image(i), &trace);
    ASSERT_EQ(p.label, hard.labels[i].item<int64_t>()) << "test image " << i;
    for (size_t l = 0; l + 1 < model.layers.size(); ++l) {
      const auto expected = hard.bits[l][i].flatten();
      for (size_t b = 0; b < trace[l].output_bits.size(); ++b)
        ASSERT_EQ(trace[l].output_bits[b], expected[b].item<uint8_t>())
            << "test image " << i << " layer " << l << " bit " << b;
    }
    correct += p.label == data.test.labels[i];
  }
  EXPECT_DOUBLE_EQ(static_cast<double>(correct) / static_cast<double>(data.test.size()),
                   r.test_accuracy);
}

TEST(EndToEnd, TinyRunTrainsExportsAndMatchesBitForBit) {
  const TrainConfig config = preset("tiny");
  RunOptions options;
  options.out_dir = fresh_dir("main");
  const TrainResult r = run_training(config, options);
  ASSERT_TRUE(r.finished);
  EXPECT_GT(r.test_accuracy, 0.7) << "the tiny network did not learn the synthetic task";
  EXPECT_GT(r.baseline_test_accuracy, 0.6);

  // The model file on disk is what was evaluated.
  const Model model = load_model(r.model_path);
  EXPECT_EQ(model.layers[0].k, config.k);
  EXPECT_EQ(model.layers.back().k, 1);  // the output layer stays XNOR by default

  expect_model_is_the_trained_network(config, r, model);
  EXPECT_GE(r.hard_float_agreement, 0.99);

  // Same seed and config: the same files; a run killed inside the real-valued LUT stage and
  // resumed ends with them too.
  test::expect_reruns_reproduce(config, r, 7, "e2e");
  fs::remove_all(options.out_dir);
}

// Learned extra inputs: the run moves them away from the random permutations, the exported
// model is the trained network bit for bit, and a run killed inside the real-valued LUT stage
// (where the scores live in the checkpoint) resumes to the same bytes.
TEST(EndToEnd, TinyLearnedInputSelectionMovesInputsAndMatchesBitForBit) {
  TrainConfig config = preset("tiny");
  config.input_selection = "learned";
  RunOptions options;
  options.out_dir = fresh_dir("learned");
  const TrainResult r = run_training(config, options);
  ASSERT_TRUE(r.finished);
  EXPECT_GT(r.test_accuracy, 0.7) << "the tiny network did not learn the synthetic task";
  const Model model = load_model(r.model_path);
  expect_model_is_the_trained_network(config, r, model);

  const auto data = load_training_data(config);
  const auto enc = input_encoding(config, data.test.shape);
  Network random_net(enc.num_bits(), config.hidden, data.test.num_classes, config.levels,
                     config.seed);
  random_net.expand_to_luts(0, config.k, false, config.seed);
  Network learned_net(enc.num_bits(), config.hidden, data.test.num_classes, config.levels,
                      config.seed);
  load_checkpoint(r.checkpoint_path, learned_net);
  const auto& learned = learned_net.layers()[0];
  EXPECT_FALSE(learned.selection_scores.defined()) << "the choice was not fixed for export";
  const auto moved =
      (learned.wiring.perms != random_net.layers()[0].wiring.perms).sum().item<int64_t>();
  EXPECT_GT(moved, 0) << "no extra input moved from its random choice";

  test::expect_reruns_reproduce(config, r, 7, "e2e_learned");
  fs::remove_all(options.out_dir);
}

// Tiled hidden layers through every stage: a tied-mask baseline, tiled (5, 1) LUT layers, the
// exported tiling matching the trained network bit for bit, and resume.
TEST(EndToEnd, TinyTiledRunExportsTiledLayersAndMatchesBitForBit) {
  TrainConfig config = preset("tiny");
  config.tiles = parse_tile_spec("4x4");
  RunOptions options;
  options.out_dir = fresh_dir("tiled");
  const TrainResult r = run_training(config, options);
  ASSERT_TRUE(r.finished);
  EXPECT_GT(r.test_accuracy, 0.6) << "the tiny tiled network did not learn the synthetic task";
  const Model model = load_model(r.model_path);
  for (size_t l = 0; l + 1 < model.layers.size(); ++l) {
    ASSERT_TRUE(model.layers[l].tiling.enabled()) << "layer " << l;
    EXPECT_EQ(model.layers[l].tiling.k, 5);
    EXPECT_EQ(model.layers[l].tiling.n, 1);
    ASSERT_TRUE(r.baseline.layers[l].tiling.enabled()) << "baseline layer " << l;
    EXPECT_EQ(r.baseline.layers[l].tiling.k, 2);
  }
  EXPECT_FALSE(model.layers.back().tiling.enabled());
  const auto data = load_training_data(config);
  const auto enc = input_encoding(config, data.test.shape);
  Network net = make_network(config, enc, data.test.num_classes);
  load_checkpoint(r.checkpoint_path, net);
  const auto bits = (encode_images(data.test, enc) > 0).to(torch::kUInt8);
  const HardTrace hard = hard_forward(net, model, bits);
  for (size_t i = 0; i < data.test.size(); ++i) {
    std::vector<LayerTrace> trace;
    const Prediction p = evaluate_reference(model, data.test.image(i), &trace);
    ASSERT_EQ(p.label, hard.labels[i].item<int64_t>()) << "test image " << i;
    for (size_t l = 0; l + 1 < model.layers.size(); ++l)
      ASSERT_EQ(trace[l].accumulators,
                std::vector<int64_t>(
                    hard.accumulators[l][i].data_ptr<int64_t>(),
                    hard.accumulators[l][i].data_ptr<int64_t>() + model.layers[l].num_outputs))
          << "test image " << i << " layer " << l;
  }
  test::expect_reruns_reproduce(config, r, 7, "e2e-tiled");
  fs::remove_all(options.out_dir);
}

TEST(EndToEnd, ConfigErrorsNameTheField) {
  TrainConfig c = preset("tiny");
  c.k = 7;
  EXPECT_THROW(
      {
        try {
          validate(c);
        } catch (const std::exception& e) {
          EXPECT_NE(std::string(e.what()).find("k = 7"), std::string::npos) << e.what();
          throw;
        }
      },
      std::exception);
  EXPECT_THROW(config_from_json(R"({"kk": 3})", "cfg.json", c), std::exception);

  // input_selection: round trip, named when wrong, and absent from random-selection configs so
  // that their bytes (and finished sweep points) stay as they were.
  c = preset("tiny");
  EXPECT_EQ(config_to_json(c).find("input_selection"), std::string::npos);
  c.input_selection = "learned";
  EXPECT_EQ(config_from_json(config_to_json(c), "cfg.json", preset("tiny")).input_selection,
            "learned");
  c.input_selection = "greedy";
  try {
    validate(c);
    ADD_FAILURE() << "input_selection 'greedy' was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("input_selection 'greedy'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace lutnet::train
