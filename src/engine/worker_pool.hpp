#pragma once
// Persistent engine workers for CompiledModel::run.
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace lutnet::engine::detail {

// Persistent workers that wait passively (a busy-waiting pool stalls a hyperthread sibling).
class WorkerPool {
 public:
  explicit WorkerPool(int workers) {
    for (int id = 1; id < workers; ++id) threads_.emplace_back([this, id] { loop(id); });
  }
  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    start_.notify_all();
    for (auto& t : threads_) t.join();
  }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs fn(ctx, w) for w in [0, n), n <= workers; the caller runs w = 0.
  void run(int n, void (*fn)(void*, int), void* ctx) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = fn;
      ctx_ = ctx;
      active_ = n;
      pending_ = n - 1;
      ++generation_;
    }
    start_.notify_all();
    fn(ctx, 0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
  }

 private:
  void loop(int id) {
    uint64_t seen = 0;
    for (;;) {
      void (*fn)(void*, int) = nullptr;
      void* ctx = nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        start_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        if (id >= active_) continue;
        fn = fn_;
        ctx = ctx_;
      }
      fn(ctx, id);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        --pending_;
      }
      done_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable start_, done_;
  std::vector<std::thread> threads_;
  void (*fn_)(void*, int) = nullptr;
  void* ctx_ = nullptr;
  uint64_t generation_ = 0;
  int active_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

}  // namespace lutnet::engine::detail
