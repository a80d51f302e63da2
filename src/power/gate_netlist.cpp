#include "power/gate_netlist.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "core/error.hpp"
#include "core/read_file.hpp"

namespace lutnet::power {

namespace {

// A .subckt or .names as parsed, its nets still names local to its model.
struct RawCell {
  std::string type;
  std::vector<std::pair<std::string, std::string>> pins;  // formal, local net
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::string> cover;
  std::string cname;
  int line = 0;
};

struct RawModel {
  std::string name;
  const BlifSource* source = nullptr;
  int line = 0;
  std::vector<std::string> inputs, outputs;
  std::unordered_set<std::string> ports;
  std::vector<RawCell> cells;
  bool blackbox = false;
  uint64_t hash = 1469598103934665603ull;  // FNV-1a of the body, to tell duplicates apart
};

// One logical line: continuations joined, the comment cut, split into words.
struct Line {
  int number = 0;
  std::string text;
  std::vector<std::string_view> words;
};

class BlifParser {
 public:
  explicit BlifParser(const BlifSource& source) : src_(source) {}
  std::vector<RawModel> parse();

 private:
  bool next(Line& line);
  [[noreturn]] void fail(int line, const std::string& message) const {
    throw Error(fmt::format("{}:{}: {}", src_.name, line, message));
  }
  void start_model(const Line& line);
  void add_names(const Line& line);
  void add_subckt(const Line& line);
  void add_param(const Line& line);
  void add_cover_line(const Line& line);
  RawModel& model(const Line& line) {
    if (!current_) fail(line.number, fmt::format("'{}' outside a .model", line.words[0]));
    return *current_;
  }

