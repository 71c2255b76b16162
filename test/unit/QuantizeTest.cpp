//===- QuantizeTest.cpp - quantizeTensor from any stored format -----------===//
#include "qc/Analysis/Quantize.h"
#include "qc/Analysis/Sequential.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

using namespace qc;

// Quantizing a tensor stored in a format with a per-tensor header (ternary)
// reads it whole, header included: the same bytes as quantizing its values.
TEST(QuantizeTensor, SourceWithHeaderGivesTheSameBytesAsItsValues) {
  std::vector<float> w(8 * 64);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = std::sin(0.37f * float(i)) * 0.1f;
  model::Tensor f = model::Tensor::fromFloats("t", {8, 64}, w.data());
  model::Tensor ternary =
      quantizeTensor(f, "ternary<2,16,27>", QuantMethod::RTN, nullptr, nullptr);
  std::vector<float> values = ternary.toFloats();
  model::Tensor direct = quantizeTensor(
      model::Tensor::fromFloats("t", {8, 64}, values.data()), "Q8_0",
      QuantMethod::RTN, nullptr, nullptr);
  model::Tensor viaTernary =
      quantizeTensor(ternary, "Q8_0", QuantMethod::RTN, nullptr, nullptr);
  EXPECT_EQ(direct.bytes, viaTernary.bytes);
}

// Row chunks (a tensor larger than one chunk) give the bytes of one call
// on the whole tensor.
TEST(QuantizeTensor, RowChunksGiveTheBytesOfTheWholeTensor) {
  int64_t rows = 300, cols = 16384; // 4.9M weights: two chunks
  std::vector<float> w(size_t(rows * cols));
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = std::cos(0.011f * float(i % 9973)) * 0.05f;
  model::Tensor f = model::Tensor::fromFloats("t", {rows, cols}, w.data());
  model::Tensor chunked =
      quantizeTensor(f, "Q4_K", QuantMethod::RTN, nullptr, nullptr);
  auto codec = formats::makeCodec("Q4_K");
  std::vector<uint8_t> whole(size_t(codec->packedBytes(rows, cols)));
  ASSERT_EQ(codec->quantize(w.data(), rows, cols, nullptr, whole.data()), "");
  EXPECT_EQ(chunked.bytes, whole);
}

// GPTQ block by block with float inputs sees, for every product, the X^T X
// the float reference (the independent oracle) gives on the same windows:
// the BLAS block runner computes the model's forward pass. With quantized
// inputs the first block's still match, later ones move away.
TEST(Sequential, FloatInputsGiveTheReferenceXtX) {
  model::Model m = model::readModel(
      std::string(QC_SOURCE_DIR) + "/models/stories260K/stories260K.bin",
      std::string(QC_SOURCE_DIR) + "/models/stories260K/tok512.bin");
  std::string text;
  for (int i = 0; i < 12; ++i)
    text += "Once upon a time there was a little girl named Lily. She loved "
            "to play outside in the park with her dog and her ball. ";
  CalibrationOptions windows;
  windows.ctx = 48;
  windows.chunks = 3;
  windows.collectXtX = true;
  ImportanceStats reference = calibrate(m, text, windows);
  std::map<std::string, std::string> formatOf;
  for (const auto &[name, s] : reference.weights)
    formatOf[name] = "uniform<4,32,asym,f16>";
  for (bool floatInputs : {true, false}) {
    SequentialOptions o;
    o.windows = windows;
    o.floatInputs = floatInputs;
    std::map<std::string, double> relativeError;
    std::set<std::string> written;
    quantizeSequential(
        m, text, formatOf, o,
        TensorSink{[&](const std::string &name, const uint8_t *,
                       size_t) { written.insert(name); },
                   [](const std::string &) {}},
        [&](const std::string &name, const float *xtx, int64_t cols,
            int64_t rows) {
          const InputStats &r = reference.weights.at(name);
          EXPECT_EQ(rows, r.rows) << name;
          double diff = 0, norm = 0;
          for (int64_t i = 0; i < cols * cols; ++i) {
            diff += std::pow(double(xtx[i]) - r.xtx[i], 2);
            norm += r.xtx[i] * r.xtx[i];
          }
          relativeError[name] = std::sqrt(diff / norm);
        });
    EXPECT_EQ(written.size(), formatOf.size());
    ASSERT_EQ(relativeError.size(), formatOf.size());
    for (const auto &[name, e] : relativeError) {
      bool firstBlock = name.rfind("blk.0.attn_", 0) == 0 &&
                        name != "blk.0.attn_output.weight";
      if (floatInputs || firstBlock)
        EXPECT_LT(e, 1e-4) << name;
      else if (name.rfind("blk.4.", 0) == 0 || name == "token_embd.weight")
        EXPECT_GT(e, 1e-3) << name << " (quantized inputs)";
    }
  }
}
