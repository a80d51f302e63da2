#include "flows/synth.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/read_file.hpp"
#include "core/seconds_since.hpp"
#include "flows/subprocess.hpp"
#include "power/gate_netlist.hpp"

namespace lutnet::flows {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* kYosysHint = "install Yosys (apt-get install yosys) to synthesize";

// Yosys 0.23's `stat -json` writes the submodule counts of its "design" section as plain text
// lines ("   lutnet_top_layer0_tiles   1") when a module below the top instantiates another
// non-blackbox module (a tiled conv's window stage its sequencer). No JSON line has that form
// (keys are quoted): such lines are dropped.
std::string without_hierarchy_lines(const std::string& text) {
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string name, count, more;
    const bool hierarchy = static_cast<bool>(words >> name >> count) && !(words >> more) &&
                           name.front() != '"' &&
                           count.find_first_not_of("0123456789") == std::string::npos;
    if (!hierarchy) out += line + "\n";
  }
  return out;
}

json read_json(const fs::path& path) {
  try {
    return json::parse(without_hierarchy_lines(read_text_file(path, "file")));
  } catch (const json::exception& e) {
    throw Error(fmt::format("{}: not valid JSON ({})", path.string(), e.what()));
  }
}

// Yosys names modules with a leading backslash in stat -json.
std::string plain(std::string name) {
  if (!name.empty() && name[0] == '\\') name.erase(0, 1);
  return name;
}

// Block RAMs are RAMB18E2 / RAMB36E2 (and FIFO wrappers); every other RAM* cell is LUT-RAM.
bool is_bram(const std::string& type) {
  return type.starts_with("RAMB") || type.starts_with("FIFO");
}
bool is_srl(const std::string& type) { return type.starts_with("SRL"); }
bool is_lutram(const std::string& type) { return type.starts_with("RAM") && !is_bram(type); }
bool is_lut(const std::string& type) {
  return type.starts_with("LUT") || is_srl(type) || is_lutram(type);
}
bool is_ff(const std::string& type) { return type.starts_with("FD") || type.starts_with("LD"); }
bool is_carry(const std::string& type) { return type.starts_with("CARRY"); }
bool is_mux(const std::string& type) { return type.starts_with("MUXF"); }

void count_cells(ModuleSynth& m, const std::map<std::string, int64_t>& cells) {
  for (const auto& [type, n] : cells) {
    m.cells[type] += n;
    if (is_lut(type)) m.luts += n;
    if (is_ff(type)) m.ffs += n;
    if (is_carry(type)) m.carries += n;
    if (is_mux(type)) m.muxes += n;
    if (is_srl(type)) m.srls += n;
    if (is_lutram(type)) m.lutrams += n;
    if (is_bram(type)) m.brams += n;
    if (type.starts_with("RAMB18")) m.ramb18 += n;
    if (type.starts_with("RAMB36")) m.ramb36 += n;
  }
}

void check_family(const std::string& family) {
  if (family != "xcup" && family != "xcu")
    throw Error(
        fmt::format("family '{}' is not supported: use xcup (UltraScale+) or xcu "
                    "(UltraScale)",
                    family));
}

std::string synth_command(const std::string& top, const SynthOptions& o, bool flatten) {
  // -noiopad -noclkbuf: out of context, as a block inside a larger design.
  return fmt::format("synth_xilinx -family {} -top {} -noiopad -noclkbuf{}{}{}", o.family, top,
                     o.abc9 ? " -abc9" : "", flatten ? " -flatten" : "", o.srl ? "" : " -nosrl");
}

struct Job {
  std::string name;                  // file stem
  std::vector<std::string> modules;  // modules whose figures this run gives
  Command command;
  size_t verilog_bytes = 0;  // its input: Yosys time grows about linearly with it
  bool encoder_row = false;  // SynthOptions::encoder_row's run, not part of the design
};

