// The sweep report: Pareto fronts, the baseline's interpolated LUTs, the matched-accuracy ratio,
// the JSON round trip, and an SVG and HTML that xmllint accepts.
#include "flows/sweep_report.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "core/error.hpp"
#include "flows/subprocess.hpp"

namespace lutnet::flows {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

SweepPoint point(const std::string& name, const std::string& kind, double accuracy, int64_t luts) {
  SweepPoint p;
  p.name = name;
  p.kind = kind;
  p.test_accuracy = accuracy;
  p.luts = luts;
  return p;
}

SweepPoint lut(const std::string& name, double accuracy, int64_t luts) {
  return point(name, kSweepLutnet, accuracy, luts);
}
SweepPoint base(const std::string& name, double accuracy, int64_t luts) {
  return point(name, kSweepBaseline, accuracy, luts);
}

// The case worked by hand in MatchedRatio.WorkedByHand.
std::vector<SweepPoint> worked_sweep() {
  return {base("b0", 0.970, 20000), base("b1", 0.980, 80000), base("b2", 0.985, 160000),
          lut("l0", 0.972, 10000),  lut("l1", 0.976, 12000),  lut("l2", 0.981, 30000),
          lut("l3", 0.979, 40000)};
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string error_of(const json& j) {
  try {
    sweep_points_from_json(j, "sweep.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(SweepReportFront, DropsDominatedPointsAndKeepsExactTies) {
  const std::vector<SweepPoint> points = {
      lut("a", 0.97, 1000),   // 0: on the front
      lut("b", 0.98, 2000),   // 1: on the front
      lut("c", 0.975, 2500),  // 2: b beats it on both
      lut("d", 0.97, 1000),   // 3: a's exact twin: neither beats the other
      lut("e", 0.96, 1000),   // 4: a's LUTs, less accurate
      lut("f", 0.98, 3000),   // 5: b's accuracy, more LUTs
      lut("g", 0.99, 0),      // 6: not synthesized: no part in the front
      base("h", 0.99, 10),    // 7: the other kind does not dominate
  };
  EXPECT_THAT(pareto_front(points, kSweepLutnet), ElementsAre(0, 3, 1));
  EXPECT_THAT(pareto_front(points, kSweepBaseline), ElementsAre(7));
  EXPECT_TRUE(pareto_front(points, "other").empty());
  EXPECT_TRUE(pareto_front({}, kSweepLutnet).empty());
}

TEST(SweepReportFront, SortsByLutsWhenGivenOutOfOrder) {
  const std::vector<SweepPoint> points = {lut("x", 0.99, 9000), lut("y", 0.95, 100),
                                          lut("z", 0.97, 700)};
  EXPECT_THAT(pareto_front(points, kSweepLutnet), ElementsAre(1, 2, 0));
}

TEST(SweepReportInterpolation, AtBetweenAndOutsideFrontPoints) {
  const std::vector<SweepPoint> points = {base("lo", 0.96, 1000), base("hi", 0.98, 100000),
                                          base("dominated", 0.97, 200000), lut("l", 0.97, 5)};
  EXPECT_EQ(baseline_luts_at(points, 0.96), 1000.0);
  EXPECT_EQ(baseline_luts_at(points, 0.98), 100000.0);
  // Linear in log LUTs: halfway in accuracy is the geometric mean, a quarter is 10^3.5.
  ASSERT_TRUE(baseline_luts_at(points, 0.97));
  EXPECT_NEAR(*baseline_luts_at(points, 0.97), 10000.0, 1e-6);
  EXPECT_NEAR(*baseline_luts_at(points, 0.965), 3162.2777, 1e-3);
  EXPECT_FALSE(baseline_luts_at(points, 0.9599));
  EXPECT_FALSE(baseline_luts_at(points, 0.9801));
  EXPECT_FALSE(baseline_luts_at(points, std::nan("")));
  EXPECT_FALSE(baseline_luts_at({}, 0.97));
}

TEST(SweepReportInterpolation, OnePointAndDuplicates) {
  const std::vector<SweepPoint> one = {base("only", 0.97, 1234), base("unsynthesized", 0.99, 0)};
  EXPECT_EQ(baseline_luts_at(one, 0.97), 1234.0);
  EXPECT_FALSE(baseline_luts_at(one, 0.98));
  const std::vector<SweepPoint> twins = {base("a", 0.97, 500), base("b", 0.97, 500),
                                         base("c", 0.99, 5000)};
  EXPECT_EQ(baseline_luts_at(twins, 0.97), 500.0);
  EXPECT_NEAR(*baseline_luts_at(twins, 0.98), std::sqrt(500.0 * 5000.0), 1e-6);
}

TEST(SweepReportRatio, WorkedByHand) {
  const auto points = worked_sweep();
  // 97.5%: l1 (97.6%, 12,000) is LUTNet's cheapest point there (l0 falls short). The baseline at
  // 97.6% lies 0.6 of the way from b0 (97.0%, 20,000) to b1 (98.0%, 80,000) in log LUTs:
  // 20,000 * 4^0.6 = 45,947.9 LUTs, and 45,947.9 / 12,000 = 3.8290.
  const auto r = matched_area_ratio(points, 0.975);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->target_accuracy, 0.975);
  EXPECT_EQ(points[r->lutnet_index].name, "l1");
  EXPECT_EQ(points[r->baseline_below].name, "b0");
  EXPECT_EQ(points[r->baseline_above].name, "b1");
  EXPECT_NEAR(r->baseline_luts, 45947.9, 0.1);
  EXPECT_NEAR(r->ratio, 3.8290, 1e-4);
  // 98.0%: l2 (98.1%, 30,000; l3 is dominated by it); 0.2 of the way from b1 to b2 (98.5%,
  // 160,000): 80,000 * 2^0.2 = 91,895.9, over 30,000 = 3.0632.
  const auto s = matched_area_ratio(points, 0.98);
  ASSERT_TRUE(s);
  EXPECT_EQ(points[s->lutnet_index].name, "l2");
  EXPECT_NEAR(s->baseline_luts, 91895.9, 0.1);
  EXPECT_NEAR(s->ratio, 3.0632, 1e-4);
  EXPECT_FALSE(matched_area_ratio(points, 0.99));  // no LUTNet point reaches it
}

TEST(SweepReportRatio, ExactHitAndBaselineOutOfRange) {
  const std::vector<SweepPoint> exact = {base("b", 0.98, 80000), lut("l", 0.98, 20000)};
  const auto r = matched_area_ratio(exact, 0.975);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->baseline_below, 0u);
  EXPECT_EQ(r->baseline_above, 0u);
  EXPECT_EQ(r->ratio, 4.0);
  // LUTNet reaches 98.1%, the baseline's front only 97.5%: no ratio rather than an extrapolation.
  const std::vector<SweepPoint> short_baseline = {base("b0", 0.97, 20000), base("b1", 0.975, 40000),
                                                  lut("l", 0.981, 1)};
  EXPECT_FALSE(matched_area_ratio(short_baseline, 0.98));
  EXPECT_FALSE(matched_area_ratio({}, 0.98));
  EXPECT_FALSE(matched_area_ratio({lut("l", 0.99, 100)}, 0.98));
}

std::vector<SweepPoint> varied_sweep() {
  auto points = worked_sweep();
  points[0].encoder_luts = 321;
  points[0].xnor_luts = 17;
  points[0].verified = true;
  points[0].model_path = "runs/sweep/b0/baseline.json";
  points[0].command = "lutnet train --k 4 --keep 0.05 --out 'runs/sweep/b0' # <&>\"'";
  points[6].model_path = "runs/sweep/k4-keep0.05-h256x2-\xc3\xa9/model.json";  // UTF-8
  points.push_back(lut("never synthesized", 0.5, 0));
  return points;
}

TEST(SweepReportJson, RoundTripsThroughText) {
  const auto points = varied_sweep();
  const json j = sweep_to_json(points, mnist_reference_points());
  const json back = json::parse(j.dump(2));
  EXPECT_EQ(sweep_points_from_json(back, "sweep.json"), points);
  EXPECT_EQ(back["fronts"]["lutnet"].get<std::vector<size_t>>(),
            pareto_front(points, kSweepLutnet));
  EXPECT_EQ(back["fronts"]["baseline"].get<std::vector<size_t>>(),
            pareto_front(points, kSweepBaseline));
  ASSERT_EQ(back["ratios"].size(), 2u);
  EXPECT_EQ(back["ratios"][0]["target_accuracy"], 0.975);
  EXPECT_NEAR(back["ratios"][0]["ratio"].get<double>(), 3.8290, 1e-4);
  EXPECT_EQ(back["ratios"][0]["lutnet_name"], "l1");
  EXPECT_EQ(back["references"].size(), 3u);
  EXPECT_EQ(back["references"][0]["luts"], 58192);
  EXPECT_TRUE(sweep_points_from_json(sweep_to_json({}, {}), "empty").empty());
  const json none = sweep_to_json({lut("l", 0.9, 10)}, {});
  EXPECT_TRUE(none["ratios"][1]["ratio"].is_null());
}

TEST(SweepReportJson, ErrorsNameTheSourceThePointAndTheKey) {
  const json good = sweep_to_json(worked_sweep(), {});
  auto with = [&](const char* key, const json& value) {
    json j = good;
    j["points"][1][key] = value;
    return error_of(j);
  };
  json missing = good;
  missing["points"][1].erase("luts");
  EXPECT_EQ(error_of(missing), "sweep.json: points[1]: missing key 'luts'");
  EXPECT_EQ(with("luts", "80000"), "sweep.json: points[1]: 'luts' must be an integer");
  EXPECT_THAT(with("luts", -1), HasSubstr("points[1]: 'luts' is -1"));
  EXPECT_THAT(with("xnor_luts", -2), HasSubstr("'xnor_luts' is -2"));
  EXPECT_THAT(with("kind", "bnn"), HasSubstr("points[1]: 'kind' is 'bnn'"));
  EXPECT_THAT(with("test_accuracy", 98.0), HasSubstr("'test_accuracy' is 98"));
  EXPECT_THAT(with("verified", 1), HasSubstr("'verified' must be true or false"));
  EXPECT_THAT(with("lut", 5), HasSubstr("points[1]: unknown key 'lut'"));
  EXPECT_THAT(with("name", "b0"), HasSubstr("points[1]: 'b0' (baseline) appears twice"));
  EXPECT_THAT(error_of(json::array()), HasSubstr("sweep.json: expected an object"));
  EXPECT_THAT(error_of({{"points", 3}}), HasSubstr("'points' must be an array"));
  EXPECT_THAT(error_of({{"points", {1}}}), HasSubstr("points[0]: expected an object"));
  // Optional keys take their defaults.
  const json minimal = {{"name", "n"}, {"kind", "lutnet"}, {"test_accuracy", 0.9}, {"luts", 7}};
  const auto p = sweep_points_from_json({{"points", json::array({minimal})}}, "min");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], lut("n", 0.9, 7));
}

