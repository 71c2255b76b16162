//===- FormatsTest.cpp - Codec round trips and error bounds ---------------===//
#include "qc/Analysis/GPTQ.h"
#include "qc/Formats/Codec.h"
#include "qc/Formats/GGML.h"
#include "qc/Formats/Grid.h"
#include "qc/Formats/Registry.h"
#include "qc/Formats/Half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

using namespace qc::formats;
using qc::GPTQOptions;
using qc::GPTQSolver;
using qc::quantizeGPTQ;

namespace {

std::vector<float> randomWeights(int64_t n, unsigned seed, float sigma = 0.02f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> w(n);
  for (float &x : w)
    x = dist(rng);
  return w;
}

struct RoundTrip {
  std::vector<uint8_t> bytes;
  std::vector<float> out;
};

RoundTrip roundTrip(const Codec &codec, const std::vector<float> &w,
                    int64_t rows, int64_t cols, const float *imp = nullptr) {
  RoundTrip rt;
  rt.bytes.assign(codec.packedBytes(rows, cols), 0xAB);
  EXPECT_EQ(codec.quantize(w.data(), rows, cols, imp, rt.bytes.data()), "");
  rt.out.assign(rows * cols, NAN);
  codec.dequantize(rt.bytes.data(), rows, cols, rt.out.data());
  return rt;
}

double weightedError(const std::vector<float> &a, const std::vector<float> &b,
                     const std::vector<float> &imp, int64_t cols) {
  double e = 0;
  for (size_t i = 0; i < a.size(); ++i)
    e += imp[i % cols] * (a[i] - b[i]) * (a[i] - b[i]);
  return e;
}

} // namespace

TEST(Half, KnownValues) {
  EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(floatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(floatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(65520.0f), 0x7c00); // rounds to infinity
  EXPECT_EQ(floatToHalf(5.9604644775390625e-8f), 0x0001); // smallest subnormal
  // 1 + 2^-11 is a tie between 1 and 1 + 2^-10: rounds to even (1.0).
  EXPECT_EQ(floatToHalf(1.0f + 0.00048828125f), 0x3c00);
  EXPECT_EQ(floatToHalf(1.0f + 3 * 0.00048828125f), 0x3c02);
  for (uint32_t h = 0; h < 0x7c00; ++h) // every finite half round-trips
    ASSERT_EQ(floatToHalf(halfToFloat(uint16_t(h))), h) << h;
  EXPECT_EQ(floatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16ToFloat(0x4049), 3.140625f);
}

TEST(Uniform, ParamsAreChecked) {
  EXPECT_NE(checkUniformParams({1, 32, true, ScaleType::F16}), "");
  EXPECT_NE(checkUniformParams({4, 12, true, ScaleType::F16}), "");
  EXPECT_NE(checkUniformParams({4, 512, true, ScaleType::F16}), "");
  EXPECT_EQ(checkUniformParams({3, 24, false, ScaleType::BF16}), "");
  EXPECT_EQ(makeUniformCodec({9, 32, true, ScaleType::F16}), nullptr);
}

TEST(Uniform, SizesCountPaddingAndScales) {
  auto codec = makeUniformCodec({4, 32, true, ScaleType::F16});
  EXPECT_EQ(codec->blockBytes(), 2 + 16);
  EXPECT_DOUBLE_EQ(codec->nominalBitsPerWeight(), 4.5);
  // stories260K's ffn_down rows are 172 wide: 6 groups, the last padded.
  EXPECT_EQ(codec->rowBytes(172), 6 * 18);
  EXPECT_EQ(codec->packedBytes(64, 172), 64 * 6 * 18);
  auto asym3 = makeUniformCodec({3, 64, false, ScaleType::F32});
  EXPECT_EQ(asym3->blockBytes(), 8 + 24);
  EXPECT_EQ(codec->packedBytes(INT64_MAX / 4, 64), -1); // overflow
}

TEST(Uniform, RoundTripWithinHalfAStep) {
  for (int bits = 2; bits <= 8; ++bits)
    for (int group : {16, 32, 128})
      for (bool sym : {true, false}) {
        UniformParams p{bits, group, sym, ScaleType::F32};
        auto codec = makeUniformCodec(p);
        int64_t rows = 3, cols = 172;
        auto w = randomWeights(rows * cols, bits * 1000 + group);
        RoundTrip rt = roundTrip(*codec, w, rows, cols);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c0 = 0; c0 < cols; c0 += group) {
            int64_t n = std::min<int64_t>(group, cols - c0);
            float lo = INFINITY, hi = -INFINITY;
            for (int64_t i = 0; i < n; ++i) {
              lo = std::min(lo, w[r * cols + c0 + i]);
              hi = std::max(hi, w[r * cols + c0 + i]);
            }
            // Symmetric: the step is max|w| / 2^(bits-1) and the side
            // opposite the extreme reaches only 2^(bits-1) - 1 steps, so a
            // weight there may be clipped by up to one step; asymmetric:
            // the range over 2^bits - 1, rounded to the nearest code.
            float amax = std::max(-lo, hi);
            float step = sym ? amax / float(1 << (bits - 1))
                             : (hi - lo) / float((1 << bits) - 1);
            float bound = sym ? step : 0.5f * step;
            for (int64_t i = 0; i < n; ++i) {
              int64_t k = r * cols + c0 + i;
              ASSERT_LE(std::fabs(rt.out[k] - w[k]), bound * 1.001f + 1e-9f)
                  << "bits " << bits << " group " << group << " sym " << sym;
            }
          }
      }
}