// "synth: 3 of 7 Yosys runs done, running layer0, top (95 s, about 60 s left)". The time left
// assumes the rest goes at the rate (input bytes per second) of the part done so far.
BatchProgressFn synth_progress(const std::vector<Job>& jobs, std::ostream* out) {
  if (!out) return {};
  return [&jobs, out](const BatchProgress& p) {
    size_t done = 0;
    double done_bytes = 0, total_bytes = 0;
    for (size_t j = 0; j < jobs.size(); ++j) {
      total_bytes += static_cast<double>(jobs[j].verilog_bytes);
      if (p.finished[j]) {
        ++done;
        done_bytes += static_cast<double>(jobs[j].verilog_bytes);
      }
    }
    std::string running;
    for (size_t j : p.running) running += (running.empty() ? "" : ", ") + jobs[j].name;
    std::string left;
    if (done_bytes > 0 && done < jobs.size())
      left =
          fmt::format(", about {:.0f} s left", p.seconds * (total_bytes - done_bytes) / done_bytes);
    *out << fmt::format("synth: {} of {} Yosys runs done{}{} ({:.0f} s{})", done, jobs.size(),
                        running.empty() ? "" : ", running ", running, p.seconds, left)
         << std::endl;
  };
}

Job make_job(const fs::path& dir, const std::string& stem, const std::string& verilog,
             const std::string& top, const SynthOptions& options, bool flatten,
             std::vector<std::string> modules) {
  write_file_atomically(dir / (stem + ".v"), verilog);
  // The netlist goes out as BLIF with short names: a JSON netlist of a large layer is ~1 KB per
  // cell (hundreds of MB with -abc9) and slow to parse. With its parameters (LUT tables, RAM
  // contents) and cell names (module instances), `lutnet power` simulates it.
  const std::string script = fmt::format(
      "read_verilog {0}.v\n"
      "{1}\n"
      "tee -q -o {0}.stat.json stat -json\n"
      "opt_clean -purge\n"
      "rename -enumerate\n"
      "write_blif -param -cname {0}.blif\n",
      stem, synth_command(top, options, flatten));
  write_file_atomically(dir / (stem + ".ys"), script);
  return {stem,
          std::move(modules),
          {{"yosys", "-q", "-l", stem + ".log", "-s", stem + ".ys"}, dir, dir / (stem + ".out")},
          verilog.size()};
}

const hdl::ModuleInfo& input_stage(const hdl::HdlDesign& design) {
  for (const auto& m : design.modules)
    if (m.label == "input") return m;
  throw InternalError("synth: the generated design has no input stage");
}

std::string yosys_version(const fs::path& dir) {
  run_command({{"yosys", "-V"}, dir, dir / "yosys_version.txt"});
  std::string v = read_text_file(dir / "yosys_version.txt", "file");
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
  return v;
}

}  // namespace

std::map<std::string, std::map<std::string, int64_t>> cells_by_module(const json& stat) {
  std::map<std::string, std::map<std::string, int64_t>> out;
  if (!stat.contains("modules")) throw Error("yosys stat output has no 'modules'");
  for (const auto& [name, m] : stat["modules"].items()) {
    auto& cells = out[plain(name)];
    if (m.contains("num_cells_by_type"))
      for (const auto& [type, n] : m["num_cells_by_type"].items())
        cells[plain(type)] = n.get<int64_t>();
  }
  return out;
}

