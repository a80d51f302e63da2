#pragma once
// Helpers shared by the training tests: random LUT wirings, awkward but valid network parameters,
// file bytes, a fresh per-process temporary directory, and the reproducibility check of a finished
// run.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/input_encoding.hpp"
#include "train/lut_dense_function.hpp"
#include "train/network.hpp"
#include "train/trainer.hpp"

namespace lutnet::train::test {

// A random LUT wiring: conn_input and conn_output drawn with repeats, perms[0] the identity and
// K - 1 random permutations.
inline LutWiring random_wiring(int64_t n_in, int64_t n_out, int64_t conns, int64_t k,
                               uint64_t seed) {
  torch::manual_seed(seed);
  LutWiring w;
  w.conn_input = torch::randint(0, n_in, {conns}, torch::kInt32);
  w.conn_output = torch::randint(0, n_out, {conns}, torch::kInt32);
  std::vector<torch::Tensor> rows = {torch::arange(n_in, torch::kInt32)};
  for (int64_t j = 1; j < k; ++j) rows.push_back(torch::randperm(n_in, torch::kInt32));
  w.perms = torch::stack(rows);
  w.num_outputs = n_out;
  return w;
}

// Random latent weights and batch-norm statistics with negative scales, so that export sees
// every sign case; level magnitudes 0.8 / 0.41 for two levels.
inline void randomize_parameters(Network& net, int levels) {
  torch::NoGradGuard no_grad;
  for (auto& layer : net.layers()) {
    layer.weight.uniform_(-1, 1);
    layer.gamma.fill_(0.37);
    if (layer.is_output) continue;
    layer.bn_weight.normal_(0, 1);
    layer.bn_bias.normal_(0, 0.5);
    layer.running_mean.normal_(0, 2);
    layer.running_var.uniform_(0.5, 3);
    if (levels == 2) layer.level_magnitudes.copy_(torch::tensor({0.8f, 0.41f}));
  }
}

// Random 8-bit images and their encoded input bits, as the model's input stage sees them.
struct EncodedImages {
  std::vector<uint8_t> pixels;
  torch::Tensor bits;  // uint8 [B, N0]
};

inline EncodedImages random_encoded_images(const InputEncoding& enc, int count, uint64_t seed) {
  EncodedImages in;
  std::mt19937_64 rng(seed);
  in.pixels.resize(static_cast<size_t>(count) * enc.num_pixels());
  for (auto& p : in.pixels) p = static_cast<uint8_t>(rng());
  in.bits = torch::empty({count, enc.num_bits()}, torch::kUInt8);
  for (int i = 0; i < count; ++i)
    encode_input(enc, in.pixels.data() + static_cast<size_t>(i) * enc.num_pixels(),
                 in.bits[i].data_ptr<uint8_t>());
  return in;
}

inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// An empty directory under the system's temporary directory, named after the test and process.
inline std::filesystem::path fresh_dir(const std::string& prefix, const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("lutnet_" + prefix + "_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

// `first`, a finished run of `config`, is reproducible: the same seed and config write the same
// model and baseline bytes again, and a run stopped after `stop_after_epochs` epochs (writing no
// model yet) and resumed ends with them too. Removes the directories it makes.
inline void expect_reruns_reproduce(const TrainConfig& config, const TrainResult& first,
                                    int stop_after_epochs, const std::string& prefix) {
  RunOptions again;
  again.out_dir = fresh_dir(prefix, "again");
  const TrainResult r2 = run_training(config, again);
  EXPECT_EQ(read_bytes(first.model_path), read_bytes(r2.model_path));
  EXPECT_EQ(read_bytes(first.baseline_path), read_bytes(r2.baseline_path));

  RunOptions killed;
  killed.out_dir = fresh_dir(prefix, "resume");
  killed.stop_after_epochs = stop_after_epochs;
  EXPECT_FALSE(run_training(config, killed).finished);
  EXPECT_FALSE(std::filesystem::exists(killed.out_dir / "model.json"));
  killed.stop_after_epochs = -1;
  killed.resume = true;
  const TrainResult resumed = run_training(config, killed);
  ASSERT_TRUE(resumed.finished);
  EXPECT_EQ(read_bytes(first.model_path), read_bytes(resumed.model_path));
  EXPECT_EQ(read_bytes(first.baseline_path), read_bytes(resumed.baseline_path));
  for (const auto& d : {again.out_dir, killed.out_dir}) std::filesystem::remove_all(d);
}

}  // namespace lutnet::train::test