TEST(Uniform, ImportanceLowersWeightedError) {
  int64_t rows = 16, cols = 256;
  auto w = randomWeights(rows * cols, 7);
  std::vector<float> imp(cols);
  std::mt19937 rng(3);
  std::exponential_distribution<float> dist(1.0f);
  for (float &x : imp)
    x = dist(rng);
  for (int bits : {3, 4}) {
    auto codec = makeUniformCodec({bits, 32, true, ScaleType::F16});
    RoundTrip rtn = roundTrip(*codec, w, rows, cols);
    RoundTrip weighted = roundTrip(*codec, w, rows, cols, imp.data());
    double eRtn = weightedError(w, rtn.out, imp, cols);
    double eImp = weightedError(w, weighted.out, imp, cols);
    EXPECT_LT(eImp, 0.9 * eRtn) << "bits " << bits;
  }
}

TEST(Ternary, LayoutAndBitsPerWeight) {
  auto d2 = makeTernaryCodec({2, 16, 27});
  EXPECT_EQ(ternaryScaleTrits({2, 16, 27}), 3);
  EXPECT_EQ(d2->blockBytes(), 7); // 3 + 32 trits = 35 = 7 bytes of 5 trits
  EXPECT_DOUBLE_EQ(d2->nominalBitsPerWeight(), 3.5);
  EXPECT_EQ(makeTernaryCodec({1, 16, 27})->blockBytes(), 4); // 19 trits
  EXPECT_EQ(makeTernaryCodec({3, 16, 27})->blockBytes(), 11); // 51 trits
  EXPECT_EQ(d2->packedBytes(64, 172), 4 + 64 * 11 * 7);
  EXPECT_NE(checkTernaryParams({2, 16, 26}), "");
  EXPECT_NE(checkTernaryParams({4, 16, 27}), "");
  EXPECT_FLOAT_EQ(ternaryCodebookEntry({2, 16, 27}, 26), 1.0f);
  EXPECT_FLOAT_EQ(ternaryCodebookEntry({2, 16, 27}, 0), 1.0f / 64);
}

TEST(Ternary, GridValuesRoundTripExactly) {
  // Weights already on the grid of the top codebook entry come back exactly.
  for (int depth = 1; depth <= 3; ++depth) {
    TernaryParams p{depth, 16, 27};
    int L = depth == 1 ? 1 : depth == 2 ? 4 : 13;
    std::vector<float> w(2 * 48);
    for (size_t i = 0; i < w.size(); ++i)
      w[i] = 0.25f * float(int(i % (2 * L + 1)) - L);
    w[0] = 0.25f * float(L); // the group's max sets the tensor scale
    w[16] = 0.25f * float(L);
    w[32] = 0.25f * float(L);
    auto codec = makeTernaryCodec(p);
    RoundTrip rt = roundTrip(*codec, w, 2, 48);
    for (size_t i = 0; i < w.size(); ++i)
      ASSERT_NEAR(rt.out[i], w[i], 1e-6f) << "depth " << depth << " at " << i;
  }
}

