#pragma once
// The training side of `lutnet sweep` (flows/sweep.hpp): a grid point as a training config, and
// the point trained, resumed or loaded from its directory.
#include <filesystem>
#include <string>

#include "flows/sweep.hpp"
#include "train/config.hpp"

namespace lutnet::train {

// Settings of this machine rather than of the grid (not part of a point's identity beyond the
// config fields they set).
struct SweepTrainingOptions {
  std::string data_dir;  // empty: the default
  int threads = 0;       // 0: the grid's config
  std::ostream* progress = nullptr;
};

// The grid's preset, then its base, then the point's fields, then the options. Throws
// lutnet::Error naming the point for a bad field or an inconsistent config.
TrainConfig sweep_point_config(const flows::SweepGrid& grid, const flows::SweepGridPoint& point,
                               const SweepTrainingOptions& options);

// Trains the point into `dir` (resuming a killed run; a finished run of the same config is
// loaded, not trained again).
flows::TrainedPoint train_sweep_point(const flows::SweepGrid& grid,
                                      const flows::SweepGridPoint& point,
                                      const std::filesystem::path& dir,
                                      const SweepTrainingOptions& options);

}  // namespace lutnet::train
