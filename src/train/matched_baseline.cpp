#include "train/matched_baseline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/read_file.hpp"
#include "train/trainer.hpp"

namespace lutnet::train {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

double read_accuracy(const fs::path& summary, const char* key) {
  const auto text = read_text_file(summary, "run summary (is it a finished run?)");
  try {
    return json::parse(text).at(key).get<double>();
  } catch (const json::exception&) {
    throw Error(fmt::format("{}: no number '{}'", summary.string(), key));
  }
}

TrainConfig candidate_config(const TrainConfig& config, double scale) {
  TrainConfig c = config;
  std::vector<double> keep = keep_fractions(config);
  for (size_t i = 0; i + 1 < keep.size(); ++i) keep[i] = std::min(1.0, keep[i] * scale);
  c.keep_fraction = keep;
  return c;
}

// baseline.json of a finished candidate run of `c`, trained (or resumed) when missing; its
// validation accuracy.
double train_candidate(const TrainConfig& c, const fs::path& dir, std::ostream* progress) {
  if (is_finished_run(c, dir))
    return read_accuracy(dir / "summary.json", "baseline_validation_accuracy");
  RunOptions run;
  run.out_dir = dir;
  run.resume = true;
  run.progress = progress;
  run.baseline_only = true;
  return run_training(c, run).baseline_validation_accuracy;
}

std::string format_keep(const std::vector<double>& keep) {
  std::string s;
  for (size_t i = 0; i + 1 < keep.size(); ++i) s += fmt::format("{}{:g}", i ? "," : "", keep[i]);
  return s;
}

}  // namespace

MatchedBaseline train_matched_baseline(const TrainConfig& config, const fs::path& lutnet_run,
                                       const MatchedBaselineOptions& options) {
  if (options.keep_scales.empty()) throw Error("baseline keep scales: give at least one");
  for (size_t i = 0; i < options.keep_scales.size(); ++i)
    if (options.keep_scales[i] <= 0 ||
        (i > 0 && options.keep_scales[i] <= options.keep_scales[i - 1]))
      throw Error(
          fmt::format("baseline keep scales: {:g} (entry {}) must be positive and larger "
                      "than the one before",
                      options.keep_scales[i], i + 1));
  const fs::path summary = lutnet_run / "summary.json";
  const double target = read_accuracy(summary, "validation_accuracy");
  MatchedBaseline best;
  best.lutnet_validation_accuracy = target;
  best.validation_accuracy = -1;
  std::string tried;
  for (double scale : options.keep_scales) {
    const TrainConfig c = candidate_config(config, scale);
    fs::path model = lutnet_run / "baseline.json";
    double validation = 0;
    if (scale == 1) {
      validation = read_accuracy(summary, "baseline_validation_accuracy");
    } else {
      const fs::path dir = lutnet_run / fmt::format("baseline-keep-x{:g}", scale);
      if (options.progress)
        *options.progress << fmt::format("baseline candidate: keep {} (x{:g} LUTNet's), in {}",
                                         format_keep(c.keep_fraction), scale, dir.string())
                          << std::endl;
      validation = train_candidate(c, dir, options.progress);
      model = dir / "baseline.json";
    }
    tried += fmt::format("{}x{:g} {:.2f}%", tried.empty() ? "" : ", ", scale, 100 * validation);
    const bool matched = validation >= target - options.tolerance;
    if (matched || validation > best.validation_accuracy) {
      best.model_path = model;
      best.keep_scale = scale;
      best.keep = c.keep_fraction;
      best.validation_accuracy = validation;
      best.matched = matched;
    }
    if (matched) break;
  }
  best.explanation =
      best.matched ? fmt::format(
                         "baseline keep {} (x{:g} LUTNet's): the first keep multiple tried ({}) "
                         "whose validation accuracy is within {:.1f} points of LUTNet's {:.2f}%",
                         format_keep(best.keep), best.keep_scale, tried, 100 * options.tolerance,
                         100 * target)
                   : fmt::format(
                         "baseline keep {} (x{:g} LUTNet's): no keep multiple tried ({}) came "
                         "within {:.1f} points of LUTNet's {:.2f}% on validation; the most "
                         "accurate of them",
                         format_keep(best.keep), best.keep_scale, tried, 100 * options.tolerance,
                         100 * target);
  return best;
}

}  // namespace lutnet::train