TEST(SweepReportEscape, EscapesMarkupAndControlCharacters) {
  EXPECT_EQ(xml_escape("a<b&c>\"d'e"), "a&lt;b&amp;c&gt;&quot;d&#39;e");
  EXPECT_EQ(xml_escape(std::string("x\x01y\tz\n", 6)), "x?y\tz\n");
  EXPECT_EQ(xml_escape("\xc3\xa9"), "\xc3\xa9");
}

// ---- The SVG and the HTML through xmllint ------------------------------------------------------

struct ToolRun {
  int status = -1;
  std::string output;  // stdout and stderr
};

ToolRun run_shell(const std::string& command) {
  ToolRun r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) r.output.append(buffer, n);
  const int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// xmllint is a test dependency (scripts/install-deps.sh installs it): a missing one fails, so
// that the well-formedness checks cannot silently stop running.
#define LUTNET_REQUIRE_XMLLINT()                                                             \
  do {                                                                                       \
    if (::lutnet::flows::find_program("xmllint").empty())                                    \
      FAIL() << "xmllint not found on PATH: run scripts/install-deps.sh (libxml2-utils) to " \
                "check the report's SVG and HTML";                                           \
  } while (0)

class SweepReportMarkup : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& name, const std::string& text) {
    const auto path = dir_.path() / name;
    std::ofstream(path) << text;
    return path;
  }
  // Strict XML: the SVG, and the HTML too, which is written to be well-formed XML as well.
  static ToolRun xml_check(const std::filesystem::path& path) {
    return run_shell("xmllint --noout '" + path.string() + "'");
  }
  // libxml2's HTML parser knows HTML 4 only: it reports inline SVG elements as "Tag svg invalid"
  // and exits 0 even on real errors, so every message but those fails the check.
  static ToolRun html_check(const std::filesystem::path& path) {
    ToolRun r = run_shell("xmllint --html --noout '" + path.string() + "'");
    static const std::regex svg_tag(R"(Tag (svg|circle|rect|line|polyline|path|text) invalid)");
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);)
      if ((line.find("error : ") != std::string::npos ||
           line.find("warning : ") != std::string::npos) &&
          !std::regex_search(line, svg_tag) && r.status == 0)
        r.status = 100;
    return r;
  }
  void expect_well_formed(const std::vector<SweepPoint>& points,
                          const std::vector<ReferencePoint>& refs, const std::string& what) {
    const auto svg = write("plot.svg", sweep_svg(points, refs));
    const auto html = write("report.html", sweep_html(points, refs, "Sweep <&> \"" + what + "\""));
    const ToolRun s = xml_check(svg), h = html_check(html), hx = xml_check(html);
    EXPECT_EQ(s.status, 0) << what << ": SVG\n" << s.output;
    EXPECT_EQ(h.status, 0) << what << ": HTML\n" << h.output;
    EXPECT_EQ(hx.status, 0) << what << ": HTML as XML\n" << hx.output;
  }

  WorkDir dir_{{}, false, "lutnet-sweep-report-test"};
};

