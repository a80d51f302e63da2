#include "train/augmentation.hpp"

namespace lutnet::train {

torch::Tensor random_shift(const torch::Tensor& x, const std::vector<int>& shape,
                           int bits_per_pixel, int max_shift, std::mt19937_64& rng) {
  if (max_shift <= 0 || shape.size() != 3) return x;
  const int64_t channels = shape[0], height = shape[1], width = shape[2];
  const int64_t batch = x.size(0), features = x.size(1);
  const int64_t background = features;  // index of the appended -1 column
  auto index = torch::empty({batch, features}, torch::kLong);
  int64_t* ip = index.data_ptr<int64_t>();
  std::uniform_int_distribution<int> shift(-max_shift, max_shift);
  for (int64_t b = 0; b < batch; ++b) {
    const int dy = shift(rng), dx = shift(rng);
    int64_t* row = ip + b * features;
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t y = 0; y < height; ++y)
        for (int64_t xx = 0; xx < width; ++xx) {
          const int64_t sy = y - dy, sx = xx - dx;
          const bool inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
          const int64_t dst = ((c * height + y) * width + xx) * bits_per_pixel;
          const int64_t src = ((c * height + sy) * width + sx) * bits_per_pixel;
          for (int64_t t = 0; t < bits_per_pixel; ++t) row[dst + t] = inside ? src + t : background;
        }
  }
  const auto padded = torch::cat({x, -torch::ones({batch, 1}, x.options())}, 1);
  return padded.gather(1, index.to(x.device()));
}

torch::Tensor random_flip(const torch::Tensor& x, const std::vector<int>& shape, int bits_per_pixel,
                          std::mt19937_64& rng) {
  if (shape.size() != 3) return x;
  const int64_t channels = shape[0], height = shape[1], width = shape[2];
  const int64_t batch = x.size(0), features = x.size(1);
  auto index = torch::empty({batch, features}, torch::kLong);
  int64_t* ip = index.data_ptr<int64_t>();
  for (int64_t b = 0; b < batch; ++b) {
    const bool flip = (rng() & 1) != 0;
    int64_t* row = ip + b * features;
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t y = 0; y < height; ++y)
        for (int64_t xx = 0; xx < width; ++xx) {
          const int64_t sx = flip ? width - 1 - xx : xx;
          const int64_t dst = ((c * height + y) * width + xx) * bits_per_pixel;
          const int64_t src = ((c * height + y) * width + sx) * bits_per_pixel;
          for (int64_t t = 0; t < bits_per_pixel; ++t) row[dst + t] = src + t;
        }
  }
  return x.gather(1, index.to(x.device()));
}

}  // namespace lutnet::train
