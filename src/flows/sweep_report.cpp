#include "flows/sweep_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>
#include <utility>

#include "core/error.hpp"

namespace lutnet::flows {
using nlohmann::json;

namespace {

bool dominates(const SweepPoint& a, const SweepPoint& b) {
  return a.test_accuracy >= b.test_accuracy && a.luts <= b.luts &&
         (a.test_accuracy > b.test_accuracy || a.luts < b.luts);
}

// Where an accuracy falls on a front: the two front points around it and the LUTs between them.
struct FrontBracket {
  size_t below = 0, above = 0;
  double luts = 0;
};

std::optional<FrontBracket> bracket_on_front(const std::vector<SweepPoint>& points,
                                             const std::vector<size_t>& front, double accuracy) {
  // Written as !(a >= lo) so that a NaN accuracy falls outside too.
  if (front.empty() || !(accuracy >= points[front.front()].test_accuracy) ||
      accuracy > points[front.back()].test_accuracy)
    return std::nullopt;
  size_t i = 0;
  while (points[front[i]].test_accuracy < accuracy) ++i;
  const SweepPoint& hi = points[front[i]];
  // At a front point (i == 0 can only be one): its own LUTs, not exp(log(...)) of them.
  if (i == 0 || hi.test_accuracy == accuracy)
    return FrontBracket{front[i], front[i], static_cast<double>(hi.luts)};
  const SweepPoint& lo = points[front[i - 1]];
  // lo.test_accuracy < accuracy < hi.test_accuracy, so the span is not zero.
  const double t = (accuracy - lo.test_accuracy) / (hi.test_accuracy - lo.test_accuracy);
  const double log_lo = std::log(static_cast<double>(lo.luts));
  const double log_hi = std::log(static_cast<double>(hi.luts));
  return FrontBracket{front[i - 1], front[i], std::exp(log_lo + t * (log_hi - log_lo))};
}

bool plotted(const SweepPoint& p) { return p.luts > 0 && std::isfinite(p.test_accuracy); }

// 58192 -> "58,192": LUT counts are read by people, and fmt's "{:L}" would depend on the locale.
std::string grouped(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string percent(double fraction) { return fmt::format("{:.2f}%", 100 * fraction); }

}  // namespace

std::vector<ReferencePoint> mnist_reference_points() {
  return {{"LUTNet (published)", 0.9801, 58192},
          {"Logic Shrinkage (published)", 0.9747, 63928},
          {"DWN (published, no encoder)", 0.983, 4082}};
}

std::vector<size_t> pareto_front(const std::vector<SweepPoint>& points, const std::string& kind) {
  std::vector<size_t> candidates, front;
  for (size_t i = 0; i < points.size(); ++i)
    if (points[i].kind == kind && plotted(points[i])) candidates.push_back(i);
  // Quadratic, but a sweep has tens of points and this keeps the definition plain to read.
  for (size_t i : candidates) {
    const bool beaten = std::any_of(candidates.begin(), candidates.end(),
                                    [&](size_t j) { return dominates(points[j], points[i]); });
    if (!beaten) front.push_back(i);
  }
  std::sort(front.begin(), front.end(), [&](size_t a, size_t b) {
    const SweepPoint &p = points[a], &q = points[b];
    if (p.luts != q.luts) return p.luts < q.luts;
    if (p.test_accuracy != q.test_accuracy) return p.test_accuracy < q.test_accuracy;
    return a < b;
  });
  return front;
}

std::optional<double> baseline_luts_at(const std::vector<SweepPoint>& points, double accuracy) {
  const auto b = bracket_on_front(points, pareto_front(points, kSweepBaseline), accuracy);
  return b ? std::optional<double>(b->luts) : std::nullopt;
}

std::optional<MatchedRatio> matched_area_ratio(const std::vector<SweepPoint>& points,
                                               double accuracy) {
  // Along the front LUTs rise with accuracy, so the first point to reach the target is the
  // cheapest of all the LUTNet points that do.
  const auto lutnet = pareto_front(points, kSweepLutnet);
  const auto it = std::find_if(lutnet.begin(), lutnet.end(),
                               [&](size_t i) { return points[i].test_accuracy >= accuracy; });
  if (it == lutnet.end()) return std::nullopt;
  const SweepPoint& p = points[*it];
  const auto b = bracket_on_front(points, pareto_front(points, kSweepBaseline), p.test_accuracy);
  if (!b) return std::nullopt;
  MatchedRatio r;
  r.target_accuracy = accuracy;
  r.lutnet_index = *it;
  r.baseline_luts = b->luts;
  r.baseline_below = b->below;
  r.baseline_above = b->above;
  r.ratio = b->luts / static_cast<double>(p.luts);
  return r;
}

// ---- JSON -------------------------------------------------------------------------------------

namespace {

json point_to_json(const SweepPoint& p) {
  return {{"name", p.name},
          {"kind", p.kind},
          {"test_accuracy", p.test_accuracy},
          {"luts", p.luts},
          {"encoder_luts", p.encoder_luts},
          {"tables", p.tables},
          {"xnor_luts", p.xnor_luts},
          {"verified", p.verified},
          {"model_path", p.model_path},
          {"command", p.command}};
}

json ratio_to_json(const std::vector<SweepPoint>& points, double target) {
  const auto r = matched_area_ratio(points, target);
  if (!r) return {{"target_accuracy", target}, {"ratio", nullptr}};
  const SweepPoint& p = points[r->lutnet_index];
  return {{"target_accuracy", target},
          {"ratio", r->ratio},
          {"lutnet_point", r->lutnet_index},
          {"lutnet_name", p.name},
          {"lutnet_accuracy", p.test_accuracy},
          {"lutnet_luts", p.luts},
          {"baseline_luts", r->baseline_luts},
          {"baseline_between", {r->baseline_below, r->baseline_above}}};
}

// Reads one point's keys, each error naming the source, the point and the key.
class PointReader {
 public:
  PointReader(const json& j, std::string where) : j_(j), where_(std::move(where)) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(fmt::format("{}: {}", where_, what));
  }
  void check_keys() const {
    static const std::set<std::string> known = {"name",     "kind",         "test_accuracy",
                                                "luts",     "encoder_luts", "xnor_luts",
                                                "verified", "model_path",   "command",
                                                "tables"};
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (!known.count(it.key())) fail(fmt::format("unknown key '{}'", it.key()));
  }
  // nullptr when the key is absent and optional.
  const json* find(const char* key, bool required) const {
    const auto it = j_.find(key);
    if (it != j_.end()) return &*it;
    if (required) fail(fmt::format("missing key '{}'", key));
    return nullptr;
  }
  void text(const char* key, std::string& out, bool required) const {
    if (const json* v = find(key, required)) {
      if (!v->is_string()) fail(fmt::format("'{}' must be a string", key));
      out = v->get<std::string>();
    }
  }
  void number(const char* key, double& out, bool required) const {
    if (const json* v = find(key, required)) {
      if (!v->is_number()) fail(fmt::format("'{}' must be a number", key));
      out = v->get<double>();
    }
  }
  void integer(const char* key, int64_t& out, int64_t min, bool required) const {
    if (const json* v = find(key, required)) {
      if (!v->is_number_integer()) fail(fmt::format("'{}' must be an integer", key));
      out = v->get<int64_t>();
      if (out < min) fail(fmt::format("'{}' is {}, below {}", key, out, min));
    }
  }
  void flag(const char* key, bool& out) const {
    if (const json* v = find(key, false)) {
      if (!v->is_boolean()) fail(fmt::format("'{}' must be true or false", key));
      out = v->get<bool>();
    }
  }

