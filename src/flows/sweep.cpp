#include "flows/sweep.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/lut_function.hpp"
#include "core/model_io.hpp"
#include "core/read_file.hpp"
#include "core/seconds_since.hpp"
#include "flows/verify.hpp"

namespace lutnet::flows {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// "keep_fraction": [0.05, 0.1] -> "keep0.05_0.1"; short keys for the common axes.
std::string value_label(const std::string& key, const json& value) {
  static const std::pair<const char*, const char*> kShort[] = {{"keep_fraction", "keep"},
                                                               {"input_bits", "bits"},
                                                               {"hidden", "h"},
                                                               {"lut_layers", "lut"},
                                                               {"input_selection", "sel-"}};
  std::string name = key;
  for (const auto& [k, s] : kShort)
    if (key == k) name = s;
  std::string text = value.dump();
  std::string out;
  for (char c : text) {
    if (c == '[' || c == ']' || c == '"' || c == '{' || c == '}' || c == ' ') continue;
    out += (c == ',' || c == ':') ? '_' : c;
  }
  return name + out;
}

void append_label(std::string& name, const std::string& label) {
  if (!name.empty()) name += '-';
  name += label;
}

void check_name(const std::string& name, const std::string& where) {
  const bool ok =
      !name.empty() && name != "." && name != ".." &&
      std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
  if (!ok)
    throw Error(
        fmt::format("{}: point name '{}' must be letters, digits, '-', '_' or '.'", where, name));
}

// The cartesian product of the axes, the first axis varying slowest.
std::vector<SweepGridPoint> expand_axes(const json& axes, const std::string& source) {
  if (!axes.is_object()) throw Error(source + ": 'axes' must be an object of value lists");
  std::vector<SweepGridPoint> points(1);
  for (auto it = axes.begin(); it != axes.end(); ++it) {
    if (!it.value().is_array() || it.value().empty())
      throw Error(
          fmt::format("{}: axis '{}' must be a non-empty list of values", source, it.key()));
    std::vector<SweepGridPoint> next;
    for (const auto& p : points)
      for (const auto& v : it.value()) {
        SweepGridPoint q = p;
        q.overrides[it.key()] = v;
        append_label(q.name, value_label(it.key(), v));
        next.push_back(std::move(q));
      }
    points = std::move(next);
  }
  return points;
}

std::vector<SweepGridPoint> listed_points(const json& list, const std::string& source) {
  if (!list.is_array()) throw Error(source + ": 'points' must be a list of objects");
  std::vector<SweepGridPoint> points;
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_object())
      throw Error(fmt::format("{}: points[{}] is not an object", source, i));
    SweepGridPoint p;
    p.overrides = list[i];
    if (p.overrides.contains("name")) {
      if (!p.overrides["name"].is_string())
        throw Error(fmt::format("{}: points[{}].name must be a string", source, i));
      p.name = p.overrides["name"].get<std::string>();
      p.overrides.erase("name");
    } else {
      for (auto it = p.overrides.begin(); it != p.overrides.end(); ++it)
        append_label(p.name, value_label(it.key(), it.value()));
      if (p.name.empty()) p.name = fmt::format("point{}", i);
    }
    points.push_back(std::move(p));
  }
  return points;
}

}  // namespace

