// The SAIF file of a hand-made netlist and activity, read back by a small s-expression parser:
// header fields, the instance tree, every named net once with T0 + T1 = DURATION and its toggle
// count, generated names left out, the clock at two toggles per cycle, identifiers escaped.
#include "power/saif_writer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <memory>

namespace lutnet::power {
namespace {

using ::testing::HasSubstr;

// An s-expression: an atom, or a list of them.
struct Node {
  std::string atom;
  std::vector<Node> list;
  bool is_list = false;
  const Node* find(const std::string& head) const {
    for (const auto& n : list)
      if (n.is_list && !n.list.empty() && n.list[0].atom == head) return &n;
    return nullptr;
  }
};

// Parses one expression at `at`; atoms end at whitespace or a parenthesis, backslash escapes
// the next character (kept, as in the file).
Node parse(const std::string& s, size_t& at) {
  while (at < s.size() && std::isspace(static_cast<unsigned char>(s[at]))) ++at;
  Node n;
  if (at >= s.size()) throw std::runtime_error("unexpected end");
  if (s[at] == '(') {
    n.is_list = true;
    ++at;
    for (;;) {
      while (at < s.size() && std::isspace(static_cast<unsigned char>(s[at]))) ++at;
      if (at >= s.size()) throw std::runtime_error("unbalanced (");
      if (s[at] == ')') {
        ++at;
        return n;
      }
      n.list.push_back(parse(s, at));
    }
  }
  if (s[at] == ')') throw std::runtime_error("unbalanced )");
  if (s[at] == '"') {
    const size_t end = s.find('"', at + 1);
    n.atom = s.substr(at, end - at + 1);
    at = end + 1;
    return n;
  }
  while (at < s.size() && !std::isspace(static_cast<unsigned char>(s[at])) && s[at] != '(' &&
         s[at] != ')') {
    if (s[at] == '\\') n.atom += s[at++];
    n.atom += s[at++];
  }
  return n;
}

int64_t number(const Node& entry, const std::string& key) {
  const Node* n = entry.find(key);
  if (!n || n->list.size() != 2) throw std::runtime_error("no " + key);
  return std::stoll(n->list[1].atom);
}

// A top with an input bus and a generated net, and a layer instance with a named and a
// generated net.
struct Fixture {
  GateNetlist n;
  GateActivity a;
  Fixture() {
    n.top = "lutnet_top";
    n.instances = {{"", "lutnet_top", -1}, {"u_layer0", "lutnet_top_layer0", 0}};
    n.net_names = {"$false", "$true",           "clk",          "in_data[0]",
                   "_7_",    "u_layer0.acc[1]", "u_layer0._3_", "u_layer0.y"};
    n.net_instance = {0, 0, 0, 0, 0, 1, 1, 1};
    n.const0 = 0;
    n.const1 = 1;
    n.inputs = {{"clk", 2}, {"in_data[0]", 3}};
    a.cycles = 10;
    a.net_toggles = {0, 0, 0, 4, 9, 3, 5, 1};
    a.net_high = {0, 10, 0, 6, 5, 2, 5, 7};
    a.cell_enabled_edges = {};
  }
};

TEST(SaifWriter, StructureReadsBack) {
  Fixture f;
  SaifOptions o;
  o.clock_period_ps = 2500;
  o.date = "today";
  o.program_version = "9.9";
  const std::string text = saif_text(f.n, f.a, o);
  size_t at = 0;
  const Node file = parse(text, at);
  ASSERT_TRUE(file.is_list);
  EXPECT_EQ(file.list[0].atom, "SAIFILE");
  EXPECT_EQ(file.find("SAIFVERSION")->list[1].atom, "\"2.0\"");
  EXPECT_EQ(file.find("DIRECTION")->list[1].atom, "\"backward\"");
  EXPECT_EQ(file.find("DESIGN")->list[1].atom, "\"lutnet_top\"");
  EXPECT_EQ(file.find("VERSION")->list[1].atom, "\"9.9\"");
  EXPECT_EQ(file.find("DIVIDER")->list[1].atom, "/");
  EXPECT_EQ(file.find("TIMESCALE")->list[1].atom, "1");
  const int64_t duration = number(file, "DURATION");
  EXPECT_EQ(duration, 25000);

  const Node* top = file.find("INSTANCE");
  ASSERT_NE(top, nullptr);
  EXPECT_EQ(top->list[1].atom, "lutnet_top");
  std::map<std::string, std::pair<const Node*, std::string>> nets;  // name -> entry, instance
  auto collect = [&](const Node& inst) {
    const Node* list = inst.find("NET");
    if (!list) return;
    for (size_t i = 1; i < list->list.size(); ++i)
      nets[list->list[i].list[0].atom] = {&list->list[i], inst.list[1].atom};
  };
  collect(*top);
  const Node* layer = top->find("INSTANCE");
  ASSERT_NE(layer, nullptr);
  EXPECT_EQ(layer->list[1].atom, "u_layer0");
  collect(*layer);
  // Named nets only, each in its own instance; escaped brackets.
  ASSERT_EQ(nets.size(), 4u) << text;
  EXPECT_EQ(nets.at("clk").second, "lutnet_top");
  EXPECT_EQ(nets.at("in_data\\[0\\]").second, "lutnet_top");
  EXPECT_EQ(nets.at("acc\\[1\\]").second, "u_layer0");
  EXPECT_EQ(nets.at("y").second, "u_layer0");
  for (const auto& [name, entry] : nets) {
    SCOPED_TRACE(name);
    EXPECT_EQ(number(*entry.first, "T0") + number(*entry.first, "T1"), duration);
    EXPECT_EQ(number(*entry.first, "TX"), 0);
  }
  EXPECT_EQ(number(*nets.at("clk").first, "TC"), 20);
  EXPECT_EQ(number(*nets.at("clk").first, "T1"), duration / 2);
  EXPECT_EQ(number(*nets.at("in_data\\[0\\]").first, "TC"), 4);
  EXPECT_EQ(number(*nets.at("in_data\\[0\\]").first, "T1"), 6 * 2500);
  EXPECT_EQ(number(*nets.at("acc\\[1\\]").first, "TC"), 3);
  EXPECT_EQ(number(*nets.at("y").first, "T1"), 7 * 2500);
  EXPECT_EQ(text.find("_7_"), std::string::npos);
  EXPECT_EQ(at, text.find_last_not_of(" \n") + 1);  // nothing after the file's expression
}

TEST(SaifWriter, EscapesSyntaxCharacters) {
  EXPECT_EQ(saif_identifier("a[3]"), "a\\[3\\]");
  EXPECT_EQ(saif_identifier("u.x/y"), "u\\.x\\/y");
  EXPECT_EQ(saif_identifier("plain_name"), "plain_name");
}

}  // namespace
}  // namespace lutnet::power