TEST(Ternary, ErrorShrinksWithDepth) {
  auto w = randomWeights(8 * 160, 11);
  double prev = INFINITY;
  for (int depth = 1; depth <= 3; ++depth) {
    auto codec = makeTernaryCodec({depth, 16, 27});
    RoundTrip rt = roundTrip(*codec, w, 8, 160);
    double err = 0;
    for (size_t i = 0; i < w.size(); ++i)
      err += (rt.out[i] - w[i]) * (rt.out[i] - w[i]);
    EXPECT_LT(err, prev) << "depth " << depth;
    prev = err;
  }
}

TEST(GGML, TypeTable) {
  auto q4k = ggmlTypeByName("Q4_K");
  ASSERT_TRUE(q4k);
  EXPECT_EQ(uint32_t(q4k->type), 12u);
  EXPECT_EQ(q4k->blockSize, 256);
  EXPECT_EQ(q4k->blockBytes, 144);
  EXPECT_TRUE(q4k->canDequantize);
  EXPECT_FALSE(ggmlTypeInfo(4)); // removed Q4_2
  EXPECT_FALSE(ggmlTypeInfo(1000));
  EXPECT_EQ(ggmlTypeByName("Q6_K")->blockBytes, 210);
  EXPECT_EQ(ggmlTypeByName("Q3_K")->blockBytes, 110);
  EXPECT_EQ(ggmlTypeByName("Q2_K")->blockBytes, 84);
  EXPECT_EQ(ggmlTypeByName("Q5_K")->blockBytes, 176);
  EXPECT_EQ(ggmlTypeByName("IQ4_XS")->blockBytes, 136);
}

TEST(GGML, RowsMustFillBlocks) {
  auto q8 = makeGGMLCodec(GGMLType::Q8_0);
  EXPECT_NE(q8->checkRowLength(172), "");
  EXPECT_EQ(q8->rowBytes(172), -1);
  std::vector<float> w(172);
  std::vector<uint8_t> out(1024);
  EXPECT_NE(q8->quantize(w.data(), 1, 172, nullptr, out.data()), "");
}

TEST(GGML, SimpleBlocksRoundTrip) {
  struct Case {
    GGMLType type;
    float relStep; // worst error relative to max|w| per block
  } cases[] = {{GGMLType::Q8_0, 1.0f / 127}, {GGMLType::Q4_0, 1.0f / 8},
               {GGMLType::Q4_1, 1.0f / 15}, {GGMLType::Q5_0, 1.0f / 16},
               {GGMLType::Q5_1, 1.0f / 31}, {GGMLType::F16, 1e-3f},
               {GGMLType::BF16, 8e-3f}};
  auto w = randomWeights(4 * 128, 5);
  for (const Case &c : cases) {
    auto codec = makeGGMLCodec(c.type);
    RoundTrip rt = roundTrip(*codec, w, 4, 128);
    for (size_t b = 0; b < w.size(); b += 32) {
      float amax = 0;
      for (size_t i = b; i < b + 32; ++i)
        amax = std::max(amax, std::fabs(w[i]));
      for (size_t i = b; i < b + 32; ++i)
        ASSERT_LE(std::fabs(rt.out[i] - w[i]), amax * c.relStep * 1.01f)
            << codec->name() << " at " << i;
    }
  }
}

TEST(GGML, Q4_0MatchesHandComputedBlock) {
  // max|w| = -8 (negative) gives d = 1: codes are w + 8.
  std::vector<float> w(32);
  for (int i = 0; i < 32; ++i)
    w[i] = float(i % 16) - 8.0f;
  auto codec = makeGGMLCodec(GGMLType::Q4_0);
  std::vector<uint8_t> b(18);
  ASSERT_EQ(codec->quantize(w.data(), 1, 32, nullptr, b.data()), "");
  EXPECT_EQ(b[0] | b[1] << 8, 0x3c00); // d = 1.0 in f16
  for (int j = 0; j < 16; ++j)
    EXPECT_EQ(b[2 + j], uint8_t(j | j << 4));
}