TEST_F(SweepReportMarkup, TheChecksRejectBrokenFiles) {
  LUTNET_REQUIRE_XMLLINT();
  EXPECT_NE(xml_check(write("bad.svg", "<svg><text>a & b</text></svg>\n")).status, 0);
  EXPECT_NE(html_check(write("bad.html", "<html><body><p><b>x</i></p></body></html>\n")).status, 0);
  EXPECT_EQ(html_check(write("ok.html", "<html><body><p>x <svg></svg></p></body></html>\n")).status,
            0);
}

TEST_F(SweepReportMarkup, SvgAndHtmlAreWellFormedInEveryShape) {
  LUTNET_REQUIRE_XMLLINT();
  const auto refs = mnist_reference_points();
  expect_well_formed(varied_sweep(), refs, "sweep");
  expect_well_formed({}, refs, "no points");
  expect_well_formed({}, {}, "nothing at all");
  expect_well_formed({lut("one", 0.97, 5000)}, {}, "one point");
  expect_well_formed({lut("z", 0.9, 0), base("y", 0.8, 0)}, refs, "no LUT counts");
  expect_well_formed({lut("a", 0.97, 100), lut("b", 0.98, 100), base("c", 0.97, 100)}, {},
                     "equal LUTs");
  expect_well_formed({lut("a", 1.0, 100), base("b", 1.0, 1000000)}, {}, "all at 100%");
  expect_well_formed({lut("a", 0.0, 1), base("b", 0.1, 3)}, {}, "near zero");
}