 private:
  const json& j_;
  std::string where_;
};

SweepPoint point_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) throw Error(where + ": expected an object");
  const PointReader in(j, where);
  in.check_keys();
  SweepPoint p;
  in.text("name", p.name, true);
  in.text("kind", p.kind, true);
  in.number("test_accuracy", p.test_accuracy, true);
  in.integer("luts", p.luts, 0, true);
  in.integer("encoder_luts", p.encoder_luts, 0, false);
  in.integer("tables", p.tables, 0, false);
  in.integer("xnor_luts", p.xnor_luts, -1, false);
  in.flag("verified", p.verified);
  in.text("model_path", p.model_path, false);
  in.text("command", p.command, false);
  if (p.name.empty()) in.fail("'name' is empty");
  if (p.kind != kSweepLutnet && p.kind != kSweepBaseline)
    in.fail(fmt::format("'kind' is '{}', not '{}' or '{}'", p.kind, kSweepLutnet, kSweepBaseline));
  if (!(p.test_accuracy >= 0 && p.test_accuracy <= 1))
    in.fail(fmt::format("'test_accuracy' is {}, not a fraction in [0, 1]", p.test_accuracy));
  return p;
}

}  // namespace

json sweep_to_json(const std::vector<SweepPoint>& points,
                   const std::vector<ReferencePoint>& references) {
  json j;
  j["points"] = json::array();
  for (const SweepPoint& p : points) j["points"].push_back(point_to_json(p));
  j["fronts"] = {{kSweepLutnet, pareto_front(points, kSweepLutnet)},
                 {kSweepBaseline, pareto_front(points, kSweepBaseline)}};
  j["ratios"] = json::array();
  for (double target : kSweepRatioTargets) j["ratios"].push_back(ratio_to_json(points, target));
  j["references"] = json::array();
  for (const ReferencePoint& r : references)
    j["references"].push_back({{"label", r.label}, {"accuracy", r.accuracy}, {"luts", r.luts}});
  j["notes"] =
      "luts: Yosys LUTs without the input encoder (encoder_luts); fronts: indices into points; "
      "ratio: baseline LUTs interpolated on its front in (accuracy, log LUTs) over LUTNet's; "
      "references: published Vivado numbers";
  return j;
}