  const BlifSource& src_;
  size_t pos_ = 0;
  int physical_ = 0;
  std::vector<RawModel> models_;
  RawModel* current_ = nullptr;
  bool in_names_ = false;
  bool last_is_subckt_ = false;
};

bool BlifParser::next(Line& line) {
  const std::string& t = src_.text;
  line.text.clear();
  line.words.clear();
  line.number = 0;
  while (pos_ < t.size()) {
    size_t end = t.find('\n', pos_);
    if (end == std::string::npos) end = t.size();
    std::string_view part(t.data() + pos_, end - pos_);
    pos_ = end + 1;
    ++physical_;
    if (!part.empty() && part.back() == '\r') part.remove_suffix(1);
    if (line.number == 0) line.number = physical_;
    bool more = !part.empty() && part.back() == '\\';
    if (more) part.remove_suffix(1);
    more = more && pos_ < t.size();  // (a backslash on the last line continues nothing)
    line.text += part;
    if (more) {
      line.text += ' ';
      continue;
    }
    // A '#' outside a quoted string starts a comment.
    bool quoted = false;
    for (size_t i = 0; i < line.text.size(); ++i) {
      if (line.text[i] == '"') quoted = !quoted;
      if (line.text[i] == '#' && !quoted) {
        line.text.resize(i);
        break;
      }
    }
    std::string_view rest(line.text);
    while (true) {
      const size_t b = rest.find_first_not_of(" \t");
      if (b == std::string_view::npos) break;
      rest.remove_prefix(b);
      const size_t e = std::min(rest.find_first_of(" \t"), rest.size());
      line.words.push_back(rest.substr(0, e));
      rest.remove_prefix(e);
    }
    if (!line.words.empty()) return true;
    line.text.clear();
    line.number = 0;
  }
  return false;
}

void BlifParser::start_model(const Line& line) {
  if (line.words.size() != 2) fail(line.number, ".model needs exactly one name");
  models_.emplace_back();
  current_ = &models_.back();
  current_->name = std::string(line.words[1]);
  current_->source = &src_;
  current_->line = line.number;
}

void BlifParser::add_names(const Line& line) {
  RawModel& m = model(line);
  if (line.words.size() < 2) fail(line.number, ".names needs an output net");
  RawCell c;
  c.type = "$names";
  c.line = line.number;
  const size_t n = line.words.size() - 2;
  for (size_t i = 0; i < n; ++i)
    c.pins.emplace_back(fmt::format("I{}", i), std::string(line.words[i + 1]));
  c.pins.emplace_back("O", std::string(line.words.back()));
  m.cells.push_back(std::move(c));
  in_names_ = true;
}

void BlifParser::add_cover_line(const Line& line) {
  RawCell& c = current_->cells.back();
  const size_t n = c.pins.size() - 1;
  const auto& w = line.words;
  const bool ok_shape = n == 0 ? w.size() == 1 : w.size() == 2 && w[0].size() == n;
  if (!ok_shape || w.back().size() != 1 || (w.back()[0] != '0' && w.back()[0] != '1') ||
      (n > 0 && w[0].find_first_not_of("01-") != std::string_view::npos))
    fail(line.number, fmt::format("bad cover line '{}' for a .names of {} inputs", line.text, n));
  if (!c.cover.empty() && c.cover.front().back() != w.back()[0])
    fail(line.number, "a .names cover mixes on-set and off-set lines");
  c.cover.push_back(n == 0 ? std::string(w[0]) : fmt::format("{} {}", w[0], w[1]));
}

void BlifParser::add_subckt(const Line& line) {
  RawModel& m = model(line);
  if (line.words.size() < 2) fail(line.number, ".subckt needs a cell type");
  RawCell c;
  c.type = std::string(line.words[1]);
  c.line = line.number;
  for (size_t i = 2; i < line.words.size(); ++i) {
    const std::string_view w = line.words[i];
    const size_t eq = w.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == w.size())
      fail(line.number, fmt::format("bad .subckt connection '{}' (expected PIN=NET)", w));
    c.pins.emplace_back(std::string(w.substr(0, eq)), std::string(w.substr(eq + 1)));
  }
  m.cells.push_back(std::move(c));
  last_is_subckt_ = true;
}

void BlifParser::add_param(const Line& line) {
  if (!current_ || current_->cells.empty() || !last_is_subckt_)
    fail(line.number, ".param does not follow a .subckt");
  if (line.words.size() < 3) fail(line.number, ".param needs a name and a value");
  // The value is the rest of the line: a quoted string may hold spaces.
  const size_t at = static_cast<size_t>(line.words[2].data() - line.text.data());
  std::string value = line.text.substr(at);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
  current_->cells.back().params.emplace_back(std::string(line.words[1]), std::move(value));
}

std::vector<RawModel> BlifParser::parse() {
  Line line;
  while (next(line)) {
    const std::string_view key = line.words[0];
    if (current_) {
      for (char ch : line.text) current_->hash = (current_->hash ^ uint8_t(ch)) * 1099511628211ull;
      current_->hash = (current_->hash ^ '\n') * 1099511628211ull;
    }
    if (key[0] != '.') {
      if (!in_names_) fail(line.number, fmt::format("unexpected line '{}'", line.text));
      add_cover_line(line);
      continue;
    }
    const bool keeps_cell = key == ".cname" || key == ".attr" || key == ".param";
    if (!keeps_cell) {
      in_names_ = false;
      last_is_subckt_ = false;
    }
    if (key == ".model") {
      if (current_) fail(line.number, fmt::format("'.model' inside model {}", current_->name));
      start_model(line);
    } else if (key == ".end") {
      model(line);
      current_ = nullptr;
    } else if (key == ".inputs" || key == ".outputs") {
      RawModel& m = model(line);
      auto& list = key == ".inputs" ? m.inputs : m.outputs;
      for (size_t i = 1; i < line.words.size(); ++i) {
        list.emplace_back(line.words[i]);
        m.ports.emplace(line.words[i]);
      }
    } else if (key == ".names") {
      add_names(line);
    } else if (key == ".subckt") {
      add_subckt(line);
    } else if (key == ".conn") {  // write_blif -conn: a buffer
      if (line.words.size() != 3) fail(line.number, ".conn needs two nets");
      Line names = line;
      add_names(names);
      current_->cells.back().cover.push_back("1 1");
      in_names_ = false;
    } else if (key == ".param") {
      add_param(line);
    } else if (key == ".cname") {
      if (!current_ || current_->cells.empty() || line.words.size() != 2)
        fail(line.number, ".cname needs a name and a cell before it");
      current_->cells.back().cname = std::string(line.words[1]);
    } else if (key == ".attr") {
      // Attributes (write_blif -attr) do not change behaviour.
    } else if (key == ".blackbox") {
      model(line).blackbox = true;
    } else {
      fail(line.number, fmt::format("unsupported BLIF construct '{}'", key));
    }
  }
  if (current_) fail(current_->line, fmt::format("model {} has no .end", current_->name));
  return std::move(models_);
}

// Expands the hierarchy below the top into one flat netlist.
class Expander {
 public:
  Expander(const std::unordered_map<std::string, const RawModel*>& models, GateNetlist& out)
      : models_(models), out_(out) {}
  void expand_top(const RawModel& top);

