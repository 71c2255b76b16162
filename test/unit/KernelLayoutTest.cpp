//===- KernelLayoutTest.cpp - Block layouts the kernel generator reads ----===//
//
// The generated kernels trust BlockLayout's byte offsets and bit positions;
// these tests decode packed bytes by the layout alone, the way the kernels
// do, and compare with the codec's own dequantization.
//
//===----------------------------------------------------------------------===//
#include "lib/Conversion/QCToCPU/BlockLayout.h"

#include "qc/Formats/Codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

using namespace qc;

namespace {

float half(const uint8_t *p) {
  uint16_t u;
  std::memcpy(&u, p, 2);
  _Float16 h;
  std::memcpy(&h, &u, 2);
  return float(h);
}

/// Weight i of group `sub` of the block at `block`, decoded from the layout
/// only (fields or trits; f16 scales as the tested formats use).
float decode(const cpu::BlockLayout &L, const uint8_t *tensor,
             const uint8_t *block, int sub, int64_t i) {
  const cpu::BlockLayout &S = L.sub(sub);
  float d, m = 0;
  int64_t u = 0;
  if (L.kind == cpu::BlockLayout::Trits) {
    auto trit = [&](int64_t t) {
      return block[t / 5] * cpu::tritDivisorMagic(int(t % 5)) >> 16 & 0xffff;
    };
    int64_t k = 0;
    for (int t = 0, p = 1; t < L.scaleTrits; ++t, p *= 3)
      k += (trit(t) % 3) * p;
    float T;
    std::memcpy(&T, tensor, 4);
    d = T * L.codebook[std::min<int64_t>(k, L.codebook.size() - 1)];
    for (int t = 0, p = 1; t < L.depth; ++t, p *= 3)
      u += (trit(L.scaleTrits + i * L.depth + t) % 3) * p;
  } else {
    if (L.kScales) {
      const uint8_t *q = block + 4;
      int sc, mn;
      if (sub < 4) {
        sc = q[sub] & 63;
        mn = q[sub + 4] & 63;
      } else {
        sc = (q[sub + 4] & 15) | (q[sub - 4] >> 6) << 4;
        mn = (q[sub + 4] >> 4) | (q[sub] >> 6) << 4;
      }
      d = half(block) * float(sc);
      m = -half(block + 2) * float(mn);
    } else {
      d = half(block + L.scaleOffset);
      m = L.minOffset < 0 ? 0.0f : half(block + L.minOffset);
    }
    const uint8_t *codes = block + S.codeOffset;
    int64_t b = S.byteIndex[i];
    unsigned word = codes[b] | (b + 1 < S.codeBytes ? codes[b + 1] << 8 : 0);
    if (S.signedBytes)
      word ^= 0x80;
    u = word >> S.shift[i] & ((1 << S.bits) - 1);
  }
  return d * float(u - L.zero) + m;
}

void checkAgainstCodec(const std::string &format, int64_t rows, int64_t cols) {
  std::unique_ptr<formats::Codec> codec = formats::makeCodec(format);
  ASSERT_TRUE(codec) << format;
  std::string why;
  cpu::BlockLayout L = cpu::describeBlockLayout(format, why);
  ASSERT_TRUE(why.empty()) << why;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(rows * cols), ref(rows * cols);
  for (float &v : w)
    v = normal(rng);
  std::vector<uint8_t> packed(codec->packedBytes(rows, cols));
  ASSERT_EQ(codec->quantize(w.data(), rows, cols, nullptr, packed.data()), "");
  codec->dequantize(packed.data(), rows, cols, ref.data());
  ASSERT_EQ(L.rowBytes(cols), codec->rowBytes(cols)) << format;
  int64_t span = L.group * L.subBlocks;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const uint8_t *block = packed.data() + L.headerBytes +
                             r * L.rowBytes(cols) + c / span * L.blockBytes;
      int sub = int(c % span / L.group);
      float got = decode(L, packed.data(), block, sub, c % L.group);
      ASSERT_NEAR(got, ref[r * cols + c], 1e-5f * (1 + std::fabs(ref[r * cols + c])))
          << format << " row " << r << " col " << c;
    }
}

} // namespace

TEST(KernelLayout, TritMagicIsExactForEveryByte) {
  for (int digit = 0; digit < 5; ++digit) {
    int p = 1;
    for (int i = 0; i < digit; ++i)
      p *= 3;
    for (int b = 0; b < 256; ++b)
      ASSERT_EQ(b * cpu::tritDivisorMagic(digit) >> 16, b / p) << b << " " << digit;
  }
  for (int q = 0; q < 256; ++q) // the kernels' q / 3
    ASSERT_EQ(q * 21846 >> 16, q / 3);
}

TEST(KernelLayout, GGMLBlocksMatchTheirCodecs) {
  checkAgainstCodec("Q4_0", 3, 64);
  checkAgainstCodec("Q8_0", 3, 64);
  checkAgainstCodec("Q4_K", 3, 512);
}

TEST(KernelLayout, UniformBitStreamsMatchTheirCodecs) {
  for (int bits : {2, 3, 4, 5, 6, 7, 8})
    for (const char *sym : {"sym", "asym"})
      checkAgainstCodec("uniform<" + std::to_string(bits) + ",32," + sym + ",f16>",
                        2, 100); // a short last group
}

TEST(KernelLayout, TernaryDigitsMatchTheirCodecs) {
  for (int depth : {1, 2, 3})
    checkAgainstCodec("ternary<" + std::to_string(depth) + ",16,27>", 2, 72);
}

TEST(KernelLayout, UnsupportedFormatsAreNamed) {
  std::string why;
  cpu::describeBlockLayout("Q5_K", why);
  EXPECT_EQ(why, "no CPU kernel for ggml type Q5_K yet");
  cpu::describeBlockLayout("Q9_9", why);
  EXPECT_EQ(why, "unknown format 'Q9_9'");
}
