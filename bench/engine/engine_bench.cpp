// Google Benchmark suite for the engine: whole-model throughput per ISA, thread count and code
// generation, K and levels sweeps, batch sizes, compile time, and the peak logic-op loop used for
// the lower bound.
#include <benchmark/benchmark.h>

#include <vector>

#include "bench_model.hpp"
#include "engine/engine.hpp"

namespace lutnet::engine {
namespace {

bool has(Isa isa) {
  for (Isa a : available_isas())
    if (a == isa) return true;
  return false;
}

void run_model(benchmark::State& state, const Model& model, const EngineOptions& options,
               size_t count) {
  if (!has(options.isa)) {
    state.SkipWithError("ISA not available on this CPU");
    return;
  }
  const CompiledModel compiled = CompiledModel::compile(model, options);
  const auto pixels = make_random_pixels(model, static_cast<int>(count), 7);
  std::vector<int32_t> labels(count);
  std::vector<int64_t> scores(count * model.num_classes);
  for (auto _ : state) {
    compiled.run(pixels.data(), count, labels.data(), scores.data());
    benchmark::DoNotOptimize(labels.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(count));
  state.counters["ns/image"] =
      benchmark::Counter(static_cast<double>(count), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
  state.counters["ops/image"] = compiled.word_ops_per_image();
}

// MNIST-sized model, args: isa (0 scalar, 1 avx2, 2 avx512), threads, generated code (avx512).
void BM_Mnist(benchmark::State& state) {
  static const Model model = bench::make_mnist_bench_model();
  run_model(
      state, model,
      {static_cast<Isa>(state.range(0)), static_cast<int>(state.range(1)), state.range(2) != 0},
      10000);
}
BENCHMARK(BM_Mnist)
    ->ArgNames({"isa", "threads", "codegen"})
    ->Args({0, 1, 0})
    ->Args({1, 1, 0})
    ->Args({2, 1, 0})
    ->Args({2, 1, 1})
    ->Args({2, 2, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// LUT size sweep on the MNIST shape (best ISA), args: k, levels.
void BM_MnistK(benchmark::State& state) {
  const Model model = bench::make_mnist_bench_model(static_cast<int>(state.range(0)),
                                                    static_cast<int>(state.range(1)));
  run_model(state, model, {best_isa(), 1}, 4096);
}
BENCHMARK(BM_MnistK)
    ->ArgNames({"k", "levels"})
    ->ArgsProduct({{1, 2, 3, 4, 5, 6}, {1, 2}})
    ->Unit(benchmark::kMillisecond);

// Batch sizes around a word (latency of small batches), best ISA.
void BM_MnistBatch(benchmark::State& state) {
  static const Model model = bench::make_mnist_bench_model();
  run_model(state, model, {best_isa(), 1}, static_cast<size_t>(state.range(0)));
}
BENCHMARK(BM_MnistBatch)
    ->Arg(1)
    ->Arg(64)
    ->Arg(512)
    ->Arg(4096)
    ->Arg(16384)
    ->Unit(benchmark::kMicrosecond);

// Compile time (validation, LUT reduction, records, code generation).
void BM_Compile(benchmark::State& state) {
  static const Model model = bench::make_mnist_bench_model();
  for (auto _ : state)
    benchmark::DoNotOptimize(CompiledModel::compile(model, {best_isa(), 1, state.range(0) != 0}));
}
BENCHMARK(BM_Compile)->ArgName("codegen")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// The 64x64 bit transpose that encodes pixels into planes and decodes accumulators, per ISA.
void BM_Transpose64(benchmark::State& state) {
  const auto isa = static_cast<Isa>(state.range(0));
  if (!has(isa)) {
    state.SkipWithError("ISA not available on this CPU");
    return;
  }
  uint64_t a[64];
  for (int i = 0; i < 64; ++i) a[i] = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(i + 1);
  for (auto _ : state) {
    transpose64_for_test(isa, a);
    benchmark::DoNotOptimize(a);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(sizeof a));
}
BENCHMARK(BM_Transpose64)->ArgName("isa")->Arg(0)->Arg(1)->Arg(2);

// The register-only logic loop behind the lower bound, per ISA: ops per second in items/s.
void BM_PeakWordOps(benchmark::State& state) {
  const auto isa = static_cast<Isa>(state.range(0));
  if (!has(isa)) {
    state.SkipWithError("ISA not available on this CPU");
    return;
  }
  PeakRate rate;
  for (auto _ : state) rate = measure_peak_word_ops(isa, 0.05);
  state.counters["Gops/s"] = rate.word_ops_per_second / 1e9;
  state.counters["word_bits"] = rate.word_bits;
}
BENCHMARK(BM_PeakWordOps)->Arg(0)->Arg(1)->Arg(2)->Iterations(1);

}  // namespace
}  // namespace lutnet::engine

BENCHMARK_MAIN();
