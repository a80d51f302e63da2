// Seeded mutation fuzzing of the model reader (dense version-1 and conv/pool version-2 files).
// Valid model files are damaged in thousands of
// reproducible ways; every damaged file must either load as a model that validates, evaluates and
// round-trips, or be rejected with lutnet::Error. Anything else (another exception type, a crash,
// a sanitizer report, a hang) is a bug in the reader or the validator.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/model_io.hpp"
#include "core/random_model.hpp"
#include "core/reference_evaluator.hpp"
#include "core_test_util.hpp"

namespace lutnet {
namespace {

// Fewer cases in unoptimized (sanitizer) builds keep the suite quick; the seeds stay the same.
#ifdef NDEBUG
constexpr int kCasesPerModel = 4000;
#else
constexpr int kCasesPerModel = 1500;
#endif
constexpr int kMaxReportedFailures = 10;

// Numbers at and around every limit the reader or the validator knows about, and some it must not
// misread (overflow, floats, exponents).
const std::array<const char*, 30> kInterestingNumbers = {"0",
                                                         "-0",
                                                         "1",
                                                         "-1",
                                                         "2",
                                                         "3",
                                                         "6",
                                                         "7",
                                                         "8",
                                                         "255",
                                                         "256",
                                                         "65535",
                                                         "65536",
                                                         "65537",
                                                         "16777216",
                                                         "268435455",
                                                         "268435456",
                                                         "2147483647",
                                                         "2147483648",
                                                         "-2147483649",
                                                         "4294967295",
                                                         "4294967296",
                                                         "4503599627370496",
                                                         "9223372036854775807",
                                                         "9223372036854775808",
                                                         "18446744073709551615",
                                                         "18446744073709551616",
                                                         "1e999",
                                                         "1.5",
                                                         "-1e3"};

const std::array<const char*, 12> kInterestingStrings = {"\"\"",
                                                         "\"argmax\"",
                                                         "\"residual_sign\"",
                                                         "\"lut_dense\"",
                                                         "\"lut_conv2d\"",
                                                         "\"0\"",
                                                         "\"ffffffffffffffff\"",
                                                         "\"f\"",
                                                         "\"lutnet-model\"",
                                                         "\"\\u0000\"",
                                                         "[]",
                                                         "{}"};

const std::string kInterestingBytes = "0123456789-+.eE[]{},:\"\\ \nfxtn";

struct Token {
  size_t begin;
  size_t end;
};

// Maximal runs that look like JSON numbers, or whole string literals.
std::vector<Token> find_tokens(const std::string& text, bool strings) {
  std::vector<Token> tokens;
  for (size_t i = 0; i < text.size();) {
    if (strings && text[i] == '"') {
      size_t j = i + 1;
      while (j < text.size() && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
      if (j >= text.size()) break;
      tokens.push_back({i, j + 1});
      i = j + 1;
    } else if (!strings && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '-')) {
      size_t j = i + 1;
      while (j < text.size() &&
             (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.' ||
              text[j] == 'e' || text[j] == 'E' || text[j] == '+' || text[j] == '-'))
        ++j;
      tokens.push_back({i, j});
      i = j;
    } else if (!strings && text[i] == '"') {
      // Skip string contents so that hex digits in tables are not taken for numbers.
      size_t j = i + 1;
      while (j < text.size() && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
      i = j + 1;
    } else {
      ++i;
    }
  }
  return tokens;
}

// The index of the ']' that closes the '[' at `open`, ignoring brackets inside strings.
std::optional<size_t> matching_bracket(const std::string& text, size_t open) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[') {
      ++depth;
    } else if (c == ']' && --depth == 0) {
      return i;
    }
  }
  return std::nullopt;
}

size_t below(std::mt19937_64& rng, size_t bound) { return bound == 0 ? 0 : rng() % bound; }

void mutate(std::string& text, std::mt19937_64& rng) {
  if (text.empty()) {
    text = kInterestingStrings[below(rng, kInterestingStrings.size())];
    return;
  }
  const size_t at = below(rng, text.size());
  switch (rng() % 9) {
    case 0:  // flip one bit
      text[at] = static_cast<char>(text[at] ^ (1 << below(rng, 8)));
      break;
    case 1: {  // insert a byte, usually one with a meaning in JSON
      const char c = rng() % 4 == 0 ? static_cast<char>(rng())
                                    : kInterestingBytes[below(rng, kInterestingBytes.size())];
      text.insert(at, 1, c);
      break;
    }
    case 2:  // delete a few bytes
      text.erase(at, 1 + below(rng, 8));
      break;
    case 3:  // truncate
      text.resize(at);
      break;
    case 4: {  // replace a number with one at a limit
      const auto numbers = find_tokens(text, false);
      if (numbers.empty()) break;
      const Token t = numbers[below(rng, numbers.size())];
      text.replace(t.begin, t.end - t.begin,
                   kInterestingNumbers[below(rng, kInterestingNumbers.size())]);
      break;
    }
    case 5: {  // copy one number over another (keeps files plausible: sizes that agree, etc.)
      const auto numbers = find_tokens(text, false);
      if (numbers.size() < 2) break;
      const Token from = numbers[below(rng, numbers.size())];
      const Token to = numbers[below(rng, numbers.size())];
      const std::string value = text.substr(from.begin, from.end - from.begin);
      text.replace(to.begin, to.end - to.begin, value);
      break;
    }
    case 6: {  // duplicate an array's contents: [a,b] -> [a,b,a,b]
      std::vector<size_t> opens;
      for (size_t i = 0; i < text.size(); ++i)
        if (text[i] == '[') opens.push_back(i);
      if (opens.empty()) break;
      const size_t open = opens[below(rng, opens.size())];
      const auto close = matching_bracket(text, open);
      if (!close || *close == open + 1) break;
      const std::string inner = text.substr(open + 1, *close - open - 1);
      text.insert(*close, "," + inner);
      break;
    }
    case 7: {  // replace a string literal
      const auto strings = find_tokens(text, true);
      if (strings.empty()) break;
      const Token t = strings[below(rng, strings.size())];
      text.replace(t.begin, t.end - t.begin,
                   kInterestingStrings[below(rng, kInterestingStrings.size())]);
      break;
    }
    default: {  // drop an array element or object member up to the next comma
      const size_t comma = text.find(',', at);
      if (comma != std::string::npos) text.erase(at, comma + 1 - at);
      break;
    }
  }
}

std::vector<std::string> base_files() {
  std::vector<RandomModelSpec> specs(5);
  specs[1].k = 1;
  specs[1].levels = 1;
  specs[1].seed = 2;
  specs[2].k = 6;
  specs[2].levels = 3;
  specs[2].input_bits_per_pixel = 2;
  specs[2].hidden = {6};
  specs[2].input_shape = {1, 3, 3};
  specs[2].seed = 3;
  specs[3].hidden = {};
  specs[3].k = 2;
  specs[3].seed = 4;
  specs[4].hidden = {5, 4, 3};
  specs[4].levels = kMaxLevels;
  specs[4].k = 3;
  specs[4].input_shape = {2, 2, 2};
  specs[4].seed = 5;
  // Version 2: conv (stride 2, thermometer input), pool, then dense.
  RandomModelSpec conv;
  conv.input_shape = {2, 7, 6};
  conv.input_bits_per_pixel = 2;
  conv.convs = {{3, 3, 2, 2, 2, 1}, {2, 2, 2, 1, 0, 1}};
  conv.hidden = {4};
  conv.num_classes = 3;
  conv.k = 3;
  conv.keep_fraction = 0.3;
  conv.seed = 6;
  specs.push_back(conv);
  std::vector<std::string> files;
  for (const auto& spec : specs) files.push_back(model_to_json(make_random_model(spec)));
  files.push_back(model_to_json(test::worked_example_model()));
  files.push_back(model_to_json(test::worked_conv_example_model()));
  return files;
}

std::string excerpt(const std::string& text) {
  return text.size() <= 400 ? text : text.substr(0, 400) + "...";
}

// One test per starting file, so that ctest can run them in parallel.
class ModelFuzz : public ::testing::TestWithParam<size_t> {};

TEST_P(ModelFuzz, DamagedFilesLoadCleanlyOrFailWithLutnetError) {
  static const std::vector<std::string> bases = base_files();
  const size_t b = GetParam();
  ASSERT_LT(b, bases.size());
  int accepted = 0;
  int rejected = 0;
  int failures = 0;
  for (int i = 0; i < kCasesPerModel && failures < kMaxReportedFailures; ++i) {
    const uint64_t seed = b * 1000003 + static_cast<uint64_t>(i);
    std::mt19937_64 rng(seed);
    std::string text = bases[b];
    const int mutations = 1 + static_cast<int>(rng() % 3);
    for (int m = 0; m < mutations; ++m) mutate(text, rng);
    const std::string where = fmt::format("base {} seed {}", b, seed);

    std::optional<Model> model;
    try {
      model = model_from_json(text, "fuzz.json");
    } catch (const Error& e) {
      ++rejected;
      const std::string message = e.what();
      if (message.rfind("fuzz.json: ", 0) != 0 || message.find('\n') != std::string::npos) {
        ++failures;
        ADD_FAILURE() << where
                      << ": error does not start with the file name or spans lines: " << message;
      }
      continue;
    } catch (const std::exception& e) {
      ++failures;
      ADD_FAILURE() << where << ": threw a non-lutnet exception: " << e.what() << "\n"
                    << excerpt(text);
      continue;
    } catch (...) {
      ++failures;
      ADD_FAILURE() << where << ": threw something that is not a std::exception";
      continue;
    }
    ++accepted;
    try {
      validate(*model);
      // Round trip: what was accepted writes back and reads again to the same bytes.
      const std::string again = model_to_json(*model);
      EXPECT_EQ(model_to_json(model_from_json(again, "again.json")), again) << where;
      if (model->input.num_pixels() <= (1 << 16)) {
        const std::vector<uint8_t> pixels = make_random_pixels(*model, 3, seed);
        for (int n = 0; n < 3; ++n) {
          const Prediction p = evaluate_reference(
              *model, pixels.data() + static_cast<size_t>(n) * model->input.num_pixels());
          EXPECT_EQ(p.scores.size(), static_cast<size_t>(model->num_classes)) << where;
          EXPECT_TRUE(p.label >= 0 && p.label < model->num_classes) << where;
        }
      }
    } catch (const std::exception& e) {
      ++failures;
      ADD_FAILURE() << where << ": an accepted model failed later: " << e.what() << "\n"
                    << excerpt(text);
    }
  }
  // Both outcomes must be common, or the mutations are not exercising the reader.
  EXPECT_GT(accepted, kCasesPerModel / 50);
  EXPECT_GT(rejected, kCasesPerModel / 2);
  std::printf("fuzz base %zu: %d accepted, %d rejected\n", b, accepted, rejected);
}

INSTANTIATE_TEST_SUITE_P(StartingFiles, ModelFuzz, ::testing::Range(size_t{0}, size_t{8}));

}  // namespace
}  // namespace lutnet
