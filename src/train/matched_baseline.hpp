#pragma once
// The baseline at matched accuracy (DESIGN.md: the paper compares at comparable accuracy, not at
// equal keep fractions). A LUTNet layer reaches a BNN's accuracy with fewer connections, so the
// baseline gets its own keep fraction: the sparsest of a few candidates (multiples of LUTNet's)
// whose validation accuracy comes within a tolerance of LUTNet's. The choice uses only the
// validation split; test accuracies are reported, never used to choose.
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "train/config.hpp"

namespace lutnet::train {

struct MatchedBaselineOptions {
  // Candidate keep fractions as multiples of LUTNet's (per layer, at most 1; the output layer
  // keeps its own), tried in increasing order. 1 is the LUTNet run's own baseline. Up to 8: at
  // keep 3% a baseline of the same widths first matches learned-input LUTNet at x5-x8.
  std::vector<double> keep_scales = {1, 2, 3, 5, 8};
  double tolerance = 0.003;  // validation accuracy at most this far below LUTNet's
  std::ostream* progress = nullptr;
};

struct MatchedBaseline {
  std::filesystem::path model_path;  // baseline.json of the chosen run
  double keep_scale = 1;
  std::vector<double> keep;  // per layer
  double validation_accuracy = 0, lutnet_validation_accuracy = 0;
  bool matched = false;     // within the tolerance (otherwise: the most accurate candidate)
  std::string explanation;  // one line: how it was chosen
};

// Baseline candidates train in `lutnet_run`/baseline-keep-x<scale>/ (BNN and retrain stages
// only); a finished candidate of the same config is reused, a killed one resumes. `lutnet_run` is
// a finished run of `config` (its summary.json gives the validation accuracies). Throws
// lutnet::Error for scales that are not positive and increasing.
MatchedBaseline train_matched_baseline(const TrainConfig& config,
                                       const std::filesystem::path& lutnet_run,
                                       const MatchedBaselineOptions& options);

}  // namespace lutnet::train
