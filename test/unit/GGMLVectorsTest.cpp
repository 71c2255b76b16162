//===- GGMLVectorsTest.cpp - Bit-exactness against llama.cpp --------------===//
//
// test/unit/data/ggml-vectors.bin was produced beside llama.cpp (ggml of
// ikawrakow/ik_llama.cpp 8337e4cd3): 2 x 512 fixed inputs and a per-column
// importance vector, quantized by ggml_quantize_chunk to each type without
// and with importance, and ggml's dequantization of those bytes. Layout:
// "QCTV", u32 rows, cols, entries; f32 input; f32 importance; per entry a
// 16-byte name, u32 ggml type, u32 with-importance, u32 byte count, the
// bytes, then rows x cols f32.
//
//===----------------------------------------------------------------------===//
#include "qc/Formats/GGML.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

using namespace qc::formats;

namespace {

struct Entry {
  std::string name;
  uint32_t type, withImportance;
  std::vector<uint8_t> bytes;
  std::vector<float> dequantized;
};

struct Vectors {
  uint32_t rows = 0, cols = 0;
  std::vector<float> input, importance;
  std::vector<Entry> entries;
};

Vectors load() {
  std::ifstream f(QC_TEST_DATA "/ggml-vectors.bin", std::ios::binary);
  std::vector<char> d((std::istreambuf_iterator<char>(f)), {});
  size_t at = 0;
  auto take = [&](void *dst, size_t n) {
    if (at + n > d.size())
      throw std::runtime_error("truncated test vectors");
    std::memcpy(dst, d.data() + at, n);
    at += n;
  };
  Vectors v;
  char magic[4];
  take(magic, 4);
  uint32_t count;
  take(&v.rows, 4);
  take(&v.cols, 4);
  take(&count, 4);
  size_t n = size_t(v.rows) * v.cols;
  v.input.resize(n);
  v.importance.resize(v.cols);
  take(v.input.data(), n * 4);
  take(v.importance.data(), v.cols * 4);
  for (uint32_t i = 0; i < count; ++i) {
    Entry e;
    char name[16];
    take(name, 16);
    e.name.assign(name, strnlen(name, 16));
    uint32_t bytes;
    take(&e.type, 4);
    take(&e.withImportance, 4);
    take(&bytes, 4);
    e.bytes.resize(bytes);
    take(e.bytes.data(), bytes);
    e.dequantized.resize(n);
    take(e.dequantized.data(), n * 4);
    v.entries.push_back(std::move(e));
  }
  return v;
}

} // namespace

TEST(GGMLVectors, DequantizationIsBitExact) {
  Vectors v = load();
  ASSERT_EQ(v.entries.size(), 24u);
  for (const Entry &e : v.entries) {
    auto codec = makeGGMLCodec(GGMLType(e.type));
    ASSERT_TRUE(codec) << e.name;
    ASSERT_EQ(codec->packedBytes(v.rows, v.cols), int64_t(e.bytes.size()))
        << e.name;
    std::vector<float> out(v.input.size());
    codec->dequantize(e.bytes.data(), v.rows, v.cols, out.data());
    EXPECT_EQ(0, std::memcmp(out.data(), e.dequantized.data(), out.size() * 4))
        << e.name << " (importance " << e.withImportance << ")";
  }
}

TEST(GGMLVectors, QuantizationWithoutImportanceMatchesLlamaQuantize) {
  Vectors v = load();
  int compared = 0;
  for (const Entry &e : v.entries) {
    auto info = ggmlTypeInfo(e.type);
    if (e.withImportance || !info->canQuantize)
      continue;
    auto codec = makeGGMLCodec(GGMLType(e.type));
    std::vector<uint8_t> out(e.bytes.size());
    ASSERT_EQ(codec->quantize(v.input.data(), v.rows, v.cols, nullptr,
                              out.data()),
              "");
    EXPECT_EQ(out, e.bytes) << e.name;
    ++compared;
  }
  EXPECT_EQ(compared, 12); // Q4_0..Q8_0, Q2_K..Q6_K, IQ4_NL, IQ4_XS
}

TEST(GGMLVectors, QuantizationWithImportanceMatchesLlamaQuantize) {
  // The importance-aware paths qc has ported; llama.cpp's Q4_1, Q5_1 and
  // Q2_K..Q5_K imatrix paths are not (qc uses their reference paths).
  const GGMLType ported[] = {GGMLType::Q4_0, GGMLType::Q5_0, GGMLType::Q8_0,
                             GGMLType::Q6_K, GGMLType::IQ4_NL,
                             GGMLType::IQ4_XS};
  Vectors v = load();
  int compared = 0;
  for (const Entry &e : v.entries) {
    if (!e.withImportance ||
        std::find(std::begin(ported), std::end(ported), GGMLType(e.type)) ==
            std::end(ported))
      continue;
    auto codec = makeGGMLCodec(GGMLType(e.type));
    std::vector<uint8_t> out(e.bytes.size());
    ASSERT_EQ(codec->quantize(v.input.data(), v.rows, v.cols,
                              v.importance.data(), out.data()),
              "");
    EXPECT_EQ(out, e.bytes) << e.name << " with importance";
    ++compared;
  }
  EXPECT_EQ(compared, 6);
}
