// The energy arithmetic (events x coefficients, the uncertainty and glitch range, the vectorless
// activity) against hand computations, and the coefficients file: its round trip and one-line
// errors that name the file and the key.
#include "power/energy_model.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "core/error.hpp"

namespace lutnet::power {
namespace {

using ::testing::HasSubstr;

EnergyCoefficients unit_coefficients() {
  EnergyCoefficients c;
  c.family = "test";
  for (size_t i = 0; i < kTermCount; ++i) c.terms[i] = {static_cast<double>(i + 1), 2, "test"};
  c.glitch_low = 1;
  c.glitch_high = 3;
  return c;
}

ResourceActivity small_activity() {
  ResourceActivity a;
  a.cycles = 10;
  a.lut_outputs = 4;
  a.carry_outputs = 2;
  a.ffs = 3;
  a.srls = 1;
  a.nets = 9;
  a.fanout = 20;
  a.bram18_ports = 1;
  a.bram36_ports = 2;
  a.lut_output_toggles = 7;
  a.carry_output_toggles = 5;
  a.ff_output_toggles = 6;
  a.net_toggles = 18;
  a.net_fanout_toggles = 40;
  a.srl_shifts = 4;
  a.bram18_reads = 3;
  a.bram36_reads = 12;
  return a;
}

TEST(EnergyModel, PricesEveryTermByHand) {
  const EnergyEstimate e = price(small_activity(), unit_coefficients());
  // Coefficient of term i is i + 1 pJ.
  const double expected[kTermCount] = {
      7 * 1,             // LUT output toggles
      5 * 2,             // carry output toggles
      6 * 3,             // flip-flop output toggles
      3 * 10 * 4,        // flip-flops x cycles, clock pin
      (3 + 1) * 10 * 5,  // flip-flops and SRLs x cycles, clock tree
      18 * 6,            // net toggles
      40 * 7,            // net toggles x fanout
      4 * 8,             // SRL shifts
      3 * 9,             // RAMB18 reads
      12 * 10,           // RAMB36 reads
  };
  double total = 0, combinational = 0;
  for (size_t i = 0; i < kTermCount; ++i) {
    EXPECT_DOUBLE_EQ(e.pj[i], expected[i]) << term_key(static_cast<Term>(i));
    total += expected[i];
  }
  combinational = expected[0] + expected[1] + expected[5] + expected[6];
  EXPECT_DOUBLE_EQ(e.total_pj, total);
  // Low end: every coefficient / 2, no glitches; high end: x 2, combinational terms x 3 more.
  EXPECT_DOUBLE_EQ(e.low_pj, total / 2);
  EXPECT_DOUBLE_EQ(e.high_pj, (total - combinational) * 2 + combinational * 2 * 3);
}

TEST(EnergyModel, VectorlessTogglesEveryNetAtTheRate) {
  const ResourceActivity a = small_activity();
  const ResourceActivity v = vectorless_activity(a, 0.125, 0.5);
  EXPECT_DOUBLE_EQ(v.lut_output_toggles, 4 * 10 * 0.125);
  EXPECT_DOUBLE_EQ(v.carry_output_toggles, 2 * 10 * 0.125);
  EXPECT_DOUBLE_EQ(v.ff_output_toggles, 3 * 10 * 0.125);
  EXPECT_DOUBLE_EQ(v.net_toggles, 9 * 10 * 0.125);
  EXPECT_DOUBLE_EQ(v.net_fanout_toggles, 20 * 10 * 0.125);
  EXPECT_DOUBLE_EQ(v.srl_shifts, 1 * 10 * 0.5);
  EXPECT_DOUBLE_EQ(v.bram18_reads, 1 * 10 * 0.5);
  EXPECT_DOUBLE_EQ(v.bram36_reads, 2 * 10 * 0.5);
  EXPECT_DOUBLE_EQ(v.net_toggle_rate(), 0.125);
  EXPECT_DOUBLE_EQ(a.net_toggle_rate(), 18.0 / 90.0);
}

TEST(EnergyModel, PartsAddUpAndShareTheirClocks) {
  ResourceActivity sum = small_activity();
  sum += small_activity();
  EXPECT_EQ(sum.cycles, 10u);
  EXPECT_EQ(sum.ffs, 6);
  EXPECT_DOUBLE_EQ(sum.net_toggles, 36);
  const auto c = unit_coefficients();
  EXPECT_DOUBLE_EQ(price(sum, c).total_pj, 2 * price(small_activity(), c).total_pj);
}

TEST(EnergyModel, BuiltInTableIsCompleteAndSourced) {
  const EnergyCoefficients c = builtin_coefficients();
  EXPECT_THAT(c.family, HasSubstr("UltraScale+"));
  std::set<std::string> keys;
  for (size_t i = 0; i < kTermCount; ++i) {
    const Term t = static_cast<Term>(i);
    SCOPED_TRACE(term_key(t));
    keys.insert(term_key(t));
    EXPECT_GT(c[t].pj, 0);
    EXPECT_GE(c[t].uncertainty, 1);
    EXPECT_FALSE(c[t].source.empty());
    EXPECT_FALSE(std::string(term_meaning(t)).empty());
  }
  EXPECT_EQ(keys.size(), kTermCount);
  EXPECT_GE(c.glitch_high, c.glitch_low);
}

TEST(EnergyModel, CoefficientsRoundTripThroughJson) {
  const EnergyCoefficients c = builtin_coefficients();
  const EnergyCoefficients back = parse_coefficients(coefficients_json(c).dump(), "table.json");
  EXPECT_EQ(back.family, c.family);
  EXPECT_EQ(back.origin, "table.json");
  for (size_t i = 0; i < kTermCount; ++i) {
    EXPECT_DOUBLE_EQ(back.terms[i].pj, c.terms[i].pj);
    EXPECT_DOUBLE_EQ(back.terms[i].uncertainty, c.terms[i].uncertainty);
    EXPECT_EQ(back.terms[i].source, c.terms[i].source);
  }
  EXPECT_DOUBLE_EQ(back.glitch_high, c.glitch_high);
}

// The error of parsing `text` (which must fail), on one line.
std::string error_of(const std::string& text) {
  try {
    parse_coefficients(text, "my.json");
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_THAT(what, HasSubstr("my.json"));
    return what;
  }
  ADD_FAILURE() << "accepted: " << text;
  return {};
}

std::string table_with(const std::string& key, const std::string& value) {
  nlohmann::json j = coefficients_json(builtin_coefficients());
  j["coefficients"][key] = nlohmann::json::parse(value);
  return j.dump();
}

TEST(EnergyModel, BadCoefficientsFilesGiveOneLineErrors) {
  EXPECT_THAT(error_of("{\"coefficients\": {"), HasSubstr("not valid JSON"));
  EXPECT_THAT(error_of("[1, 2]"), HasSubstr("\"coefficients\""));
  EXPECT_THAT(error_of(table_with("lut_output_toggle", "{\"pj\": -1}")),
              HasSubstr("coefficients.lut_output_toggle.pj"));
  EXPECT_THAT(error_of(table_with("net_toggle", "{\"pj\": \"cheap\"}")),
              HasSubstr("coefficients.net_toggle.pj must be a number"));
  EXPECT_THAT(error_of(table_with("net_toggle", "{\"uncertainty\": 2}")), HasSubstr("\"pj\""));
  EXPECT_THAT(error_of(table_with("net_toggle", "{\"pj\": 1, \"uncertainty\": 0.5}")),
              HasSubstr("uncertainty"));
  EXPECT_THAT(error_of(table_with("bram18_read", "3")), HasSubstr("must be an object"));
  EXPECT_THAT(error_of(table_with("lut_toggle", "{\"pj\": 1}")),
              HasSubstr("unknown coefficient \"lut_toggle\""));
  nlohmann::json missing = coefficients_json(builtin_coefficients());
  missing["coefficients"].erase("srl_shift");
  EXPECT_THAT(error_of(missing.dump()), HasSubstr("no \"srl_shift\""));
  nlohmann::json glitch = coefficients_json(builtin_coefficients());
  glitch["glitch"] = {{"low", 2}, {"high", 1}};
  EXPECT_THAT(error_of(glitch.dump()), HasSubstr("glitch.high"));
}

TEST(EnergyModel, MissingFileNamesIt) {
  try {
    read_coefficients("/nonexistent/coefficients.json");
    FAIL() << "read a file that does not exist";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/coefficients.json"));
  }
}

}  // namespace
}  // namespace lutnet::power