TEST(GGML, Q4_KDequantizesByItsFormula) {
  // d = 1, dmin = 0.5; sub-block scales 1..8 and mins 0..7 in the 6-bit
  // packing; code of weight i is i % 16.
  std::vector<uint8_t> b(144, 0);
  b[0] = 0x00; b[1] = 0x3c; // d = 1
  b[2] = 0x00; b[3] = 0x38; // dmin = 0.5
  uint8_t sc[8] = {1, 2, 3, 4, 5, 6, 7, 8}, mn[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  for (int j = 0; j < 4; ++j) {
    b[4 + j] = sc[j];
    b[8 + j] = mn[j];
    b[12 + j] = uint8_t((sc[j + 4] & 0xF) | (mn[j + 4] & 0xF) << 4);
  }
  for (int l = 0; l < 128; ++l)
    b[16 + l] = uint8_t((l % 16) | (l % 16) << 4);
  std::vector<float> y(256);
  makeGGMLCodec(GGMLType::Q4_K)->dequantize(b.data(), 1, 256, y.data());
  for (int i = 0; i < 256; ++i) {
    int sub = i / 32, l = i % 32;
    EXPECT_FLOAT_EQ(y[i], float(sc[sub]) * float(l % 16) - 0.5f * float(mn[sub]))
        << i;
  }
}

TEST(GGML, Q6_KDequantizesByItsFormula) {
  std::vector<uint8_t> b(210, 0);
  // All 6-bit codes 33 (q = 1), scales 1..16, d = 2.
  for (int i = 0; i < 128; ++i)
    b[i] = 0x11;           // low nibbles 1
  for (int i = 0; i < 64; ++i)
    b[128 + i] = 0xAA;     // high 2 bits 2 -> code 0x21 = 33
  for (int i = 0; i < 16; ++i)
    b[192 + i] = uint8_t(i + 1);
  b[208] = 0x00; b[209] = 0x40; // d = 2
  std::vector<float> y(256);
  makeGGMLCodec(GGMLType::Q6_K)->dequantize(b.data(), 1, 256, y.data());
  for (int i = 0; i < 256; ++i)
    EXPECT_FLOAT_EQ(y[i], 2.0f * float(i / 16 + 1)) << i;
}

/// Correlated inputs X (rows of activations), H = X^T X and weights W, with
/// the output error ||X W^T - X Q^T||^2 of a codec's bytes.
struct CorrelatedLayer {
  int64_t n = 512, rows, cols;
  std::vector<float> x, w;
  std::vector<double> h;

  CorrelatedLayer(int64_t rows, int64_t cols) : rows(rows), cols(cols) {
    std::mt19937 rng(9);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    x.resize(n * cols);
    for (int64_t t = 0; t < n; ++t) {
      float shared = dist(rng);
      for (int64_t c = 0; c < cols; ++c)
        x[t * cols + c] = 0.8f * shared + 0.6f * dist(rng) * (1.0f + c % 4);
    }
    h.assign(cols * cols, 0.0);
    for (int64_t t = 0; t < n; ++t)
      for (int64_t i = 0; i < cols; ++i)
        for (int64_t j = 0; j < cols; ++j)
          h[i * cols + j] += double(x[t * cols + i]) * x[t * cols + j];
    w = randomWeights(rows * cols, 21);
  }
  std::vector<float> diagonal() const {
    std::vector<float> d(cols);
    for (int64_t c = 0; c < cols; ++c)
      d[c] = float(h[c * cols + c]);
    return d;
  }
  double outputError(const Codec &c, const std::vector<uint8_t> &bytes) const {
    std::vector<float> q(rows * cols);
    c.dequantize(bytes.data(), rows, cols, q.data());
    double e = 0;
    for (int64_t t = 0; t < n; ++t)
      for (int64_t r = 0; r < rows; ++r) {
        double s = 0;
        for (int64_t c2 = 0; c2 < cols; ++c2)
          s += double(x[t * cols + c2]) * (w[r * cols + c2] - q[r * cols + c2]);
        e += s * s;
      }
    return e;
  }
  /// Sum over rows and groups of dw^T H_gg dw: the error that each group
  /// sees of its own (what a per-group search can lower).
  double groupBlockError(const Codec &c, const std::vector<uint8_t> &bytes,
                         int64_t group) const {
    std::vector<float> q(rows * cols);
    c.dequantize(bytes.data(), rows, cols, q.data());
    double e = 0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < cols; ++i)
        for (int64_t j = i / group * group; j < std::min(cols, (i / group + 1) * group); ++j)
          e += (w[r * cols + i] - q[r * cols + i]) * h[i * cols + j] *
               (w[r * cols + j] - q[r * cols + j]);
    return e;
  }
};