// The cx or x of every element of `cls` in the SVG.
std::vector<double> positions(const std::string& svg, const std::string& cls) {
  const std::regex re("class=\"" + cls + "\" (?:cx|x)=\"([-0-9.]+)\" (?:cy|y)=\"([-0-9.]+)\"");
  std::vector<double> out;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back(std::stod((*it)[1]));
    out.push_back(std::stod((*it)[2]));
  }
  return out;
}

TEST(SweepReportSvg, OneMarkerPerPlottedPointAndLabelledReferences) {
  auto points = varied_sweep();  // 3 baseline, 4 LUTNet and 1 LUTNet without LUTs
  points.push_back(base("b0 twin", 0.970, 20000));
  auto refs = mnist_reference_points();
  refs.push_back({"A<&>B", 0.95, 3000});
  const std::string svg = sweep_svg(points, refs);
  EXPECT_EQ(count(svg, "class=\"point lutnet\""), 4u);
  EXPECT_EQ(count(svg, "class=\"point baseline\""), 4u);
  EXPECT_EQ(count(svg, "class=\"reference\""), 4u);
  EXPECT_EQ(count(svg, "class=\"front lutnet\""), 1u);
  EXPECT_EQ(count(svg, "class=\"front baseline\""), 1u);
  for (const auto& r : mnist_reference_points()) EXPECT_THAT(svg, HasSubstr(r.label));
  EXPECT_THAT(svg, HasSubstr("<title>DWN (published, no encoder) 98.30%, 4,082</title>"));
  EXPECT_THAT(svg, HasSubstr("A&lt;&amp;&gt;B"));
  EXPECT_THAT(svg, Not(HasSubstr("A<&>B")));
  EXPECT_THAT(svg, Not(HasSubstr("never synthesized")));
  EXPECT_THAT(svg, HasSubstr("1 point without LUTs"));
  EXPECT_THAT(svg, HasSubstr(">10k</text>"));  // a labelled log tick
  // Every marker inside the plot area.
  for (const char* cls : {"point lutnet", "point baseline"}) {
    const auto xy = positions(svg, cls);
    ASSERT_EQ(xy.size(), 8u) << cls;
    for (size_t i = 0; i < xy.size(); i += 2) {
      EXPECT_GT(xy[i], 60);
      EXPECT_LT(xy[i], 620);
      EXPECT_GT(xy[i + 1], 10);
      EXPECT_LT(xy[i + 1], 450);
    }
  }
}