std::vector<SweepPoint> sweep_points_from_json(const json& j, const std::string& source) {
  if (!j.is_object() || !j.contains("points"))
    throw Error(fmt::format("{}: expected an object with a 'points' array", source));
  const json& array = j["points"];
  if (!array.is_array()) throw Error(fmt::format("{}: 'points' must be an array", source));
  std::vector<SweepPoint> points;
  std::set<std::pair<std::string, std::string>> seen;
  for (size_t i = 0; i < array.size(); ++i) {
    const std::string where = fmt::format("{}: points[{}]", source, i);
    SweepPoint p = point_from_json(array[i], where);
    // The sweep keys its results by (name, kind): a repeat would be one of two runs silently lost.
    if (!seen.emplace(p.name, p.kind).second)
      throw Error(fmt::format("{}: '{}' ({}) appears twice", where, p.name, p.kind));
    points.push_back(std::move(p));
  }
  return points;
}

// ---- SVG --------------------------------------------------------------------------------------

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;  // &apos; is not an HTML 4 entity
      default:
        // XML 1.0 allows no C0 control character but tab, newline and carriage return.
        const auto u = static_cast<unsigned char>(c);
        out += u < 0x20 && c != '\t' && c != '\n' && c != '\r' ? '?' : c;
    }
  }
  return out;
}

namespace {

constexpr double kWidth = 860, kHeight = 500;
constexpr double kLeft = 70, kRight = 610, kTop = 20, kBottom = 440;  // the plot area
constexpr const char* kLutnetColour = "#1f77b4";                      // blue
constexpr const char* kBaselineColour = "#e66100";                    // orange
constexpr const char* kReferenceColour = "#333333";

// The plot's ranges: log10 LUTs across, accuracy in percent up.
struct Axes {
  double log_lo = 3, log_hi = 5, acc_lo = 90, acc_hi = 100, acc_step = 2;