 private:
  using LocalNets = std::unordered_map<std::string, int>;
  int new_net(std::string name, int instance) {
    out_.net_names.push_back(std::move(name));
    out_.net_instance.push_back(instance);
    driver_.push_back(-1);
    return static_cast<int>(out_.net_names.size()) - 1;
  }
  int net(LocalNets& local, const std::string& name, int instance);
  void expand(const RawModel& m, int instance, LocalNets& local);
  void add_cell(const RawModel& m, const RawCell& rc, int instance, LocalNets& local);
  void add_instance(const RawModel& m, const RawCell& rc, const RawModel& child, int instance,
                    LocalNets& local, std::map<std::string, int>& unnamed);
  [[noreturn]] void fail(const RawModel& m, int line, const std::string& message) const {
    throw Error(fmt::format("{}:{}: {}", m.source->name, line, message));
  }

  const std::unordered_map<std::string, const RawModel*>& models_;
  GateNetlist& out_;
  std::vector<int> driver_;  // per net: -1, -2 (a top input or constant), or the cell
  std::vector<const RawModel*> stack_;
};

int Expander::net(LocalNets& local, const std::string& name, int instance) {
  if (name == "$false" || name == "$undef") return out_.const0;
  if (name == "$true") return out_.const1;
  const auto it = local.find(name);
  if (it != local.end()) return it->second;
  const std::string& path = out_.instances[instance].path;
  const int n = new_net(path.empty() ? name : path + "." + name, instance);
  local.emplace(name, n);
  return n;
}

void Expander::expand_top(const RawModel& top) {
  out_.top = top.name;
  out_.const0 = new_net("$false", 0);
  out_.const1 = new_net("$true", 0);
  driver_[out_.const0] = driver_[out_.const1] = -2;
  out_.instances.push_back({"", top.name, -1});
  LocalNets local;
  for (const auto& name : top.inputs) {
    const int n = net(local, name, 0);
    if (driver_[n] == -2) fail(top, top.line, fmt::format("input {} is listed twice", name));
    driver_[n] = -2;
    out_.inputs.emplace_back(name, n);
  }
  for (const auto& name : top.outputs) out_.outputs.emplace_back(name, net(local, name, 0));
  stack_.push_back(&top);
  expand(top, 0, local);
}

void Expander::expand(const RawModel& m, int instance, LocalNets& local) {
  std::map<std::string, int> unnamed;  // module -> unnamed instances so far
  for (const RawCell& rc : m.cells) {
    const auto it = models_.find(rc.type);
    if (it == models_.end()) {
      add_cell(m, rc, instance, local);
      continue;
    }
    const RawModel& child = *it->second;
    if (std::find(stack_.begin(), stack_.end(), &child) != stack_.end())
      fail(m, rc.line, fmt::format("module {} is instantiated inside itself", child.name));
    add_instance(m, rc, child, instance, local, unnamed);
  }
}

void Expander::add_instance(const RawModel& m, const RawCell& rc, const RawModel& child,
                            int instance, LocalNets& local, std::map<std::string, int>& unnamed) {
  std::string name = rc.cname;
  if (name.empty()) name = fmt::format("{}_{}", child.name, unnamed[child.name]++);
  const std::string& parent_path = out_.instances[instance].path;
  GateInstance gi{parent_path.empty() ? name : parent_path + "." + name, child.name, instance};
  out_.instances.push_back(std::move(gi));
  const int inst = static_cast<int>(out_.instances.size()) - 1;
  LocalNets inner;
  for (const auto& [formal, actual] : rc.pins) {
    if (!child.ports.count(formal))
      fail(m, rc.line, fmt::format("module {} has no port {}", child.name, formal));
    if (inner.count(formal))
      fail(m, rc.line, fmt::format("port {} of {} is connected twice", formal, child.name));
    inner.emplace(formal, net(local, actual, instance));
  }
  stack_.push_back(&child);
  expand(child, inst, inner);
  stack_.pop_back();
}

void Expander::add_cell(const RawModel& m, const RawCell& rc, int instance, LocalNets& local) {
  if (rc.type == "$names" && rc.pins.size() == 1) {  // the constants' own definitions
    const std::string& o = rc.pins[0].second;
    const bool is0 = o == "$false" || o == "$undef", is1 = o == "$true";
    const bool high = !rc.cover.empty() && rc.cover[0] == "1";
    if ((is0 && !high) || (is1 && high)) return;
    if (is0 || is1) fail(m, rc.line, fmt::format("{} is defined as the other constant", o));
  }
  GateCell c;
  c.type = rc.type;
  c.instance = instance;
  c.name = rc.cname;
  c.cover = rc.cover;
  for (const auto& [k, v] : rc.params) c.params[k] = v;
  const int index = static_cast<int>(out_.cells.size());
  for (const auto& [formal, actual] : rc.pins) {
    const int n = net(local, actual, instance);
    c.pins.emplace_back(formal, n);
    if (!gate_pin_is_output(c.type, formal)) continue;
    if (driver_[n] != -1)
      fail(m, rc.line,
           fmt::format("net {} has two drivers ({} pin {}, and {})", out_.net_names[n], c.type,
                       formal,
                       driver_[n] == -2 ? "a top input or constant"
                                        : "cell " + out_.cells[driver_[n]].type));
    driver_[n] = index;
  }
  out_.cells.push_back(std::move(c));
}

// Every model by name: a real definition wins over black boxes; two different ones are an error.
std::unordered_map<std::string, const RawModel*> index_models(
    const std::vector<std::vector<RawModel>>& parsed) {
  std::unordered_map<std::string, const RawModel*> out;
  for (const auto& models : parsed)
    for (const RawModel& m : models) {
      if (m.blackbox) continue;
      const auto [it, added] = out.emplace(m.name, &m);
      const RawModel& old = *it->second;
      if (!added && old.hash != m.hash)
        throw Error(fmt::format("{}:{}: model {} is defined differently in {}:{}", m.source->name,
                                m.line, m.name, old.source->name, old.line));
    }
  return out;
}

}  // namespace

