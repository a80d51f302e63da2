#include "train/float_inference.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "core/error.hpp"
#include "train/checkpoint.hpp"
#include "train/config.hpp"
#include "train/network.hpp"
#include "train/network_setup.hpp"
#include "train/trainer.hpp"

namespace lutnet::train {

namespace {
std::string read_config(const std::filesystem::path& checkpoint) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(checkpoint.string());
  } catch (const c10::Error&) {
    throw Error(checkpoint.string() + ": not a readable lutnet checkpoint");
  }
  c10::IValue config;
  archive.read("config", config);
  return config.toStringRef();
}
}  // namespace

FloatInferenceTiming time_float_inference(const std::filesystem::path& checkpoint,
                                          const Dataset& data, int threads, int repeats) {
  const TrainConfig config =
      config_from_json(read_config(checkpoint), checkpoint.string(), TrainConfig{});
  const auto encoding = input_encoding(config, data.shape);
  Network net = make_network(config, encoding, data.num_classes);
  load_checkpoint(checkpoint, net);
  torch::set_num_threads(threads);
  torch::NoGradGuard no_grad;
  const auto x = encode_images(data, encoding);
  const auto y = torch::tensor(std::vector<int64_t>(data.labels.begin(), data.labels.end()));
  std::vector<double> seconds;
  FloatInferenceTiming timing;
  // Conv networks hold one activation per pixel: smaller batches keep them in cache and memory.
  const int64_t batch = config.conv.empty() ? 1000 : 100;
  for (int r = 0; r < std::max(1, repeats); ++r) {
    const auto start = std::chrono::steady_clock::now();
    int64_t correct = 0;
    for (int64_t b = 0; b < x.size(0); b += batch) {
      const auto xb = x.slice(0, b, std::min<int64_t>(b + batch, x.size(0)));
      const auto pred = net.forward(xb, false, WeightMode::kBinary, TableMode::kBinary).argmax(1);
      correct += pred.eq(y.slice(0, b, b + xb.size(0))).sum().item<int64_t>();
    }
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    timing.correct = correct;
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  timing.images_per_second = static_cast<double>(data.size()) / median;
  timing.ns_per_image = median * 1e9 / static_cast<double>(data.size());
  return timing;
}

}  // namespace lutnet::train
