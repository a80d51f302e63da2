#pragma once
// The in-memory form of a LUT network model file (docs/model-format.md). This is the one contract
// between training and everything downstream: reference evaluator, engine, Verilog.
//
// One meaning of a LUT (DESIGN.md §3): a K-LUT with inputs in[0..K-1] and table INIT outputs
// INIT[sum in[k] * 2^k]; in[0] is the least significant address bit; bit 1 means +1.
#include <cstdint>
#include <string>
#include <vector>

namespace lutnet {

inline constexpr int kModelFormatVersion = 3;
inline constexpr int kMaxLutInputs = 6;
inline constexpr int kMaxLevels = 4;

// How 8-bit input pixels become input bits. Bit j of pixel p is (pixel >= thresholds[j]) and sits
// at input position p * thresholds.size() + j. One threshold is plain binarization; T ascending
// thresholds are a T-bit thermometer code.
struct InputEncoding {
  std::vector<int> shape;           // e.g. {1, 28, 28}; product = number of pixels
  std::vector<uint8_t> thresholds;  // ascending, 1..8 entries
  int num_pixels() const;
  int num_bits() const { return num_pixels() * static_cast<int>(thresholds.size()); }
};

// What a layer does with its per-output accumulators.
enum class LayerOutput {
  kResidualSign,  // output_levels bits per neuron through a threshold tree (hidden layers)
  kArgmax,        // raw accumulators are the class scores; prediction = first maximum
};

enum class LayerKind {
  kLutDense,   // every output reads any position of the (flattened) input planes
  kLutConv2d,  // the same LUT array at every output pixel, over a kernel_h x kernel_w window
  kMaxPool,    // per channel, the lexicographic maximum of the residual-sign codes in a window
};

// The bits between two layers: `levels` bit-planes of channels x height x width bits each.
// Within a plane, bit (c, y, x) sits at ((c / group * height + y) * width + x) * group + c % group.
// group is 1 for every layer output (plain C x H x W, row-major) and T for the encoded input,
// whose T thermometer bits of a pixel are adjacent (InputEncoding); a dense layer reads a plane
// as the flat vector of its positions, so this order is also the flatten order.
struct ActivationShape {
  int levels = 1;
  int channels = 1;
  int height = 1;
  int width = 1;
  int group = 1;

  int64_t plane_bits() const { return int64_t{channels} * height * width; }
  int64_t index(int c, int y, int x) const {
    return ((int64_t{c / group} * height + y) * width + x) * group + c % group;
  }
  bool operator==(const ActivationShape&) const = default;
};

// The bits a table of a k-input LUT may use: the low 2^k.
inline uint64_t lut_table_mask(int k) {
  return k >= 6 ? ~uint64_t{0} : (uint64_t{1} << (1 << k)) - 1;
}

// The tiled form of a LUT layer (DESIGN.md §9, docs/model-format.md §14): one hard-wired array
// of tile_outputs() x tile_inputs() K-LUTs, reused for all tm x tn tile pairs. Output o sits at
// tile o / tile_outputs(), position o % tile_outputs(); input position i likewise with
// tile_inputs(). The LUT at tile position (po, pi) reads address bits
//   in[0]           = input ti * tile_inputs() + pi (the connection's own input),
//   in[j], j < k-n  = input ti * tile_inputs() + extra_inputs[(j - 1) * tile_inputs() + pi],
//   in[k-n+b]       = weight bit b of connection (o, i), from block RAM,
// and uses table tables[(po * tile_inputs() + pi) * levels + l] for input level l. The mask and
// the tables belong to the tile position and are shared by every tile pair; only the weight bits
// differ per connection. Evaluated by lowering (lower_tiling): the layer's own LUT fields hold the
// equivalent untied layer with k - n inputs, whose table is the shared one with the weight bits
// fixed.
struct Tiling {
  int tm = 0;  // output tiles; 0 = not tiled
  int tn = 0;  // input tiles
  int k = 0;   // LUT inputs in hardware: k - n activations and n weight bits
  int n = 0;   // weight bits per connection
  int num_outputs = 0, num_inputs = 0;  // of the layer, for the tile sizes
  std::vector<uint8_t> mask;            // tile_outputs() * tile_inputs(), 1 = kept
  std::vector<uint32_t> extra_inputs;   // (k - n - 1) * tile_inputs(), each < tile_inputs()
  std::vector<uint64_t> tables;         // tile_outputs() * tile_inputs() * levels (0 if pruned)
  std::vector<uint8_t> weight_bits;     // num_outputs * num_inputs, each < 2^n (0 if pruned)