bool gate_pin_is_output(std::string_view type, std::string_view pin) {
  pin = pin.substr(0, pin.find('['));
  if (type == "VCC") return pin == "P";
  if (type == "GND") return pin == "G";
  if (pin == "O" || pin == "O5" || pin == "O6" || pin == "CO" || pin == "LO" || pin == "Q" ||
      pin == "Q15" || pin == "Q31")
    return true;
  if (type.starts_with("RAMB") || type.starts_with("FIFO"))
    return pin.starts_with("DOUT") || pin.starts_with("CASDOUT") || pin.starts_with("CASOUT") ||
           pin == "DBITERR" || pin == "SBITERR" || pin == "ECCPARITY" || pin == "RDADDRECC";
  if (type.starts_with("DSP"))
    return pin == "P" || pin == "PCOUT" || pin == "ACOUT" || pin == "BCOUT" ||
           pin == "CARRYCASCOUT" || pin == "CARRYOUT" || pin == "MULTSIGNOUT" ||
           pin == "OVERFLOW" || pin == "UNDERFLOW" || pin == "PATTERNDETECT" ||
           pin == "PATTERNBDETECT" || pin == "XOROUT";
  return false;
}

std::vector<int> GateNetlist::fanout() const {
  std::vector<int> out(net_names.size(), 0);
  for (const GateCell& c : cells)
    for (const auto& [pin, n] : c.pins)
      if (!gate_pin_is_output(c.type, pin)) ++out.at(n);
  for (const auto& [name, n] : outputs) ++out.at(n);
  return out;
}

