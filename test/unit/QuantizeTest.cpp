//===- QuantizeTest.cpp - quantizeTensor from any stored format -----------===//
#include "qc/Analysis/Quantize.h"

#include <gtest/gtest.h>

#include <cmath>

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