std::map<std::string, int> lut_depth_by_module(const std::string& blif) {
  struct Cell {
    int weight = 0;  // LUTs on a path through it
    std::vector<int> inputs;
  };
  std::map<std::string, int> out;
  std::string model;
  std::unordered_map<std::string, int> nets;
  std::vector<Cell> cells;
  std::vector<int> driver;  // net -> combinational cell, or -1
  auto net = [&](const std::string& name) {
    const auto [it, added] = nets.emplace(name, static_cast<int>(nets.size()));
    if (added) driver.push_back(-1);
    return it->second;
  };
  auto finish = [&] {
    if (model.empty()) return;
    // Longest path by an iterative depth-first search over drivers.
    std::vector<int> depth(cells.size(), -1);
    int deepest = 0;
    for (size_t root = 0; root < cells.size(); ++root) {
      if (depth[root] >= 0) continue;
      std::vector<std::pair<int, size_t>> stack = {{static_cast<int>(root), 0}};
      depth[root] = -2;
      while (!stack.empty()) {
        auto& [c, next] = stack.back();
        if (next < cells[c].inputs.size()) {
          const int d = driver[cells[c].inputs[next++]];
          if (d >= 0 && depth[d] == -1) {
            depth[d] = -2;
            stack.emplace_back(d, 0);
          }
          continue;
        }
        int best = 0;
        for (int in : cells[c].inputs)
          if (driver[in] >= 0) best = std::max(best, depth[driver[in]]);
        depth[c] = best + cells[c].weight;
        deepest = std::max(deepest, depth[c]);
        stack.pop_back();
      }
    }
    out[model] = deepest;
    model.clear();
    nets.clear();
    cells.clear();
    driver.clear();
  };
  std::istringstream in(blif);
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && line.back() == '\\') {  // continuation
      line.pop_back();
      std::string more;
      if (!std::getline(in, more)) break;
      line += more;
    }
    std::istringstream words(line);
    std::string keyword;
    words >> keyword;
    if (keyword == ".model") {
      finish();
      words >> model;
    } else if (keyword == ".end") {
      finish();
    } else if (keyword == ".names") {
      // A buffer or constant: passes paths through at no cost.
      std::vector<std::string> names;
      for (std::string w; words >> w;) names.push_back(w);
      if (names.empty()) continue;
      Cell c;
      for (size_t i = 0; i + 1 < names.size(); ++i) c.inputs.push_back(net(names[i]));
      driver[net(names.back())] = static_cast<int>(cells.size());
      cells.push_back(std::move(c));
    } else if (keyword == ".subckt") {
      std::string type;
      words >> type;
      const bool lut = type.starts_with("LUT");
      // Flip-flops, SRLs and black boxes end paths: their outputs start new ones.
      const bool combinational = lut || is_carry(type) || is_mux(type) || type == "INV";
      Cell c;
      c.weight = lut ? 1 : 0;
      std::vector<int> outputs;
      for (std::string w; words >> w;) {
        const size_t eq = w.find('=');
        if (eq == std::string::npos) continue;
        const int n = net(w.substr(eq + 1));
        if (combinational && power::gate_pin_is_output(type, std::string_view(w).substr(0, eq)))
          outputs.push_back(n);
        else
          c.inputs.push_back(n);
      }
      if (!combinational) continue;
      for (int o : outputs) driver[o] = static_cast<int>(cells.size());
      cells.push_back(std::move(c));
    }
  }
  finish();
  return out;
}

hdl::HdlOptions synthesized_hdl_options(const hdl::HdlOptions& hdl_options,
                                        const SynthOptions& options) {
  hdl::HdlOptions h = hdl_options;
  h.input_encoder = options.input_encoder;
  h.xilinx_primitives = h.xilinx_primitives || options.pin_luts;
  return h;
}