TEST(GPTQ, LowersOutputErrorAgainstRTN) {
  // Correlated inputs make GPTQ's error feedback pay: compare
  // ||X W^T - X Q^T||^2 for RTN and GPTQ at 3 bits.
  CorrelatedLayer layer(32, 64);
  int64_t rows = layer.rows, cols = layer.cols;
  const std::vector<float> &w = layer.w;
  const std::vector<double> &h = layer.h;
  UniformParams p{3, 32, true, ScaleType::F16};
  auto codec = makeUniformCodec(p);
  std::vector<uint8_t> rtn(codec->packedBytes(rows, cols));
  ASSERT_EQ(codec->quantize(w.data(), rows, cols, nullptr, rtn.data()), "");
  std::vector<uint8_t> gptq(rtn.size());
  ASSERT_EQ(quantizeGPTQ(*codec, w.data(), rows, cols, h.data(), {},
                           gptq.data()),
            "");
  EXPECT_LT(layer.outputError(*codec, gptq), 0.7 * layer.outputError(*codec, rtn));
  std::vector<double> zero(cols * cols, 0.0);
  EXPECT_NE(quantizeGPTQ(*codec, w.data(), rows, cols, zero.data(), {},
                           gptq.data()),
            "");
  // Balanced ternary takes the same error feedback.
  auto ternary = makeTernaryCodec({2, 16, 27});
  std::vector<uint8_t> t0(ternary->packedBytes(rows, cols)), t1(t0.size());
  ASSERT_EQ(ternary->quantize(w.data(), rows, cols, nullptr, t0.data()), "");
  ASSERT_EQ(quantizeGPTQ(*ternary, w.data(), rows, cols, h.data(), {},
                         t1.data()),
            "");
  EXPECT_LT(layer.outputError(*ternary, t1),
            0.8 * layer.outputError(*ternary, t0));
  EXPECT_NE(quantizeGPTQ(*makeGGMLCodec(GGMLType::Q4_0), w.data(), rows, cols,
                         h.data(), {}, t1.data()),
            "");
}

TEST(GPTQ, LazyBatchesAndRowChunksMatchTheColumnLoop) {
  // Batches of 128 columns (one BLAS product per batch) against batches of
  // one column (every update at once, the paper's plain loop), and two row
  // chunks through one factored H against the whole tensor: the same codes
  // but for float summation order.
  CorrelatedLayer layer(48, 320);
  int64_t rows = layer.rows, cols = layer.cols;
  auto codec = makeUniformCodec({3, 32, false, ScaleType::F16});
  int64_t bytes = codec->packedBytes(rows, cols);
  auto run = [&](int64_t batch) {
    std::vector<uint8_t> out(bytes);
    GPTQOptions o;
    o.batch = batch;
    EXPECT_EQ(quantizeGPTQ(*codec, layer.w.data(), rows, cols, layer.h.data(),
                           o, out.data()),
              "");
    return out;
  };
  std::vector<uint8_t> one = run(1), lazy = run(128);
  GPTQSolver solver(layer.h.data(), cols, {});
  std::vector<uint8_t> chunked(bytes);
  int64_t half = rows / 2, rowBytes = codec->rowBytes(cols);
  ASSERT_EQ(solver.quantize(*codec, layer.w.data(), half, chunked.data()), "");
  ASSERT_EQ(solver.quantize(*codec, layer.w.data() + half * cols, rows - half,
                            chunked.data() + half * rowBytes),
            "");
  auto same = [&](const std::vector<uint8_t> &a, const std::vector<uint8_t> &b) {
    int64_t equal = 0;
    for (int64_t i = 0; i < bytes; ++i)
      equal += a[i] == b[i];
    return double(equal) / double(bytes);
  };
  EXPECT_GT(same(one, lazy), 0.98);
  EXPECT_GT(same(lazy, chunked), 0.98);
  double e1 = layer.outputError(*codec, one), e2 = layer.outputError(*codec, lazy);
  EXPECT_NEAR(e1, e2, 0.02 * e1);
}