  bool enabled() const { return tm > 0; }
  int tile_outputs() const { return tm > 0 ? num_outputs / tm : 0; }
  int tile_inputs() const { return tn > 0 ? num_inputs / tn : 0; }
  int tile_pairs() const { return tm * tn; }
  int activation_inputs() const { return k - n; }
  bool operator==(const Tiling&) const = default;
};

// One layer of a model. kLutDense and kLutConv2d carry a LUT array (the fields from num_inputs to
// thresholds); kMaxPool carries only its window.
//
// LUT array: each output neuron o has connections c in [conn_offset[o], conn_offset[o+1]);
// connection c is a K-LUT reading input positions lut_inputs[c*k .. c*k+k-1] (entry 0 is the
// connection's own input, the rest are the extra inputs of logic expansion). For every input
// level l the LUT reads bit-plane l of its inputs and uses its own table
// tables[c*input_levels + l] (low 2^k bits used). For kLutDense the positions index the flat
// input plane; for kLutConv2d they index the receptive window, position (ci * kernel_h + ky) *
// kernel_w + kx, and the array computes output channel o at every output pixel.
//
// Per output o:  pc_l = number of connections whose level-l LUT outputs 1,
//                acc  = sum_l level_weights[l] * pc_l   (integer, exact).
// kResidualSign: with s = output_sign[o] (+1/-1) and t = thresholds of o (2^output_levels - 1 of
// them, a binary tree): bit0 = s*acc >= t[0]; bit1 = s*acc >= t[1 + bit0];
// bit2 = s*acc >= t[3 + 2*bit0 + bit1]; ... (bit b uses t[(2^b - 1) + prefix of earlier bits]).
// A plain XNOR connection of a binarized network is the k = 1 case: table 0b10 (weight +1) or
// 0b01 (weight -1).
struct Layer {
  LayerKind kind = LayerKind::kLutDense;
  // kLutDense: flat input positions and output neurons. kLutConv2d: window positions
  // (in_channels * kernel_h * kernel_w) and output channels.
  int num_inputs = 0;
  int input_levels = 1;
  int num_outputs = 0;
  int k = 1;
  LayerOutput output = LayerOutput::kResidualSign;
  int output_levels = 1;  // bits per output neuron for kResidualSign; 0 for kArgmax

  std::vector<int64_t> level_weights;  // input_levels entries, > 0
  std::vector<uint32_t> conn_offset;   // num_outputs + 1 entries, ascending, starts at 0
  std::vector<uint32_t> lut_inputs;    // num_connections() * k entries, each < num_inputs
  std::vector<uint64_t> tables;        // num_connections() * input_levels entries
  std::vector<int8_t> output_sign;     // num_outputs entries (kResidualSign)
  std::vector<int64_t> thresholds;     // num_outputs * thresholds_per_output() (kResidualSign)

  // kLutConv2d and kMaxPool: the window and its step (valid: no padding; output size
  // (H - kernel_h) / stride + 1, rounded down).
  int kernel_h = 1;
  int kernel_w = 1;
  int stride = 1;

  // A tiled layer's hardware form; the fields above are then its lowering (lower_tiling).
  Tiling tiling;

  bool has_luts() const { return kind != LayerKind::kMaxPool; }
  size_t num_connections() const { return conn_offset.empty() ? 0 : conn_offset.back(); }
  int thresholds_per_output() const {
    return output == LayerOutput::kResidualSign ? (1 << output_levels) - 1 : 0;
  }
  uint64_t table_mask() const { return lut_table_mask(k); }
};

const char* layer_kind_name(LayerKind kind);  // "lut_dense", "lut_conv2d", "max_pool"

struct Model {
  std::string name;
  InputEncoding input;
  int num_classes = 0;
  std::vector<Layer> layers;
  // Free-form provenance (training config, seed, metrics); not needed for inference.
  std::string metadata_json = "{}";
};

// The shape of the encoded input: one level; for a C x H x W image C*T channels in groups of T
// (a 2-D shape is 1 x H x W, a 1-D shape of N pixels is N x 1 x 1).
ActivationShape input_activation_shape(const InputEncoding& input);

// Shape inference: entry i is the input of layer i, the last entry the output of the last layer.
// Throws lutnet::Error naming the layer whose shape does not fit the chain ("layer 3: max_pool
// window 3x3 is larger than its 2x2 input").
std::vector<ActivationShape> infer_shapes(const Model& model);

// The output shape of `layer` reading `in` (no checks beyond what the arithmetic needs).
ActivationShape layer_output_shape(const Layer& layer, const ActivationShape& in);

// Infers the shapes, then checks everything else. Throws lutnet::Error naming the first
// inconsistency ("layer 2: lut_inputs[17] = 300 >= 256").
void validate(const Model& model);

// s * acc >= t as a test of acc itself, which is how an unsigned adder or bit-sliced counter
// compares: acc >= at_least, inverted for s = -1 (-acc >= t <=> not(acc >= 1 - t)).
struct AccumulatorCompare {
  int64_t at_least;
  bool invert;
};
inline AccumulatorCompare accumulator_compare(int sign, int64_t threshold) {
  return sign < 0 ? AccumulatorCompare{1 - threshold, true} : AccumulatorCompare{threshold, false};
}

// Evaluates threshold bit `bit` of a residual-sign output given the bits decided before it.
inline bool residual_sign_bit(const int64_t* thresholds, int sign, int64_t acc, int bit,
                              unsigned earlier_bits) {
  // earlier_bits holds bit0 in its most significant used position: prefix index in the tree.
  const int64_t t = thresholds[((1 << bit) - 1) + static_cast<int>(earlier_bits)];
  return sign * acc >= t;
}

}  // namespace lutnet