namespace {

SynthReport start_report(const hdl::HdlDesign& design, const hdl::HdlOptions& h,
                         const SynthOptions& options) {
  SynthReport report;
  report.family = options.family;
  report.abc9 = options.abc9;
  report.flatten = options.flatten;
  report.srl = options.srl;
  report.input_encoder = options.input_encoder;
  report.pin_luts = h.xilinx_primitives;
  report.popcount = hdl::popcount_style_name(h.popcount);
  report.latency_cycles = design.latency_cycles;
  report.cycles_per_frame = design.initiation_interval;
  report.tiled = design.in_ready;
  report.streaming = design.streaming;
  return report;
}

void check_layer_choice(const Model& model, const SynthOptions& options) {
  for (int layer : options.layers)
    if (layer < 0 || static_cast<size_t>(layer) >= model.layers.size())
      throw Error(fmt::format("synth: layer {} does not exist (the model has layers 0 to {})",
                              layer, model.layers.size() - 1));
  if (options.flatten && !options.layers.empty())
    throw Error("synth: a flattened run covers the whole design; choose layers or flatten");
}

// A chosen layer's modules: its LUT array (or dense module), its stream stage (window, line
// buffer) and its tile sequencer (weight memory), which carry no layer index. No choice: all.
bool is_selected(const hdl::HdlDesign& design, const std::vector<int>& layers,
                 const hdl::ModuleInfo& m) {
  for (int layer : layers) {
    const hdl::LayerHardware& hw = design.layers.at(static_cast<size_t>(layer));
    if (m.layer == layer || m.name == hw.module || m.name == hw.sequencer_module) return true;
  }
  return layers.empty();
}

// The Yosys runs of the design: one per layer (the long ones first, so the pool stays busy) and
// one for the rest with the layers as stubs; or for chosen layers their stages and sequencers
// alone; or one flattened run.
std::vector<Job> design_jobs(const hdl::HdlDesign& design, const SynthOptions& options,
                             const fs::path& dir) {
  std::vector<Job> jobs;
  if (options.flatten)
    return {
        make_job(dir, "design", design.verilog, design.top_name, options, true, {design.top_name})};
  auto selected = [&](const hdl::ModuleInfo& m) { return is_selected(design, options.layers, m); };
  for (const auto& m : design.modules)
    if (m.layer >= 0 && selected(m))
      jobs.push_back(make_job(dir, fmt::format("layer{}", m.layer), m.verilog, m.name, options,
                              false, {m.name}));
  if (options.layers.empty()) {
    std::string rest;
    std::vector<std::string> rest_modules;
    for (const auto& m : design.modules) {
      rest += (m.layer >= 0 ? m.stub : m.verilog) + "\n";
      if (m.layer < 0) rest_modules.push_back(m.name);
    }
    jobs.push_back(make_job(dir, "top", rest, design.top_name, options, false, rest_modules));
    return jobs;
  }
  // Chosen stream stages and tile sequencers, the modules inside them (arrays, a tiled conv's
  // sequencer) as stubs.
  for (const auto& m : design.modules)
    if (m.layer < 0 && selected(m)) {
      std::string text = m.verilog;
      for (const auto& a : design.modules)
        if (!a.stub.empty() && a.name != m.name) text += "\n" + a.stub;
      jobs.push_back(make_job(dir, m.name, text, m.name, options, false, {m.name}));
    }
  return jobs;
}

// The input stage generated with the pixel encoder, for SynthOptions::encoder_row.
Job encoder_job(const Model& model, const hdl::HdlOptions& h, const SynthOptions& options,
                const fs::path& dir) {
  hdl::HdlOptions with_encoder = h;
  with_encoder.input_encoder = true;
  const hdl::HdlDesign encoded = hdl::generate_verilog(model, with_encoder);
  const hdl::ModuleInfo& input = input_stage(encoded);
  Job job = make_job(dir, "input_encoder", input.verilog, input.name, options, false, {input.name});
  job.encoder_row = true;
  return job;
}

// The figures of every module a run gives, from its stat JSON and BLIF netlist.
std::vector<ModuleSynth> read_job(const fs::path& dir, const Job& job, double seconds,
                                  const hdl::HdlDesign& design) {
  const auto cells = cells_by_module(read_json(dir / (job.name + ".stat.json")));
  const auto depths = lut_depth_by_module(read_text_file(dir / (job.name + ".blif"), "file"));
  std::vector<ModuleSynth> out;
  for (const auto& module : job.modules) {
    ModuleSynth m;
    m.module = module;
    m.seconds = seconds;
    if (auto it = cells.find(module); it != cells.end()) {
      // Instances of the design's own modules are listed as rows of their own.
      std::map<std::string, int64_t> own = it->second;
      for (const auto& other : design.modules) own.erase(other.name);
      count_cells(m, own);
    }
    if (auto it = depths.find(module); it != depths.end()) m.lut_depth = it->second;
    out.push_back(std::move(m));
  }
  return out;
}

void add_row(SynthReport& report, ModuleSynth m) {
  report.luts += m.luts;
  report.ffs += m.ffs;
  report.carries += m.carries;
  report.muxes += m.muxes;
  report.srls += m.srls;
  report.lutrams += m.lutrams;
  report.brams += m.brams;
  report.ramb18 += m.ramb18;
  report.ramb36 += m.ramb36;
  report.lut_depth = std::max(report.lut_depth, m.lut_depth);
  report.per_layer.push_back(std::move(m));
}

// One row per chosen module in pipeline order (or one for the flattened design), and the totals.
void add_rows(SynthReport& report, const hdl::HdlDesign& design, const SynthOptions& options,
              std::map<std::string, ModuleSynth> by_module) {
  if (options.flatten) {
    ModuleSynth m = by_module[design.top_name];
    m.label = "design";
    for (const auto& hw : design.layers) {
      m.learned_luts += hw.learned_luts;
      m.popcount_bits += hw.popcount_bits;
    }
    add_row(report, std::move(m));
    return;
  }
  for (const auto& info : design.modules) {
    if (!is_selected(design, options.layers, info)) continue;
    ModuleSynth m = by_module[info.name];  // absent: Yosys kept no cells of it
    m.module = info.name;
    m.label = info.label;
    m.layer = info.layer;
    if (info.layer >= 0) {
      m.learned_luts = design.layers[info.layer].learned_luts;
      m.popcount_bits = design.layers[info.layer].popcount_bits;
    }
    add_row(report, std::move(m));
  }
}

}  // namespace