TEST(GPTQ, RowsBeyondOneWorkingChunkMatchSeparateCalls) {
  // 13200 rows of 320 exceed the solver's working chunk (4M weights): one
  // call goes in two chunks internally; two calls split elsewhere must
  // give the same codes but for float summation order.
  int64_t rows = 13200, cols = 320;
  CorrelatedLayer layer(1, cols);
  std::vector<float> w = randomWeights(rows * cols, 5);
  auto codec = makeUniformCodec({4, 32, true, ScaleType::F16});
  int64_t bytes = codec->packedBytes(rows, cols), half = 6600;
  GPTQSolver solver(layer.h.data(), cols, {});
  std::vector<uint8_t> one(bytes), two(bytes);
  ASSERT_EQ(solver.quantize(*codec, w.data(), rows, one.data()), "");
  ASSERT_EQ(solver.quantize(*codec, w.data(), half, two.data()), "");
  ASSERT_EQ(solver.quantize(*codec, w.data() + half * cols, rows - half,
                            two.data() + half * codec->rowBytes(cols)),
            "");
  // Over all rows, and over the first rows and the second chunk's alone
  // (where wrong row numbers in the second chunk would show).
  auto same = [&](int64_t r0, int64_t r1) {
    int64_t rb = codec->rowBytes(cols), equal = 0;
    for (int64_t i = r0 * rb; i < r1 * rb; ++i)
      equal += one[i] == two[i];
    return double(equal) / double((r1 - r0) * rb);
  };
  EXPECT_GT(same(0, rows), 0.98);
  EXPECT_GT(same(0, 100), 0.98);
  EXPECT_GT(same(13107, rows), 0.98);
}

TEST(Uniform, GroupHessianLowersOutputErrorAgainstDiagonal) {
  // The same search with each group's block of X^T X in place of its
  // diagonal: the correlations inside a group steer the codes. A short last
  // group (72 = 2 x 32 + 8) takes part too.
  CorrelatedLayer layer(32, 72);
  std::vector<float> diag = layer.diagonal();
  for (bool symmetric : {true, false}) {
    SCOPED_TRACE(symmetric ? "sym" : "asym");
    auto codec = makeUniformCodec({3, 32, symmetric, ScaleType::F16});
    int64_t bytes = codec->packedBytes(layer.rows, layer.cols);
    std::vector<uint8_t> perColumn(bytes), block(bytes);
    ASSERT_EQ(codec->quantize(layer.w.data(), layer.rows, layer.cols,
                              diag.data(), perColumn.data()),
              "");
    ASSERT_EQ(codec->quantizeGroupHessian(layer.w.data(), layer.rows,
                                          layer.cols, layer.h.data(),
                                          block.data()),
              "");
    // Measured: 0.79 / 0.82 of the diagonal search's errors (sym), 0.91 /
    // 0.93 (asym, whose offset already absorbs the shared input component).
    double bound = symmetric ? 0.85 : 0.95;
    EXPECT_LT(layer.groupBlockError(*codec, block, 32),
              bound * layer.groupBlockError(*codec, perColumn, 32));
    EXPECT_LT(layer.outputError(*codec, block),
              bound * layer.outputError(*codec, perColumn));
  }
  // A format without its own block search falls back to diag(H).
  auto q4 = makeGGMLCodec(GGMLType::Q4_0);
  CorrelatedLayer wide(4, 64);
  std::vector<uint8_t> viaDiag(q4->packedBytes(4, 64)), viaBlock(viaDiag.size());
  std::vector<float> wideDiag = wide.diagonal();
  ASSERT_EQ(q4->quantize(wide.w.data(), 4, 64, wideDiag.data(), viaDiag.data()),
            "");
  ASSERT_EQ(q4->quantizeGroupHessian(wide.w.data(), 4, 64, wide.h.data(),
                                     viaBlock.data()),
            "");
  EXPECT_EQ(viaDiag, viaBlock);
}

TEST(Registry, NamesRoundTripAndErrorsSayWhy) {
  std::string why;
  for (const FormatFamily &f : formatFamilies()) {
    if (f.name == "uniform" || f.name == "ternary")
      continue;
    auto codec = makeCodec(f.name, why);
    ASSERT_TRUE(codec) << f.name << ": " << why;
    EXPECT_EQ(codec->name(), f.name);
  }
  EXPECT_EQ(makeCodec("uniform<4,32,sym,f16>", why)->name(), "uniform<4,32,sym,f16>");
  EXPECT_FALSE(makeCodec("Q9_9", why));
  EXPECT_EQ(why, "unknown format 'Q9_9'");
  EXPECT_FALSE(makeCodec("Q4_K<2>", why));
  EXPECT_EQ(why, "Q4_K takes no parameters");
  EXPECT_FALSE(makeCodec("uniform<4,32,sym,f16", why));
  EXPECT_EQ(why, "format 'uniform<4,32,sym,f16' must end with '>'");
  EXPECT_FALSE(makeCodec("uniform<9,32,sym,f16>", why));
  EXPECT_NE(why.find("bits 2..8"), std::string::npos) << why;
}

