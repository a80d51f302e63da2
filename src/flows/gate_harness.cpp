#include "flows/gate_harness.hpp"

#include <fmt/format.h>

#include "flows/verify_records.hpp"

namespace lutnet::flows {

namespace {

// Reads a result if out_valid is set after the last clock.
void collect(power::GateSimulator& sim, const hdl::HdlDesign& d, GateRun& run) {
  if (!sim.get("out_valid")) return;
  GateResult r;
  r.label = static_cast<int>(sim.get("out_class"));
  r.scores.resize(bytes_for(d.num_classes * d.score_width));
  sim.get_bytes("out_scores", r.scores.data(), r.scores.size());
  run.results.push_back(std::move(r));
}

}  // namespace

GateRun run_frames(power::GateSimulator& sim, const hdl::HdlDesign& d,
                   const std::vector<uint8_t>& words, size_t frames,
                   const std::function<void(size_t done)>& progress) {
  const size_t in_bytes = bytes_for(d.input_width);
  const size_t per_frame = d.streaming ? static_cast<size_t>(d.frame_pixels) : 1;
  const size_t total = frames * per_frame;
  GateRun run;
  sim.set("rst", 1);
  sim.set("in_valid", 0);
  sim.clock();
  sim.clock();
  sim.set("rst", 0);
  sim.reset_activity();
  // Every input is offered from the clock after the last was taken (held until in_ready takes
  // it), so the design runs at its full rate.
  size_t next = 0;
  const int interval = d.streaming ? d.pixel_interval : d.initiation_interval;
  const uint64_t patience = 4 * static_cast<uint64_t>(d.latency_cycles + interval) + 16;
  uint64_t idle = 0;  // clocks since the last input or result
  int64_t last_taken = -interval;
  for (int64_t t = 0; run.results.size() < frames && idle < patience; ++t) {
    const bool ready = !d.in_ready || sim.get("in_ready");
    if (d.in_ready && next < total && ready != (t - last_taken >= interval) &&
        run.protocol_error.empty())
      run.protocol_error = fmt::format("in_ready {} at clock {}, {} clocks after the last input",
                                       ready ? "rose" : "stayed low", t, t - last_taken);
    const bool offer = next < total;
    if (offer) sim.set_bytes("in_data", &words[next * in_bytes], in_bytes);
    sim.set("in_valid", offer ? 1 : 0);
    if (offer && ready) {
      ++next;
      last_taken = t;
      idle = 0;
    }
    sim.clock();
    const size_t before = run.results.size();
    collect(sim, d, run);
    if (run.results.size() != before) {
      idle = 0;
      if (progress) progress(run.results.size());
    } else if (next == total) {
      ++idle;
    }
  }
  run.cycles = sim.activity().cycles;
  if (run.results.size() < frames && run.protocol_error.empty())
    run.protocol_error = fmt::format("the netlist gave {} of {} results (out_valid lost)",
                                     run.results.size(), frames);
  return run;
}

}  // namespace lutnet::flows