SynthReport synthesize(const Model& model, const hdl::HdlOptions& hdl_options,
                       const SynthOptions& options) {
  require_program("yosys", kYosysHint);
  check_family(options.family);
  check_layer_choice(model, options);
  const auto start = std::chrono::steady_clock::now();
  const hdl::HdlOptions h = synthesized_hdl_options(hdl_options, options);
  const hdl::HdlDesign design = hdl::generate_verilog(model, h);
  SynthReport report = start_report(design, h, options);
  report.generate_seconds = seconds_since(start);

  WorkDir dir(options.work_dir, options.keep, "lutnet-synth");
  report.yosys_version = yosys_version(dir.path());
  std::vector<Job> jobs = design_jobs(design, options, dir.path());
  if (options.encoder_row && !options.input_encoder && !options.flatten && options.layers.empty())
    jobs.push_back(encoder_job(model, h, options, dir.path()));
  std::vector<Command> commands;
  for (const auto& job : jobs) commands.push_back(job.command);
  const std::vector<double> seconds =
      run_commands(commands, options.jobs, synth_progress(jobs, options.progress));

  std::map<std::string, ModuleSynth> by_module;
  for (size_t j = 0; j < jobs.size(); ++j)
    for (ModuleSynth& m : read_job(dir.path(), jobs[j], seconds[j], design)) {
      // The encoder's input stage has the plain one's module name: it is a row apart.
      if (jobs[j].encoder_row) {
        m.label = "input encoder";
        report.encoder = std::move(m);
      } else {
        by_module[m.module] = std::move(m);
      }
    }
  add_rows(report, design, options, std::move(by_module));
  report.seconds = seconds_since(start);
  if (dir.kept()) {
    report.work_dir = dir.path();
    for (const auto& job : jobs)
      if (!job.encoder_row) report.netlists.push_back(dir.path() / (job.name + ".blif"));
  }
  return report;
}