namespace {
/// A grid of 16 evenly spaced values: the uniform 4-bit symmetric grid.
GridParams evenGrid(int group, Scalar scale) {
  GridParams p{"even", group, {}, scale};
  for (int i = 0; i < 16; ++i)
    p.values[i] = float(i - 8) / 8.0f;
  return p;
}
} // namespace

TEST(Grid, ParamsAreChecked) {
  EXPECT_EQ(checkGridParams(evenGrid(32, Scalar::F16)), "");
  EXPECT_NE(checkGridParams(evenGrid(33, Scalar::F16)), "");
  EXPECT_NE(checkGridParams(evenGrid(32, Scalar::BF16)), "");
  GridParams small = evenGrid(32, Scalar::F16);
  for (float &v : small.values)
    v *= 0.5f;
  EXPECT_NE(checkGridParams(small), "");
  EXPECT_FALSE(makeGridCodec(small));
}

TEST(Grid, DecodesToScaledGridPointsAndSearchesTheScale) {
  // An evenly spaced grid under an f16 scale is uniform<4,G,sym,f16> with
  // the scale searched: every weight decodes to s * value, and the error is
  // no worse than the uniform codec's (its own search).
  int64_t rows = 8, cols = 256;
  auto w = randomWeights(rows * cols, 5);
  auto grid = makeGridCodec(evenGrid(32, Scalar::F16));
  ASSERT_TRUE(grid);
  EXPECT_EQ(grid->blockBytes(), 18);
  RoundTrip rt = roundTrip(*grid, w, rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < cols / 32; ++b) {
      const uint8_t *block = rt.bytes.data() + r * grid->rowBytes(cols) + b * 18;
      float s = halfToFloat(uint16_t(block[0] | block[1] << 8));
      for (int i = 0; i < 32; ++i) {
        float v = rt.out[r * cols + b * 32 + i] / s * 8.0f;
        ASSERT_EQ(v, std::round(v)) << r << " " << b << " " << i;
      }
    }
  auto uniform = makeUniformCodec({4, 32, true, ScaleType::F16});
  RoundTrip ur = roundTrip(*uniform, w, rows, cols);
  std::vector<float> ones(cols, 1.0f);
  EXPECT_LE(weightedError(w, rt.out, ones, cols), 1.05 * weightedError(w, ur.out, ones, cols));
}

TEST(Grid, E8M0ScalesArePowersOfTwo) {
  int64_t rows = 4, cols = 64;
  auto w = randomWeights(rows * cols, 9);
  auto grid = makeGridCodec(evenGrid(32, Scalar::E8M0));
  ASSERT_TRUE(grid);
  EXPECT_EQ(grid->blockBytes(), 17);
  RoundTrip rt = roundTrip(*grid, w, rows, cols);
  for (size_t b = 0; b < rt.bytes.size(); b += 17) {
    float s = std::ldexp(1.0f, int(rt.bytes[b]) - 127);
    for (int i = 0; i < 32; ++i) {
      float v = rt.out[b / 17 * 32 + i] / s * 8.0f;
      ASSERT_EQ(v, std::round(v));
    }
  }
}

TEST(Grid, GPTQLowersOutputError) {
  CorrelatedLayer layer(32, 64);
  auto grid = makeGridCodec(evenGrid(32, Scalar::F16));
  ASSERT_TRUE(grid->supportsGPTQ());
  std::vector<uint8_t> rtn(grid->packedBytes(layer.rows, layer.cols)), gptq(rtn.size());
  ASSERT_EQ(grid->quantize(layer.w.data(), layer.rows, layer.cols, nullptr, rtn.data()), "");
  ASSERT_EQ(quantizeGPTQ(*grid, layer.w.data(), layer.rows, layer.cols, layer.h.data(), {},
                         gptq.data()),
            "");
  EXPECT_LT(layer.outputError(*grid, gptq), 0.8 * layer.outputError(*grid, rtn));
}