SweepGrid parse_sweep_grid(const std::string& text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
  if (!j.is_object()) throw Error(source + ": a sweep grid is a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "preset" && it.key() != "base" && it.key() != "axes" && it.key() != "points")
      throw Error(fmt::format("{}: unknown key '{}' (known: preset, base, axes, points)", source,
                              it.key()));
  SweepGrid grid;
  if (j.contains("preset")) {
    if (!j["preset"].is_string()) throw Error(source + ": 'preset' must be a string");
    grid.preset = j["preset"].get<std::string>();
  }
  if (j.contains("base")) {
    if (!j["base"].is_object()) throw Error(source + ": 'base' must be an object");
    grid.base = j["base"];
  }
  if (j.contains("axes")) grid.points = expand_axes(j["axes"], source);
  if (j.contains("points")) {
    auto listed = listed_points(j["points"], source);
    grid.points.insert(grid.points.end(), listed.begin(), listed.end());
  }
  if (grid.points.empty()) throw Error(source + ": the grid has no points (give axes or points)");
  std::set<std::string> names;
  for (const auto& p : grid.points) {
    check_name(p.name, source);
    if (!names.insert(p.name).second)
      throw Error(fmt::format("{}: two points are named '{}'", source, p.name));
  }
  return grid;
}

SweepGrid builtin_sweep_grid(const std::string& name) {
  if (name == "tiny")
    return parse_sweep_grid(R"({"preset": "tiny", "axes": {"keep_fraction": [[0.15], [0.4]]}})",
                            "built-in grid 'tiny'");
  if (name == "mnist-frontier")
    // The knobs of issue 12's frontier: a sparse first layer (most LUTs are there), narrower
    // hidden layers, K = 6, learned against random extra inputs. Two hidden layers: keep
    // fractions of layer 0, layer 1, output.
    return parse_sweep_grid(R"({
      "preset": "quick",
      "axes": {
        "hidden": [[256, 256], [128, 128]],
        "keep_fraction": [[0.02, 0.1, 1], [0.05, 0.2, 1]],
        "k": [4, 6],
        "input_selection": ["random", "learned"]
      }
    })",
                            "built-in grid 'mnist-frontier'");
  throw Error(fmt::format("unknown built-in grid '{}' (known: mnist-frontier, tiny)", name));
}

std::vector<std::string> builtin_sweep_grid_names() { return {"mnist-frontier", "tiny"}; }

SweepVerify parse_sweep_verify(const std::string& text) {
  if (text == "none") return SweepVerify::kNone;
  if (text == "front") return SweepVerify::kFront;
  if (text == "all") return SweepVerify::kAll;
  throw Error(fmt::format("--verify {}: expected none, front or all", text));
}

int64_t learned_tables(const Model& model) {
  int64_t count = 0;
  for (const auto& layer : model.layers)
    if (layer.has_luts()) count += static_cast<int64_t>(layer.tables.size());
  return count;
}

int64_t plain_xnor_luts(const Model& model) {
  int64_t count = 0;
  for (const auto& layer : model.layers) {
    if (!layer.has_luts()) continue;
    const auto k = static_cast<size_t>(layer.k);
    const auto levels = static_cast<size_t>(layer.input_levels);
    for (size_t c = 0; c < layer.num_connections(); ++c)
      for (size_t l = 0; l < levels; ++l) {
        const auto r = reduce_lut({&layer.lut_inputs[c * k], k}, layer.tables[c * levels + l]);
        if (r.num_inputs <= 1) ++count;
      }
  }
  return count;
}

namespace {

using Clock = std::chrono::steady_clock;

class SweepRun {
 public:
  SweepRun(const SweepGrid& grid, const TrainPointFn& train, const SweepOptions& options)
      : grid_(grid), train_(train), options_(options), start_(Clock::now()) {}

  SweepResult run();

 private:
  void say(const std::string& line) const {
    if (options_.progress) *options_.progress << "[sweep] " << line << std::endl;
  }
  fs::path point_dir(const SweepGridPoint& p) const { return options_.out_dir / "points" / p.name; }
  std::string eta(size_t done, size_t total) const;
  void hardware(const SweepGridPoint& p, const TrainedPoint& trained);
  SweepPoint synthesize_point(const std::string& kind, const fs::path& model_path,
                              double test_accuracy, const std::string& command,
                              const fs::path& dir);
  void verify(SweepPoint& point, const TrainedPoint& trained, const fs::path& dir);
  std::vector<size_t> to_verify() const;
  void verify_selected();
  void write_report();