PopcountSynth synthesize_popcount(int bits, hdl::PopcountStyle style, const SynthOptions& options) {
  require_program("yosys", kYosysHint);
  check_family(options.family);
  WorkDir dir(options.work_dir, options.keep, "lutnet-popcount");
  const std::string name = fmt::format("popcount{}_{}", bits, hdl::popcount_style_name(style));
  Job job =
      make_job(dir.path(), name, hdl::generate_popcount_module(bits, style, name, options.pin_luts),
               name, options, false, {name});
  run_command(job.command);
  PopcountSynth p;
  p.bits = bits;
  p.style = style;
  ModuleSynth m;
  const auto cells = cells_by_module(read_json(dir.path() / (name + ".stat.json")));
  if (auto it = cells.find(name); it != cells.end()) count_cells(m, it->second);
  p.luts = m.luts;
  p.carries = m.carries;
  const auto depths = lut_depth_by_module(read_text_file(dir.path() / (name + ".blif"), "file"));
  if (auto it = depths.find(name); it != depths.end()) p.lut_depth = it->second;
  return p;
}

int64_t SynthReport::luts_with_encoder() const {
  if (input_encoder || !encoder) return luts;
  int64_t plain_input = 0;
  for (const auto& m : per_layer)
    if (m.label == "input") plain_input += m.luts;
  return luts - plain_input + encoder->luts;
}

namespace {

json module_json(const ModuleSynth& m) {
  json cells = json::object();
  for (const auto& [type, n] : m.cells) cells[type] = n;
  json row = {{"label", m.label},   {"module", m.module},        {"luts", m.luts},
              {"ffs", m.ffs},       {"carries", m.carries},      {"muxes", m.muxes},
              {"srls", m.srls},     {"lutrams", m.lutrams},      {"brams", m.brams},
              {"ramb18", m.ramb18}, {"ramb36", m.ramb36},        {"lut_depth", m.lut_depth},
              {"cells", cells},     {"yosys_seconds", m.seconds}};
  if (m.layer >= 0) row["layer"] = m.layer;
  if (m.popcount_bits > 0) {
    row["learned_luts"] = m.learned_luts;
    row["popcount_bits"] = m.popcount_bits;
    row["adder_luts_per_bit"] = m.adder_luts_per_bit();
  }
  return row;
}

}  // namespace

json SynthReport::to_json() const {
  json rows = json::array();
  for (const auto& m : per_layer) rows.push_back(module_json(m));
  json j = {
      {"tool", yosys_version},
      {"flow", fmt::format("synth_xilinx -family {} -noiopad -noclkbuf{}{}{}", family,
                           abc9 ? " -abc9" : "", flatten ? " -flatten" : "", srl ? "" : " -nosrl")},
      {"family", family},
      {"abc9", abc9},
      {"flatten", flatten},
      {"input_encoder", input_encoder},
      {"luts_as_primitives", pin_luts},
      {"popcount", popcount},
      {"latency_cycles", latency_cycles},
      {"cycles_per_frame", cycles_per_frame},
      {"tiled", tiled},
      {"streaming", streaming},
      {"luts", luts},
      {"ffs", ffs},
      {"carries", carries},
      {"muxes", muxes},
      {"srls", srls},
      {"lutrams", lutrams},
      {"brams", brams},
      {"ramb18", ramb18},
      {"ramb36", ramb36},
      {"lut_depth", lut_depth},
      {"seconds", seconds},
      {"generate_seconds", generate_seconds},
      {"modules", rows}};
  if (encoder) {
    j["encoder"] = module_json(*encoder);
    j["luts_with_encoder"] = luts_with_encoder();
  }
  return j;
}