TEST(NF4, NormalGridBeatsUniformAtTheSameSize) {
  std::string why;
  auto nf4 = makeCodec("nf4", why);
  ASSERT_TRUE(nf4) << why;
  EXPECT_EQ(nf4->blockSize(), 64);
  EXPECT_DOUBLE_EQ(nf4->nominalBitsPerWeight(), 4.25);
  EXPECT_EQ(makeCodec("nf4<128>", why)->blockSize(), 128);
  EXPECT_FALSE(makeCodec("nf4<64>", why));
  EXPECT_EQ(why, "format 'nf4<64>' is spelled 'nf4'");
  EXPECT_FALSE(makeCodec("nf4<7>", why));
  EXPECT_NE(why.find("group must be even"), std::string::npos) << why;
  // Normal weights: the normal-quantile grid against evenly spaced codes
  // with the same scale per 64 (4.25 bits per weight both).
  int64_t rows = 16, cols = 512;
  auto w = randomWeights(rows * cols, 11);
  auto uniform = makeCodec("uniform<4,64,sym,f16>", why);
  std::vector<float> ones(cols, 1.0f);
  double eNF4 = weightedError(w, roundTrip(*nf4, w, rows, cols).out, ones, cols);
  double eUniform = weightedError(w, roundTrip(*uniform, w, rows, cols).out, ones, cols);
  EXPECT_LT(eNF4, 0.85 * eUniform); // 0.77 measured
}

TEST(FP4, SearchedExponentBeatsTheMaximumRule) {
  std::string why;
  auto fp4 = makeCodec("fp4", why);
  ASSERT_TRUE(fp4) << why;
  EXPECT_EQ(fp4->blockSize(), 32);
  EXPECT_DOUBLE_EQ(fp4->nominalBitsPerWeight(), 4.25);
  EXPECT_EQ(makeCodec("fp4<64>", why)->name(), "fp4<64>");
  // The same bytes per block as ggml's MXFP4, whose shared exponent comes
  // from the block maximum; fp4 searches the neighbouring exponents.
  auto mxfp4 = makeCodec("MXFP4", why);
  ASSERT_EQ(fp4->blockBytes(), mxfp4->blockBytes());
  int64_t rows = 16, cols = 512;
  auto w = randomWeights(rows * cols, 13);
  std::vector<float> ones(cols, 1.0f);
  RoundTrip rt = roundTrip(*fp4, w, rows, cols);
  double eFP4 = weightedError(w, rt.out, ones, cols);
  double eMX = weightedError(w, roundTrip(*mxfp4, w, rows, cols).out, ones, cols);
  EXPECT_LT(eFP4, 0.97 * eMX); // 0.955 measured
  // Every weight is a power of two times an e2m1 value.
  for (size_t i = 0; i < rt.out.size(); ++i) {
    float s = std::ldexp(1.0f, int(rt.bytes[i / 32 * 17]) - 127);
    float v = 2.0f * rt.out[i] / s;
    ASSERT_EQ(v, std::round(v));
    ASSERT_LE(std::fabs(v), 12.0f);
  }
}

// Scales so small that 1/d overflows (the ONNX fuzzer's tiny weights): the
// codes must not come from an infinite 1/d (undefined float-to-int, caught
// by the sanitizer build), and the block dequantizes to (near) zero.
TEST(Codecs, SubnormalBlocksQuantizeToZero) {
  std::vector<float> w(2 * 256, 1e-39f);
  w[3] = -2e-39f;
  for (const char *name : {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "IQ4_NL",
                           "IQ4_XS", "Q4_K", "Q6_K", "uniform<4,32,sym,f16>",
                           "uniform<3,32,asym,f16>"}) {
    std::string why;
    auto codec = qc::formats::makeCodec(name, why);
    ASSERT_TRUE(codec) << why;
    std::vector<uint8_t> packed(size_t(codec->packedBytes(2, 256)));
    ASSERT_EQ(codec->quantize(w.data(), 2, 256, nullptr, packed.data()), "")
        << name;
    std::vector<float> back(w.size());
    codec->dequantize(packed.data(), 2, 256, back.data());
    for (float v : back)
      ASSERT_TRUE(std::isfinite(v) && std::fabs(v) < 1e-30f) << name << " " << v;
  }
}