  double x(double luts) const {
    return kLeft + (std::log10(luts) - log_lo) / (log_hi - log_lo) * (kRight - kLeft);
  }
  double y(double fraction) const {
    return kBottom - (100 * fraction - acc_lo) / (acc_hi - acc_lo) * (kBottom - kTop);
  }
};

// The y step: the smallest "nice" one that gives at most 8 intervals.
double accuracy_step(double span) {
  for (double step : {0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 25.0})
    if (span / step <= 8) return step;
  return 50;
}

Axes fit_axes(const std::vector<SweepPoint>& points, const std::vector<ReferencePoint>& refs) {
  std::vector<std::pair<double, double>> xy;  // (LUTs, accuracy %)
  for (const SweepPoint& p : points)
    if (plotted(p)) xy.emplace_back(static_cast<double>(p.luts), 100 * p.test_accuracy);
  for (const ReferencePoint& r : refs)
    if (r.luts > 0 && std::isfinite(r.accuracy))
      xy.emplace_back(static_cast<double>(r.luts), 100 * r.accuracy);
  Axes a;
  if (xy.empty()) return a;
  double lx = INFINITY, hx = -INFINITY, ly = INFINITY, hy = -INFINITY;
  for (const auto& [luts, acc] : xy) {
    lx = std::min(lx, std::log10(luts));
    hx = std::max(hx, std::log10(luts));
    ly = std::min(ly, acc);
    hy = std::max(hy, acc);
  }
  // At least one decade across, so that a 1-2-5 axis has two labelled ticks; a margin so that no
  // marker sits on the frame.
  const double widen = std::max(0.0, 1.0 - (hx - lx)) / 2;
  a.log_lo = lx - widen - 0.06 * (hx - lx + 2 * widen);
  a.log_hi = hx + widen + 0.06 * (hx - lx + 2 * widen);
  const double pad = std::max(0.2, 0.06 * (hy - ly));
  a.acc_step = accuracy_step(hy - ly + 2 * pad);
  a.acc_lo = std::max(0.0, std::floor((ly - pad) / a.acc_step) * a.acc_step);
  a.acc_hi = std::min(100.0, std::ceil((hy + pad) / a.acc_step) * a.acc_step);
  if (a.acc_hi <= a.acc_lo) a.acc_hi = a.acc_lo + a.acc_step;  // every point at 100%
  return a;
}

// 2000 -> "2k", 1000000 -> "1M".
std::string short_count(double n) {
  if (n >= 1e6) return fmt::format("{:g}M", n / 1e6);
  if (n >= 1e3) return fmt::format("{:g}k", n / 1e3);
  return fmt::format("{:g}", n);
}

// Grid lines and labels at 1, 2, 5 x 10^k (decades only when the axis spans more than 3), and
// unlabelled minor ticks at the other integers, so that the axis reads as logarithmic.
void x_ticks(const Axes& a, std::string& out) {
  const bool dense = a.log_hi - a.log_lo <= 3;
  for (int e = static_cast<int>(std::floor(a.log_lo)); e <= static_cast<int>(a.log_hi); ++e)
    for (int m = 1; m <= 9; ++m) {
      const double v = m * std::pow(10.0, e);
      const double l = std::log10(v);
      if (l < a.log_lo || l > a.log_hi || v < 1) continue;  // no fractional LUT counts
      const double x = a.x(v);
      const bool label = m == 1 || (dense && (m == 2 || m == 5));
      if (label) {
        out += fmt::format(
            "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#e0e0e0\"/>\n"
            "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
            x, kTop, kBottom, kBottom + 16, short_count(v));
      }
      out += fmt::format(
          "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#000\"/>\n", x,
          kBottom, kBottom + (label ? 5 : 3));
    }
}

void y_ticks(const Axes& a, std::string& out) {
  int decimals = 0;
  while (decimals < 3 && std::abs(a.acc_step * std::pow(10, decimals) -
                                  std::round(a.acc_step * std::pow(10, decimals))) > 1e-9)
    ++decimals;
  const int n = static_cast<int>(std::lround((a.acc_hi - a.acc_lo) / a.acc_step));
  for (int i = 0; i <= n; ++i) {
    const double v = a.acc_lo + i * a.acc_step;
    const double y = a.y(v / 100);
    out += fmt::format(
        "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#e0e0e0\"/>\n"
        "<line x1=\"{3}\" y1=\"{1:.1f}\" x2=\"{0}\" y2=\"{1:.1f}\" stroke=\"#000\"/>\n"
        "<text x=\"{4}\" y=\"{5:.1f}\" text-anchor=\"end\">{6:.{7}f}</text>\n",
        kLeft, y, kRight, kLeft - 5, kLeft - 8, y + 4, v, decimals);
  }
}

void frame_and_titles(std::string& out) {
  out += fmt::format(
      "<rect x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"{3}\" fill=\"none\" stroke=\"#000\"/>\n"
      "<text x=\"{4}\" y=\"{5}\" text-anchor=\"middle\">LUTs (log scale; the sweep's points "
      "without the input encoder)</text>\n"
      "<text transform=\"translate(18 {6}) rotate(-90)\" text-anchor=\"middle\">test accuracy "
      "(%)</text>\n",
      kLeft, kTop, kRight - kLeft, kBottom - kTop, (kLeft + kRight) / 2, kBottom + 40,
      (kTop + kBottom) / 2);
}

// A point's marker: LUTNet a circle, the baseline a square; filled on the front, hollow when
// dominated. `cls` tells plotted points from the legend's samples.
std::string marker(const std::string& kind, double x, double y, bool filled, const char* cls,
                   const std::string& tooltip) {
  const bool lutnet = kind == kSweepLutnet;
  const char* colour = lutnet ? kLutnetColour : kBaselineColour;
  const std::string paint = fmt::format("fill=\"{}\" stroke=\"{}\" stroke-width=\"1.5\"",
                                        filled ? colour : "#ffffff", colour);
  const std::string title = tooltip.empty() ? "" : "<title>" + xml_escape(tooltip) + "</title>";
  if (lutnet)
    return fmt::format(
        "<circle class=\"{} lutnet\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4.5\" {}>{}"
        "</circle>\n",
        cls, x, y, paint, title);
  return fmt::format(
      "<rect class=\"{} baseline\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"8\" "
      "height=\"8\" {}>{}</rect>\n",
      cls, x - 4, y - 4, paint, title);
}

// The fronts as polylines: straight in (accuracy, log LUTs), exactly what baseline_luts_at reads.
void fronts(const std::vector<SweepPoint>& points, const Axes& a, std::string& out) {
  for (const char* kind : {kSweepLutnet, kSweepBaseline}) {
    const auto front = pareto_front(points, kind);
    if (front.size() < 2) continue;
    std::string xy;
    for (size_t i : front)
      xy += fmt::format("{}{:.1f},{:.1f}", xy.empty() ? "" : " ",
                        a.x(static_cast<double>(points[i].luts)), a.y(points[i].test_accuracy));
    out += fmt::format(
        "<polyline class=\"front {}\" points=\"{}\" fill=\"none\" stroke=\"{}\" "
        "stroke-width=\"1.5\"/>\n",
        kind, xy, kind == std::string(kSweepLutnet) ? kLutnetColour : kBaselineColour);
  }
}

void point_markers(const std::vector<SweepPoint>& points, const Axes& a, std::string& out) {
  std::vector<bool> on_front(points.size());
  for (const char* kind : {kSweepLutnet, kSweepBaseline})
    for (size_t i : pareto_front(points, kind)) on_front[i] = true;
  for (size_t i = 0; i < points.size(); ++i) {
    const SweepPoint& p = points[i];
    if (!plotted(p)) continue;
    // A kind that is neither is drawn as the baseline would be, rather than dropped unseen.
    out +=
        marker(p.kind, a.x(static_cast<double>(p.luts)), a.y(p.test_accuracy), on_front[i], "point",
               fmt::format("{} ({}): {}, {} LUTs", p.name, p.kind, percent(p.test_accuracy),
                           grouped(p.luts)));
  }
}

std::string diamond(double x, double y, const char* cls) {
  return fmt::format(
      "<path class=\"{}\" d=\"M{:.1f},{:.1f} l6,6 l-6,6 l-6,-6 z\" fill=\"{}\" "
      "stroke=\"#000\"",
      cls, x, y - 6, kReferenceColour);
}

void reference_markers(const std::vector<ReferencePoint>& refs, const Axes& a, std::string& out) {
  for (const ReferencePoint& r : refs) {
    if (r.luts <= 0 || !std::isfinite(r.accuracy)) continue;
    const double x = a.x(static_cast<double>(r.luts)), y = a.y(r.accuracy);
    const std::string text =
        fmt::format("{} {}, {}", r.label, percent(r.accuracy), grouped(r.luts));
    // The label alone beside the marker, the numbers in its tooltip: the sweep's points crowd
    // the same corner. Right of the marker, or left of it in the right third to stay inside; a
    // white halo keeps it legible across grid lines and fronts.
    const bool left = x > kLeft + 0.66 * (kRight - kLeft);
    out += diamond(x, y, "reference") + "><title>" + xml_escape(text) + "</title></path>\n";
    out += fmt::format(
        "<text class=\"reference-label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\" "
        "font-size=\"11\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">{}"
        "</text>\n",
        left ? x - 9 : x + 9, y + 4, left ? "end" : "start", xml_escape(r.label));
  }
}

void legend(size_t unplotted, std::string& out) {
  const double x = kRight + 20;
  double y = kTop + 10;
  const auto row = [&](const std::string& sample, const std::string& text) {
    out += sample + fmt::format("<text x=\"{}\" y=\"{:.1f}\">{}</text>\n", x + 16, y + 4, text);
    y += 20;
  };
  row(marker(kSweepLutnet, x + 5, y, true, "legend", ""), "LUTNet");
  row(marker(kSweepBaseline, x + 5, y, true, "legend", ""), "baseline (XNOR)");
  row(marker(kSweepLutnet, x + 5, y, false, "legend", ""), "dominated (hollow)");
  for (const auto& [colour, text] :
       {std::pair{kLutnetColour, "LUTNet front"}, std::pair{kBaselineColour, "baseline front"}})
    row(fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"{}\" "
                    "stroke-width=\"1.5\"/>",
                    x - 2, y, x + 12, y, colour),
        text);
  row(diamond(x + 5, y, "legend") + "/>", "published (Vivado)");
  if (unplotted)
    row("",
        fmt::format("{} point{} without LUTs (table only)", unplotted, unplotted == 1 ? "" : "s"));
}

}  // namespace

