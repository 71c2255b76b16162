//===- LayoutTest.cpp - Layout descriptions against their codecs ----------===//
//
// Kernels, dequantizing IR and tests decode by a codec's Layout; these tests
// decode packed bytes by the layout alone (formats::decodeByLayout) and by
// the kernel view (cpu::BlockLayout, the way the generated code reads it)
// and compare both with the codec's own dequantization, on quantized
// weights and on random bytes (every bit pattern of codes and scales).
//
//===----------------------------------------------------------------------===//
#include "lib/Conversion/QCToCPU/BlockLayout.h"

#include "qc/Formats/Codec.h"
#include "qc/Formats/GGML.h"
#include "qc/Formats/Layout.h"
#include "qc/Formats/Registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

using namespace qc;

namespace {

/// Weight i of group `sub` of the block at `block`, decoded from the kernel
/// view only.
float decodeView(const cpu::BlockLayout &L, const uint8_t *tensor,
                 const uint8_t *block, int sub, int64_t i) {
  if (L.kind == cpu::BlockLayout::Trits) {
    auto trit = [&](int64_t t) {
      return block[t / 5] * cpu::tritDivisorMagic(int(t % 5)) >> 16 & 0xffff;
    };
    int64_t k = 0, u = 0;
    for (int t = 0, p = 1; t < L.scaleTrits; ++t, p *= 3)
      k += (trit(t) % 3) * p;
    float T;
    std::memcpy(&T, tensor, 4);
    float d = T * L.codebook[std::min<int64_t>(k, L.codebook.size() - 1)];
    for (int t = 0, p = 1; t < L.depth; ++t, p *= 3)
      u += (trit(L.scaleTrits + i * L.depth + t) % 3) * p;
    return d * float(u - L.zero);
  }
  float d = formats::readScalar(L.scale, block + L.scaleOffset);
  float m = L.hasMinimum() ? L.minSign * formats::readScalar(L.scale, block + L.minOffset)
                           : 0.0f;
  if (L.subScaled()) {
    d *= float(L.subScales.read(block, sub));
    if (!L.subMins.empty())
      m *= float(L.subMins.read(block, sub));
  }
  uint32_t u = 0;
  for (const cpu::CodePiece &p : L.codes[sub]) {
    const uint8_t *codes = block + p.offset;
    int64_t b = p.byteOf[i];
    unsigned word = codes[b] | (b + 1 < p.bytes ? codes[b + 1] << 8 : 0);
    u |= (word >> p.shift[i] & ((1u << p.bits) - 1)) << p.position;
  }
  u ^= L.flip;
  float v = L.values.empty() ? float(int64_t(u) - L.zero) : L.values[u];
  return d * v + m;
}

bool same(float got, float want) {
  if (std::isnan(want) || std::isinf(want))
    return std::isnan(got) == std::isnan(want) && std::isinf(got) == std::isinf(want);
  return std::fabs(got - want) <= 1e-5f * (1 + std::fabs(want));
}

/// Packed bytes of `format`: quantized normal weights, or random bytes.
std::vector<uint8_t> packed(const formats::Codec &codec, int64_t rows, int64_t cols,
                            bool randomBytes) {
  std::mt19937 rng(7);
  std::vector<uint8_t> out(codec.packedBytes(rows, cols));
  if (randomBytes) {
    for (uint8_t &v : out)
      v = uint8_t(rng());
    return out;
  }
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(rows * cols);
  for (float &v : w)
    v = normal(rng);
  EXPECT_EQ(codec.quantize(w.data(), rows, cols, nullptr, out.data()), "");
  return out;
}

void checkAgainstCodec(const std::string &format, int64_t rows, int64_t cols,
                       bool randomBytes = false) {
  SCOPED_TRACE(format + (randomBytes ? " (random bytes)" : ""));
  std::unique_ptr<formats::Codec> codec = formats::makeCodec(format);
  ASSERT_TRUE(codec);
  std::vector<uint8_t> bytes = packed(*codec, rows, cols, randomBytes);
  std::vector<float> ref(rows * cols), byLayout(rows * cols);
  codec->dequantize(bytes.data(), rows, cols, ref.data());
  formats::Layout F = codec->layout();
  ASSERT_EQ(F.rowBytes(cols), codec->rowBytes(cols));
  formats::decodeByLayout(F, bytes.data(), rows, cols, byLayout.data());
  std::string why;
  cpu::BlockLayout L = cpu::describeBlockLayout(format, why);
  ASSERT_EQ(why, "");
  ASSERT_EQ(L.rowBytes(cols), codec->rowBytes(cols));
  int64_t span = L.group * L.subBlocks;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      float want = ref[r * cols + c];
      ASSERT_TRUE(same(byLayout[r * cols + c], want))
          << "layout: row " << r << " col " << c << ": " << byLayout[r * cols + c]
          << " vs " << want;
      if (L.kind == cpu::BlockLayout::Float)
        continue;
      const uint8_t *block = bytes.data() + L.headerBytes + r * L.rowBytes(cols) +
                             c / span * L.blockBytes;
      float got = decodeView(L, bytes.data(), block, int(c % span / L.group), c % L.group);
      ASSERT_TRUE(same(got, want))
          << "kernel view: row " << r << " col " << c << ": " << got << " vs " << want;
    }
}

} // namespace

TEST(Layout, TritMagicIsExactForEveryByte) {
  for (int digit = 0; digit < 5; ++digit) {
    int p = 1;
    for (int i = 0; i < digit; ++i)
      p *= 3;
    for (int b = 0; b < 243; ++b)
      ASSERT_EQ(b * cpu::tritDivisorMagic(digit) >> 16, b / p) << b << " " << digit;
  }
  for (int q = 0; q < 256; ++q) // the kernels' q / 3
    ASSERT_EQ(q * 21846 >> 16, q / 3);
}

TEST(Layout, EveryRegisteredFormatMatchesItsLayout) {
  // Families that need parameters get theirs in the tests below.
  int checked = 0;
  for (const formats::FormatFamily &f : formats::formatFamilies()) {
    if (f.name == "uniform" || f.name == "ternary")
      continue;
    checkAgainstCodec(f.name, 3, 512);
    checkAgainstCodec(f.name, 2, 256, /*randomBytes=*/true);
    ++checked;
  }
  EXPECT_GE(checked, 16); // the ggml types with codecs, at least
}

TEST(Layout, UniformBitStreamsMatchTheirCodecs) {
  for (int bits : {2, 3, 4, 5, 6, 7, 8})
    for (const char *sym : {"sym", "asym"})
      for (const char *scale : {"f16", "bf16", "f32"})
        checkAgainstCodec("uniform<" + std::to_string(bits) + ",32," + sym + "," +
                              scale + ">",
                          2, 100); // a short last group
}

TEST(Layout, TernaryDigitsMatchTheirCodecs) {
  for (int depth : {1, 2, 3})
    checkAgainstCodec("ternary<" + std::to_string(depth) + ",16,27>", 2, 72);
}

TEST(Layout, E8M0IsAPowerOfTwo) {
  for (int e : {0, 1, 2, 126, 127, 128, 254}) {
    uint8_t byte = uint8_t(e);
    EXPECT_EQ(formats::readScalar(formats::Scalar::E8M0, &byte), std::ldexp(1.0f, e - 127));
  }
}

TEST(Layout, UnknownFormatsAreNamed) {
  std::string why;
  cpu::describeBlockLayout("Q9_9", why);
  EXPECT_EQ(why, "unknown format 'Q9_9'");
}
