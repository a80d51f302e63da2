#include "train/sweep_training.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/read_file.hpp"
#include "train/trainer.hpp"

namespace lutnet::train {
namespace fs = std::filesystem;
using nlohmann::json;

TrainConfig sweep_point_config(const flows::SweepGrid& grid, const flows::SweepGridPoint& point,
                               const SweepTrainingOptions& options) {
  TrainConfig config = preset(grid.preset);
  config = config_from_json(grid.base.dump(), "sweep grid base", config);
  config = config_from_json(point.overrides.dump(),
                            fmt::format("sweep grid point '{}'", point.name), config);
  if (!options.data_dir.empty()) config.data_dir = options.data_dir;
  if (options.threads > 0) config.threads = options.threads;
  try {
    validate(config);
  } catch (const Error& e) {
    throw Error(fmt::format("sweep grid point '{}': {}", point.name, e.what()));
  }
  return config;
}

namespace {

double summary_number(const fs::path& dir, const char* key) {
  const fs::path file = dir / "summary.json";
  const json j = json::parse(read_text_file(file, "run summary"));
  if (!j.contains(key) || !j[key].is_number())
    throw Error(fmt::format("{}: no number '{}'", file.string(), key));
  return j[key].get<double>();
}

}  // namespace

flows::TrainedPoint train_sweep_point(const flows::SweepGrid& grid,
                                      const flows::SweepGridPoint& point, const fs::path& dir,
                                      const SweepTrainingOptions& options) {
  const TrainConfig config = sweep_point_config(grid, point, options);
  if (!is_finished_run(config, dir)) {
    RunOptions run;
    run.out_dir = dir;
    run.resume = true;
    run.progress = options.progress;
    run_training(config, run);
  }
  flows::TrainedPoint t;
  t.lutnet_model = dir / "model.json";
  t.baseline_model = dir / "baseline.json";
  t.lutnet_test_accuracy = summary_number(dir, "test_accuracy");
  t.baseline_test_accuracy = summary_number(dir, "baseline_test_accuracy");
  t.test = load_training_data(config).test;
  t.command = fmt::format("lutnet train --config {0}/config.json --out {0}", dir.string());
  return t;
}

}  // namespace lutnet::train