  const SweepGrid& grid_;
  const TrainPointFn& train_;
  const SweepOptions& options_;
  const Clock::time_point start_;
  SweepResult result_;
  std::vector<fs::path> dirs_;  // per SweepPoint in result_.points
  std::vector<std::string> failures_;
};

std::string SweepRun::eta(size_t done, size_t total) const {
  const double elapsed = seconds_since(start_);
  if (done == 0) return fmt::format("{:.0f} s elapsed", elapsed);
  const double left = elapsed / static_cast<double>(done) * static_cast<double>(total - done);
  return fmt::format("{:.0f} s elapsed, about {:.0f} s left", elapsed, left);
}

SweepPoint SweepRun::synthesize_point(const std::string& kind, const fs::path& model_path,
                                      double test_accuracy, const std::string& command,
                                      const fs::path& dir) {
  const Model model = load_model(model_path);
  SynthOptions synth = options_.synth;
  synth.encoder_row = true;
  synth.input_encoder = false;
  synth.layers.clear();
  const SynthReport report = synthesize(model, hdl::HdlOptions{}, synth);
  SweepPoint p;
  p.name = dir.filename().string();
  p.kind = kind;
  p.test_accuracy = test_accuracy;
  p.luts = report.luts;
  p.encoder_luts = report.encoder ? report.luts_with_encoder() - report.luts : 0;
  p.model_path = model_path.string();
  p.command = command;
  ++result_.synthesized;
  return p;
}

// Synthesizes both designs of a trained point, once: OUT/points/NAME/hardware.json.
void SweepRun::hardware(const SweepGridPoint& p, const TrainedPoint& trained) {
  const fs::path dir = point_dir(p);
  const fs::path file = dir / "hardware.json";
  std::vector<SweepPoint> both;
  if (fs::exists(file)) {
    both = sweep_points_from_json(json::parse(read_text_file(file, "sweep point")), file.string());
  } else {
    say(fmt::format("{}: synthesizing LUTNet and baseline", p.name));
    both.push_back(synthesize_point(kSweepLutnet, trained.lutnet_model,
                                    trained.lutnet_test_accuracy, trained.command, dir));
    both.push_back(synthesize_point(kSweepBaseline, trained.baseline_model,
                                    trained.baseline_test_accuracy, trained.command, dir));
    write_file_atomically(file, sweep_to_json(both, {}).dump(2));
  }
  for (auto& s : both) {
    // Where the point is now, not where it was synthesized: point directories can be moved
    // (copied from results/ into a new sweep, for example).
    s.model_path =
        (s.kind == kSweepLutnet ? trained.lutnet_model : trained.baseline_model).string();
    s.command = trained.command;
    // Derived from the model file, not stored: older hardware.json files get them too.
    const Model model = load_model(s.model_path);
    s.tables = learned_tables(model);
    s.xnor_luts = plain_xnor_luts(model);
    const fs::path verified = dir / ("verify-" + s.kind + ".json");
    if (fs::exists(verified))
      s.verified = json::parse(read_text_file(verified, "sweep verification"))
                       .value("mismatches", size_t{1}) == 0;
    say(fmt::format("{} {}: {:.2f}% at {} LUTs (+{} encoder); {} of {} tables still XNOR", p.name,
                    s.kind, 100 * s.test_accuracy, s.luts, s.encoder_luts, s.xnor_luts, s.tables));
    result_.points.push_back(s);
    dirs_.push_back(dir);
  }
}

// RTL against the reference on the whole test set (conv models: every stage alone on all of it,
// the assembled design on the first 100; verify.hpp): OUT/points/NAME/verify-KIND.json.
void SweepRun::verify(SweepPoint& point, const TrainedPoint& trained, const fs::path& dir) {
  VerifyOptions v;
  v.jobs = options_.verify_jobs;
  v.stages = true;
  const Model model = load_model(point.model_path);
  const VerifyReport r = verify_rtl(model, trained.test, v);
  const size_t mismatches = std::max(r.mismatches, r.stage_mismatches);
  const json j = {{"images", r.images},
                  {"stage_images", r.stage_images},
                  {"mismatches", mismatches},
                  {"first_mismatch", r.first_mismatch},
                  {"seconds", r.build_seconds + r.run_seconds + r.stage_seconds}};
  write_file_atomically(dir / ("verify-" + point.kind + ".json"), j.dump(2));
  point.verified = mismatches == 0;
  ++result_.verified;
  say(fmt::format("{} {}: verified on {} images, {} mismatches{}", point.name, point.kind,
                  std::max(r.images, r.stage_images), mismatches,
                  mismatches ? "  first: " + r.first_mismatch : ""));
  if (mismatches)
    failures_.push_back(fmt::format("{} {}: {}", point.name, point.kind, r.first_mismatch));
}

std::vector<size_t> SweepRun::to_verify() const {
  std::vector<size_t> chosen;
  if (options_.verify == SweepVerify::kNone) return chosen;
  if (options_.verify == SweepVerify::kAll) {
    for (size_t i = 0; i < result_.points.size(); ++i) chosen.push_back(i);
    return chosen;
  }
  for (const char* kind : {kSweepLutnet, kSweepBaseline})
    for (size_t i : pareto_front(result_.points, kind)) chosen.push_back(i);
  return chosen;
}

void SweepRun::verify_selected() {
  std::vector<size_t> pending;
  for (size_t i : to_verify())
    if (!result_.points[i].verified &&
        !fs::exists(dirs_[i] / ("verify-" + result_.points[i].kind + ".json")))
      pending.push_back(i);
  for (size_t n = 0; n < pending.size(); ++n) {
    SweepPoint& point = result_.points[pending[n]];
    say(fmt::format("verify {}/{}: {} {} ({})", n + 1, pending.size(), point.name, point.kind,
                    eta(n, pending.size())));
    const auto grid_point = std::find_if(grid_.points.begin(), grid_.points.end(),
                                         [&](const auto& p) { return p.name == point.name; });
    if (grid_point == grid_.points.end()) throw InternalError("sweep point without a grid point");
    verify(point, train_(grid_, *grid_point, dirs_[pending[n]]), dirs_[pending[n]]);
  }
}

void SweepRun::write_report() {
  const fs::path& out = options_.out_dir;
  result_.json_path = out / "sweep.json";
  result_.svg_path = out / "sweep.svg";
  result_.html_path = out / "sweep.html";
  const auto references = mnist_reference_points();
  write_file_atomically(result_.json_path, sweep_to_json(result_.points, references).dump(2));
  write_file_atomically(result_.svg_path, sweep_svg(result_.points, references));
  write_file_atomically(result_.html_path, sweep_html(result_.points, references, options_.title));
}

SweepResult SweepRun::run() {
  fs::create_directories(options_.out_dir / "points");
  const size_t total = grid_.points.size();
  for (size_t i = 0; i < total; ++i) {
    const SweepGridPoint& p = grid_.points[i];
    say(fmt::format("point {}/{}: {} ({})", i + 1, total, p.name, eta(i, total)));
    hardware(p, train_(grid_, p, point_dir(p)));
    ++result_.trained;
    write_report();  // a partial report after every point: open it while the sweep runs
  }
  verify_selected();
  write_report();
  result_.seconds = seconds_since(start_);
  say(
      fmt::format("{} designs of {} points ({} syntheses, {} verifications) in {:.0f} s; "
                  "report {}",
                  result_.points.size(), total, result_.synthesized, result_.verified,
                  result_.seconds, result_.html_path.string()));
  if (!failures_.empty())
    throw Error(fmt::format("RTL differs from the reference for {} design(s), first: {}",
                            failures_.size(), failures_.front()));
  return result_;
}

}  // namespace

SweepResult run_sweep(const SweepGrid& grid, const TrainPointFn& train,
                      const SweepOptions& options) {
  SweepRun run(grid, train, options);
  return run.run();
}

}  // namespace lutnet::flows
