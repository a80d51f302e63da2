#pragma once
// `lutnet sweep`: a grid of training configurations, each trained once (its LUTNet model and its
// pruned-BNN baseline), synthesized, the points on the accuracy-vs-LUT fronts verified, and one
// report (OUT/sweep.json, .svg, .html; flows/sweep_report.hpp). Every point's results are files
// of their own, so a killed sweep resumes point by point. Training (LibTorch) is the caller's: it
// comes in as a function, which keeps this library free of it (and its tests fast).
#include <cstddef>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "flows/sweep_report.hpp"
#include "flows/synth.hpp"

namespace lutnet::flows {

// One grid point: its directory name and the training-config fields it sets (train/config.hpp's
// JSON keys), on top of the grid's base.
struct SweepGridPoint {
  std::string name;
  nlohmann::json overrides = nlohmann::json::object();
};

struct SweepGrid {
  std::string preset = "quick";                    // the training preset every point starts from
  nlohmann::json base = nlohmann::json::object();  // config fields set for every point
  std::vector<SweepGridPoint> points;
};

// The grid file: {"preset": P, "base": {...}, "axes": {KEY: [V, ...], ...}, "points": [{...}]}.
// "axes" expand to their cartesian product (named after the values, e.g. "k4-keep0.05");
// "points" are listed configurations (an optional "name" each). Throws lutnet::Error naming the
// source and the bad entry; the config fields themselves are checked by the training side.
SweepGrid parse_sweep_grid(const std::string& text, const std::string& source);
// Built-in grids: "mnist-frontier" (the default of `lutnet sweep`) and "tiny" (synthetic data,
// seconds per point, for tests).
SweepGrid builtin_sweep_grid(const std::string& name);
std::vector<std::string> builtin_sweep_grid_names();

// What the training side hands back for a point: both model files, their test accuracies
// (exported model on the whole test set) and the test set itself, for verification.
struct TrainedPoint {
  std::filesystem::path lutnet_model, baseline_model;
  double lutnet_test_accuracy = 0, baseline_test_accuracy = 0;
  Dataset test;
  std::string command;  // a command line that trains this point alone
};
// Trains the point into `dir` (or resumes it, or loads it when it is finished).
using TrainPointFn = std::function<TrainedPoint(const SweepGrid& grid, const SweepGridPoint& point,
                                                const std::filesystem::path& dir)>;

enum class SweepVerify { kNone, kFront, kAll };
SweepVerify parse_sweep_verify(const std::string& text);  // none | front | all

struct SweepOptions {
  std::filesystem::path out_dir = "runs/sweep";
  SynthOptions synth;  // encoder_row is always on: the encoder's LUTs are reported apart
  SweepVerify verify = SweepVerify::kFront;
  int verify_jobs = 2;
  std::string title = "lutnet sweep";
  std::ostream* progress = nullptr;
};

struct SweepResult {
  std::vector<SweepPoint> points;
  size_t trained = 0, synthesized = 0, verified = 0;  // done in this invocation
  double seconds = 0;
  std::filesystem::path json_path, svg_path, html_path;
};

// Runs (or resumes) the sweep. Throws lutnet::Error when a verified point's RTL disagrees with
// the reference evaluator (after writing the report, which marks it).
SweepResult run_sweep(const SweepGrid& grid, const TrainPointFn& train,
                      const SweepOptions& options);

// Learned tables (connections x input levels of every LUT layer), and those of them that reduce
// to at most one input: still a plain XNOR connection (or a constant).
int64_t learned_tables(const Model& model);
int64_t plain_xnor_luts(const Model& model);

}  // namespace lutnet::flows
