#pragma once
// The report of `lutnet sweep`: a grid of configurations, each trained as LUTNet and as the XNOR
// baseline and synthesized, shown as test accuracy against LUT count. The Pareto front of each
// kind, the matched-accuracy area ratio read off those fronts, the table as JSON (OUT/sweep.json),
// an SVG scatter plot and a self-contained HTML page. Training and synthesis stay with the caller.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace lutnet::flows {

inline constexpr const char* kSweepLutnet = "lutnet";
inline constexpr const char* kSweepBaseline = "baseline";

struct SweepPoint {
  std::string name;          // the grid point's id, e.g. "k4-keep0.05-h256x2"
  std::string kind;          // kSweepLutnet or kSweepBaseline
  double test_accuracy = 0;  // fraction in [0,1]: the exported model on the whole test set
  int64_t luts = 0;          // Yosys LUTs without the input encoder; 0: not synthesized
  int64_t encoder_luts = 0;  // the input encoder's LUTs, reported apart
  // Learned tables (connections x input levels), and those of them that still compute a plain
  // XNOR: at most one effective input (-1: unknown).
  int64_t tables = 0;
  int64_t xnor_luts = -1;
  bool verified = false;     // RTL == reference on every test image
  std::string model_path;
  std::string command;  // the command line that reproduces the point

  bool operator==(const SweepPoint&) const = default;
};

// A published result drawn beside the sweep for context (Vivado LUTs, not Yosys).
struct ReferencePoint {
  std::string label;
  double accuracy = 0;  // fraction in [0,1], like SweepPoint::test_accuracy
  int64_t luts = 0;

  bool operator==(const ReferencePoint&) const = default;
};

// LUTNet 98.01% at 58,192 LUTs; Logic Shrinkage 97.47% at 63,928; DWN 98.3% at 4,082 (its input
// encoder not counted). DESIGN.md §5.
std::vector<ReferencePoint> mnist_reference_points();

// Indices of the Pareto front of `kind`'s points: those that no other point of the kind matches
// or beats on both accuracy (>=) and LUTs (<=) while strictly beating it on one. Points with
// luts <= 0 (not synthesized) take no part. Sorted by LUTs, then accuracy, then index; exact
// duplicates are all kept, so along the result LUTs rise and accuracy rises (strictly, except
// between duplicates).
std::vector<size_t> pareto_front(const std::vector<SweepPoint>& points, const std::string& kind);

// The baseline's LUTs at `accuracy`, interpolated linearly in (accuracy, log LUTs) between
// consecutive points of its front: a straight line on the report's log-LUT axis. nullopt outside
// the accuracy range of the front (or without one).
std::optional<double> baseline_luts_at(const std::vector<SweepPoint>& points, double accuracy);

// The matched-accuracy area ratio at a target accuracy: the cheapest LUTNet front point that
// reaches the target, against the baseline's front interpolated to that point's accuracy.
struct MatchedRatio {
  double target_accuracy = 0;
  size_t lutnet_index = 0;   // into the points
  double baseline_luts = 0;  // interpolated at points[lutnet_index].test_accuracy
  // The baseline front points the interpolation lies between (equal when it hits one exactly).
  size_t baseline_below = 0, baseline_above = 0;
  double ratio = 0;  // baseline_luts / LUTNet's luts: > 1 means LUTNet is smaller
};

// nullopt when no LUTNet point reaches `accuracy` or the baseline's front does not cover the
// accuracy of the LUTNet point found.
std::optional<MatchedRatio> matched_area_ratio(const std::vector<SweepPoint>& points,
                                               double accuracy);

// The targets the JSON and HTML report the ratio at.
inline constexpr double kSweepRatioTargets[] = {0.975, 0.980};

// OUT/sweep.json: {"points": [...], "fronts": {"lutnet": [i...], "baseline": [i...]},
// "ratios": [{"target_accuracy", "ratio" (null when none), ...}], "references": [...]}.
// Fronts and ratios are derived: sweep_points_from_json reads the points only.
nlohmann::json sweep_to_json(const std::vector<SweepPoint>& points,
                             const std::vector<ReferencePoint>& references);
// The points of sweep_to_json's output. Throws lutnet::Error naming `source`, the point and the
// key on a missing or mistyped key, a value out of range or a repeated (name, kind).
std::vector<SweepPoint> sweep_points_from_json(const nlohmann::json& j, const std::string& source);

// A self-contained SVG scatter plot: LUTs on a log axis against test accuracy %, both kinds and
// their fronts, the references as labelled markers, a legend. Points without LUTs are left out
// (and counted in a note). Every marker carries a <title> tooltip.
std::string sweep_svg(const std::vector<SweepPoint>& points,
                      const std::vector<ReferencePoint>& references);

// A self-contained HTML page (no scripts, no external resources): the plot inline, the
// matched-accuracy ratio at each target in a sentence (or why there is none), a table of every
// point by kind then LUTs. Also well-formed XML, so that it can be checked strictly.
std::string sweep_html(const std::vector<SweepPoint>& points,
                       const std::vector<ReferencePoint>& references, const std::string& title);

// `text` with & < > " ' escaped for XML and HTML, and control characters that XML 1.0 forbids
// replaced by '?'.
std::string xml_escape(const std::string& text);

}  // namespace lutnet::flows