std::string sweep_svg(const std::vector<SweepPoint>& points,
                      const std::vector<ReferencePoint>& references) {
  const Axes a = fit_axes(points, references);
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"{0}\" height=\"{1}\" fill=\"#ffffff\"/>\n",
      kWidth, kHeight);
  x_ticks(a, out);
  y_ticks(a, out);
  frame_and_titles(out);
  fronts(points, a, out);
  reference_markers(references, a, out);
  point_markers(points, a, out);
  const auto unplotted = static_cast<size_t>(
      std::count_if(points.begin(), points.end(), [](const SweepPoint& p) { return !plotted(p); }));
  legend(unplotted, out);
  if (std::none_of(points.begin(), points.end(), plotted))
    out += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">no sweep point has a LUT "
        "count yet</text>\n",
        (kLeft + kRight) / 2, (kTop + kBottom) / 2);
  return out + "</svg>\n";
}

// ---- HTML -------------------------------------------------------------------------------------

namespace {

std::string point_brief(const SweepPoint& p) {
  return fmt::format("{} ({}, {} LUTs)", p.name, percent(p.test_accuracy), grouped(p.luts));
}

// One sentence per target: the ratio and where it comes from, or why there is none.
std::string ratio_sentence(const std::vector<SweepPoint>& points, double target) {
  const std::string at = fmt::format("At {:g}% test accuracy", 100 * target);
  if (const auto r = matched_area_ratio(points, target)) {
    const SweepPoint& p = points[r->lutnet_index];
    const std::string baseline =
        r->baseline_below == r->baseline_above
            ? fmt::format("the baseline's {} matches it exactly",
                          point_brief(points[r->baseline_below]))
            : fmt::format(
                  "the baseline's front, interpolated between {} and {}, needs about {} "
                  "LUTs there",
                  point_brief(points[r->baseline_below]), point_brief(points[r->baseline_above]),
                  grouped(std::llround(r->baseline_luts)));
    return fmt::format(
        "{}: LUTNet's cheapest point to reach it is {}; {}: a matched-accuracy "
        "area ratio of {:.2f}x (baseline LUTs over LUTNet LUTs).",
        at, point_brief(p), baseline, r->ratio);
  }
  const auto lutnet = pareto_front(points, kSweepLutnet);
  if (lutnet.empty() || points[lutnet.back()].test_accuracy < target)
    return fmt::format("{}: no ratio, no LUTNet point reaches it{}.", at,
                       lutnet.empty() ? "" : " (best " + point_brief(points[lutnet.back()]) + ")");
  const auto baseline = pareto_front(points, kSweepBaseline);
  if (baseline.empty()) return at + ": no ratio, no baseline point has a LUT count.";
  const size_t cheapest = *std::find_if(
      lutnet.begin(), lutnet.end(), [&](size_t i) { return points[i].test_accuracy >= target; });
  return fmt::format("{}: no ratio, the baseline's front spans {} to {}, which misses LUTNet's {}.",
                     at, percent(points[baseline.front()].test_accuracy),
                     percent(points[baseline.back()].test_accuracy), point_brief(points[cheapest]));
}

std::string count_cell(int64_t n, int64_t unknown) { return n == unknown ? "-" : grouped(n); }

// "31,655 of 40,141" when the number of tables is known.
std::string xnor_cell(const SweepPoint& p) {
  if (p.xnor_luts < 0) return "-";
  return p.tables > 0 ? fmt::format("{} of {}", grouped(p.xnor_luts), grouped(p.tables))
                      : grouped(p.xnor_luts);
}

// Every point, LUTNet first, then by LUTs (those without LUTs last), then by name.
std::string points_table(const std::vector<SweepPoint>& points) {
  std::vector<bool> on_front(points.size());
  for (const char* kind : {kSweepLutnet, kSweepBaseline})
    for (size_t i : pareto_front(points, kind)) on_front[i] = true;
  std::vector<size_t> order(points.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  const auto key = [&](size_t i) {
    const SweepPoint& p = points[i];
    return std::tuple(p.kind != kSweepLutnet, p.kind, p.luts <= 0, p.luts, p.name);
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
  std::string out =
      "<table>\n<thead><tr><th>kind</th><th>name</th><th>test accuracy</th><th>LUTs</th>"
      "<th>encoder LUTs</th><th>tables still XNOR</th><th>verified</th><th>on front</th>"
      "<th>command</th></tr></thead>\n<tbody>\n";
  for (size_t i : order) {
    const SweepPoint& p = points[i];
    out += fmt::format(
        "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td>"
        "<td><code>{}</code></td></tr>\n",
        xml_escape(p.kind), xml_escape(p.name), percent(p.test_accuracy), count_cell(p.luts, 0),
        grouped(p.encoder_luts), xnor_cell(p), p.verified ? "yes" : "no",
        on_front[i] ? "yes" : "", xml_escape(p.command));
  }
  return out + "</tbody>\n</table>\n";
}

std::string references_sentence(const std::vector<ReferencePoint>& refs) {
  if (refs.empty()) return "";
  std::string list;
  for (const ReferencePoint& r : refs)
    list += fmt::format("{}{} {} at {} LUTs", list.empty() ? "" : "; ", xml_escape(r.label),
                        percent(r.accuracy), grouped(r.luts));
  return "<p>Published points drawn for context (Vivado LUT counts, not comparable one to one "
         "with Yosys): " +
         list + ".</p>\n";
}

}  // namespace

std::string sweep_html(const std::vector<SweepPoint>& points,
                       const std::vector<ReferencePoint>& references, const std::string& title) {
  const std::string t = xml_escape(title);
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
      "<meta charset=\"utf-8\"/>\n<title>{0}</title>\n<style>\n"
      "body {{ font-family: sans-serif; margin: 2em; }}\n"
      "table {{ border-collapse: collapse; font-size: 90%; }}\n"
      "th, td {{ border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; }}\n"
      "td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}\n"
      "</style>\n</head>\n<body>\n<h1>{0}</h1>\n<div>\n",
      t);
  out += sweep_svg(points, references) + "</div>\n";
  for (double target : kSweepRatioTargets)
    out += "<p>" + xml_escape(ratio_sentence(points, target)) + "</p>\n";
  out +=
      "<p>LUTs are Yosys LUTs without the input encoder, which has its own column. A front "
      "holds the points that no point of the same kind beats on both accuracy and LUTs; the "
      "baseline's is read between its points linearly in accuracy and log LUTs, as drawn.</p>\n";
  out += references_sentence(references);
  out += points_table(points);
  return out + "</body>\n</html>\n";
}

}  // namespace lutnet::flows