TEST(SweepReportSvg, EqualLutsAndOnePointStayInsideThePlot) {
  for (const auto& points : {std::vector<SweepPoint>{lut("a", 0.97, 100), lut("b", 0.97, 100)},
                             std::vector<SweepPoint>{base("only", 0.5, 1)}}) {
    const std::string svg = sweep_svg(points, {});
    const auto xy =
        positions(svg, points[0].kind == kSweepLutnet ? "point lutnet" : "point baseline");
    ASSERT_EQ(xy.size(), 2 * points.size());
    for (double v : xy) EXPECT_TRUE(std::isfinite(v));
    EXPECT_GT(xy[0], 70);
    EXPECT_LT(xy[0], 610);
    EXPECT_GT(xy[1], 20);
    EXPECT_LT(xy[1], 440);
  }
}

TEST(SweepReportHtml, RatiosTableAndEscaping) {
  const auto points = varied_sweep();
  const std::string html = sweep_html(points, mnist_reference_points(), "MNIST <sweep> & co");
  EXPECT_THAT(html, HasSubstr("<title>MNIST &lt;sweep&gt; &amp; co</title>"));
  EXPECT_THAT(html, HasSubstr("area ratio of 3.83x"));
  EXPECT_THAT(html, HasSubstr("area ratio of 3.06x"));
  EXPECT_THAT(html, HasSubstr("l1 (97.60%, 12,000 LUTs)"));
  EXPECT_THAT(html, HasSubstr("# &lt;&amp;&gt;&quot;&#39;</code>"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("href=")));
  EXPECT_EQ(count(html, "<tr><td>"), points.size());
  // LUTNet first, then the baseline; by LUTs within each, the point without LUTs last.
  std::vector<size_t> at;
  for (const char* name :
       {">l0<", ">l1<", ">l2<", ">l3<", ">never synthesized<", ">b0<", ">b1<", ">b2<"})
    at.push_back(html.find(name));
  for (size_t i = 0; i < at.size(); ++i) {
    ASSERT_NE(at[i], std::string::npos) << i;
    if (i) {
      EXPECT_LT(at[i - 1], at[i]) << i;
    }
  }
}

TEST(SweepReportHtml, SaysWhyThereIsNoRatio) {
  EXPECT_THAT(sweep_html({}, {}, "t"), HasSubstr("At 97.5% test accuracy: no ratio, no LUTNet"));
  EXPECT_THAT(sweep_html({lut("l", 0.99, 10)}, {}, "t"),
              HasSubstr("At 98% test accuracy: no ratio, no baseline point has a LUT count."));
  EXPECT_THAT(sweep_html({lut("l", 0.99, 10), base("b", 0.9, 10)}, {}, "t"),
              HasSubstr("front spans 90.00% to 90.00%, which misses LUTNet&#39;s l (99.00%"));
}

}  // namespace
}  // namespace lutnet::flows
