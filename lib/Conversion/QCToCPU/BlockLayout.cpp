//===- BlockLayout.cpp - Byte layouts of the formats kernels read ---------===//
#include "lib/Conversion/QCToCPU/BlockLayout.h"

namespace qc::cpu {

namespace {

BlockLayout::Scalar scalarOf(formats::ScaleType t) {
  switch (t) {
  case formats::ScaleType::F16: return BlockLayout::F16;
  case formats::ScaleType::BF16: return BlockLayout::BF16;
  case formats::ScaleType::F32: return BlockLayout::F32;
  }
  return BlockLayout::F32;
}

int scalarBytes(BlockLayout::Scalar s) { return s == BlockLayout::F32 ? 4 : 2; }

/// Little-endian bit stream: weight i at bit i * bits of the code bytes.
void bitStream(BlockLayout &L) {
  for (int64_t i = 0; i < L.group; ++i) {
    L.byteIndex.push_back(i * L.bits / 8);
    L.shift.push_back(i * L.bits % 8);
  }
  L.codeBytes = (L.group * L.bits + 7) / 8;
}

} // namespace

int64_t BlockLayout::rowBytes(int64_t cols) const {
  if (kind == Float)
    return cols * (element == F32 ? 4 : 2);
  int64_t span = group * subBlocks;
  return (cols + span - 1) / span * blockBytes;
}

int64_t BlockLayout::scaleLevels() const {
  int64_t levels = 1;
  for (int t = 0; t < scaleTrits; ++t)
    levels *= 3;
  return levels;
}

bool BlockLayout::needsHighByte() const {
  for (int64_t s : shift)
    if (s + bits > 8)
      return true;
  return false;
}

int64_t tritDivisorMagic(int digit) {
  int64_t p = 1;
  for (int i = 0; i < digit; ++i)
    p *= 3;
  return (65536 + p - 1) / p;
}

BlockLayout describeBlockLayout(const std::string &format, std::string &why) {
  BlockLayout L;
  std::optional<formats::FormatName> f = formats::parseFormatName(format);
  if (!f) {
    why = "unknown format '" + format + "'";
    return L;
  }
  switch (f->kind) {
  case formats::FormatName::GGML:
    if (f->ggml == "F32" || f->ggml == "F16" || f->ggml == "BF16") {
      L.kind = BlockLayout::Float;
      L.group = 16; // one zmm of f32: row pairs x token tiles fit the registers
      L.element = f->ggml == "F32"   ? BlockLayout::F32
                  : f->ggml == "F16" ? BlockLayout::F16
                                     : BlockLayout::BF16;
      return L;
    }
    L.kind = BlockLayout::Fields;
    L.scale = BlockLayout::F16;
    L.codeOffset = 2;
    if (f->ggml == "Q8_0") {
      L.blockBytes = 34;
      L.bits = 8;
      L.signedBytes = true;
      L.zero = 128;
      bitStream(L);
      return L;
    }
    if (f->ggml == "Q4_0") {
      // Low nibbles hold weights 0-15, high nibbles 16-31.
      L.blockBytes = 18;
      L.bits = 4;
      L.zero = 8;
      L.codeBytes = 16;
      for (int64_t i = 0; i < 32; ++i) {
        L.byteIndex.push_back(i % 16);
        L.shift.push_back(i < 16 ? 0 : 4);
      }
      return L;
    }
    if (f->ggml == "Q4_K") {
      // 256 weights: d, dmin (f16), 12 bytes of 6-bit scales and minimums,
      // 128 bytes of nibbles; group j reads the low (even j) or high (odd j)
      // nibbles of bytes 32 * (j / 2) .. + 31.
      L.blockBytes = 144;
      L.bits = 4;
      L.subBlocks = 8;
      L.kScales = true;
      L.minOffset = 2;
      for (int j = 0; j < 8; ++j) {
        BlockLayout s = L;
        s.subBlocks = 1;
        s.codeOffset = 16 + 32 * (j / 2);
        s.codeBytes = 32;
        for (int64_t i = 0; i < 32; ++i) {
          s.byteIndex.push_back(i);
          s.shift.push_back(4 * (j % 2));
        }
        L.subs.push_back(s);
      }
      return L;
    }
    why = "no CPU kernel for ggml type " + f->ggml + " yet";
    return L;
  case formats::FormatName::Uniform: {
    const formats::UniformParams &p = f->uniform;
    L.kind = BlockLayout::Fields;
    L.group = p.group;
    L.bits = p.bits;
    L.scale = scalarOf(p.scale);
    int sb = scalarBytes(L.scale);
    L.scaleOffset = 0;
    L.minOffset = p.symmetric ? -1 : sb;
    L.codeOffset = p.symmetric ? sb : 2 * sb;
    L.zero = p.symmetric ? int64_t(1) << (p.bits - 1) : 0;
    bitStream(L);
    L.blockBytes = L.codeOffset + L.codeBytes;
    return L;
  }
  case formats::FormatName::Ternary: {
    const formats::TernaryParams &p = f->ternary;
    std::unique_ptr<formats::Codec> codec = formats::makeCodec(format);
    L.kind = BlockLayout::Trits;
    L.group = p.group;
    L.depth = p.depth;
    L.scaleTrits = formats::ternaryScaleTrits(p);
    L.blockBytes = codec->blockBytes();
    L.headerBytes = codec->headerBytes();
    int64_t levels = 1;
    for (int i = 0; i < p.depth; ++i)
      levels *= 3;
    L.zero = (levels - 1) / 2;
    for (int k = 0; k < p.scales; ++k)
      L.codebook.push_back(formats::ternaryCodebookEntry(p, k));
    return L;
  }
  }
  why = "unknown format '" + format + "'";
  return L;
}

} // namespace qc::cpu