std::string SynthReport::table() const {
  // "adder/bit": LUTs besides the learned ones per bit entering the adder trees -- the cost of
  // popcount, level weighting and threshold compares per connection and level. SRL, LUT-RAM and
  // block RAM (RAMB18 and RAMB36 cells) hold the line buffers of streaming designs and the weight
  // memories of tiled layers (SRLs and LUT-RAMs are in LUTs too).
  const bool storage = srls + lutrams + brams > 0;
  auto row = [&](const std::string& label, int64_t l, int64_t f, int64_t c, int64_t m, int depth,
                 const std::string& learned, const std::string& bits, const std::string& per_bit,
                 int64_t srl_cells, int64_t lutram, int64_t b18, int64_t b36) {
    std::string r = fmt::format("{:<16} {:>9} {:>8} {:>7} {:>6} {:>6} {:>9} {:>9} {:>9}", label, l,
                                f, c, m, depth, learned, bits, per_bit);
    if (storage) r += fmt::format(" {:>6} {:>7} {:>6} {:>6}", srl_cells, lutram, b18, b36);
    return r + "\n";
  };
  std::string out =
      fmt::format("{:<16} {:>9} {:>8} {:>7} {:>6} {:>6} {:>9} {:>9} {:>9}", "module", "LUTs", "FFs",
                  "CARRY", "MUXF", "depth", "learned", "pc bits", "adder/bit");
  out += storage ? fmt::format(" {:>6} {:>7} {:>6} {:>6}\n", "SRL", "LUTRAM", "RAMB18", "RAMB36")
                 : "\n";
  int64_t learned = 0, bits = 0;
  for (const auto& m : per_layer) {
    learned += m.learned_luts;
    bits += m.popcount_bits;
    const bool layer = m.popcount_bits > 0;
    out += row(m.label, m.luts, m.ffs, m.carries, m.muxes, m.lut_depth,
               layer ? std::to_string(m.learned_luts) : "",
               layer ? std::to_string(m.popcount_bits) : "",
               layer ? fmt::format("{:.3f}", m.adder_luts_per_bit()) : "", m.srls, m.lutrams,
               m.ramb18, m.ramb36);
  }
  out += row("total", luts, ffs, carries, muxes, lut_depth, std::to_string(learned),
             std::to_string(bits), "", srls, lutrams, ramb18, ramb36);
  if (encoder) {
    const ModuleSynth& e = *encoder;
    out += row(e.label, e.luts, e.ffs, e.carries, e.muxes, e.lut_depth, "", "", "", e.srls,
               e.lutrams, e.ramb18, e.ramb36);
    out += fmt::format(
        "(the input encoder replaces the input row; not in the total: {} LUTs with "
        "it)\n",
        luts_with_encoder());
  }
  return out;
}

std::string vivado_tcl(const hdl::HdlDesign& design, const std::string& verilog_file,
                       const std::string& family, const std::string& part) {
  check_family(family);
  // KU115 is the LUTNet paper's device; VU9P a common UltraScale+ part.
  const std::string chosen = !part.empty()     ? part
                             : family == "xcu" ? "xcku115-flvb2104-2-e"
                                               : "xcvu9p-flga2104-2L-e";
  return fmt::format(
      R"(# Vivado out-of-context synthesis and implementation of {0}, written by lutnet synth.
# Not run by lutnet. Usage: vivado -mode batch -source <this file>
# Reports land next to this script. {5}
set here [file dirname [file normalize [info script]]]
set_part {3}
read_verilog [file join $here {4}]
synth_design -top {0} -mode out_of_context -flatten_hierarchy rebuilt
create_clock -name clk -period 5.000 [get_ports clk]
report_utilization -file [file join $here {0}_synth_utilization.rpt]
report_utilization -hierarchical -file [file join $here {0}_synth_utilization_hier.rpt]
opt_design
place_design
route_design
report_utilization -file [file join $here {0}_route_utilization.rpt]
report_timing_summary -file [file join $here {0}_route_timing.rpt]
)",
      design.top_name, "", design.latency_cycles, chosen, verilog_file,
      design.streaming && design.in_ready
          ? fmt::format("One pixel every {} clocks (in_ready), {} cycles per frame, latency {} "
                        "cycles from the clock that took a frame's first pixel.",
                        design.pixel_interval, design.initiation_interval, design.latency_cycles)
      : design.streaming
          ? fmt::format("One pixel per clock, {} cycles per frame, latency {} cycles from a "
                        "frame's first pixel.",
                        design.frame_pixels, design.latency_cycles)
      : design.in_ready
          ? fmt::format("Latency: {} cycles, one input every {} clocks (in_ready).",
                        design.latency_cycles, design.initiation_interval)
          : fmt::format("Latency: {} cycles, one input per clock.", design.latency_cycles));
}

}  // namespace lutnet::flows