void GateNetlist::check() const {
  const int nets = static_cast<int>(net_names.size());
  const auto bad = [&](int n) { return n < 0 || n >= nets; };
  if (net_instance.size() != net_names.size())
    throw InternalError("gate netlist: net_instance and net_names differ in size");
  if (bad(const0) || bad(const1) || const0 == const1)
    throw InternalError("gate netlist: no constant nets");
  for (size_t i = 0; i < instances.size(); ++i)
    if (instances[i].parent >= static_cast<int>(i) || (i > 0 && instances[i].parent < 0))
      throw InternalError(fmt::format("gate netlist: instance {} has a bad parent", i));
  std::vector<int> drivers(net_names.size(), 0);
  drivers[const0] = drivers[const1] = 1;
  for (const auto& [name, n] : inputs) {
    if (bad(n)) throw InternalError(fmt::format("gate netlist: input {} has no net", name));
    ++drivers[n];
  }
  for (const auto& [name, n] : outputs)
    if (bad(n)) throw InternalError(fmt::format("gate netlist: output {} has no net", name));
  for (int n = 0; n < nets; ++n)
    if (net_instance[n] < 0 || net_instance[n] >= static_cast<int>(instances.size()))
      throw InternalError(fmt::format("gate netlist: net {} is in no instance", net_names[n]));
  for (size_t i = 0; i < cells.size(); ++i) {
    const GateCell& c = cells[i];
    if (c.instance < 0 || c.instance >= static_cast<int>(instances.size()))
      throw InternalError(fmt::format("gate netlist: cell {} ({}) is in no instance", i, c.type));
    for (const auto& [pin, n] : c.pins) {
      if (bad(n))
        throw InternalError(
            fmt::format("gate netlist: pin {} of cell {} ({}) has no net", pin, i, c.type));
      if (gate_pin_is_output(c.type, pin)) ++drivers[n];
    }
  }
  for (int n = 0; n < nets; ++n)
    if (drivers[n] > 1)
      throw InternalError(
          fmt::format("gate netlist: net {} has {} drivers", net_names[n], drivers[n]));
}

GateNetlist read_blif_design(const std::vector<BlifSource>& sources, const std::string& top) {
  std::vector<std::vector<RawModel>> parsed;
  parsed.reserve(sources.size());
  for (const BlifSource& s : sources) parsed.push_back(BlifParser(s).parse());
  const auto models = index_models(parsed);
  const auto it = models.find(top);
  if (it == models.end()) {
    std::string names;
    for (const BlifSource& s : sources) names += (names.empty() ? "" : ", ") + s.name;
    throw Error(fmt::format("top module {} is not defined in {}", top,
                            names.empty() ? "(no BLIF files)" : names));
  }
  GateNetlist out;
  Expander(models, out).expand_top(*it->second);
  return out;
}

GateNetlist read_blif_files(const std::vector<std::filesystem::path>& files,
                            const std::string& top) {
  std::vector<BlifSource> sources;
  for (const auto& f : files) sources.push_back({f.string(), read_text_file(f, "BLIF file")});
  return read_blif_design(sources, top);
}

}  // namespace lutnet::power
