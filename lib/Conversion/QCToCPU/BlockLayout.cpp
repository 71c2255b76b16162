//===- BlockLayout.cpp - Kernel views of format layouts -------------------===//
#include "lib/Conversion/QCToCPU/BlockLayout.h"

#include <algorithm>

namespace qc::cpu {

bool CodePiece::nibbleHalves() const {
  int64_t n = int64_t(byteOf.size());
  if (bits != 4 || bytes * 2 != n)
    return false;
  for (int64_t i = 0; i < n; ++i)
    if (byteOf[i] != i % (n / 2) || shift[i] != (i < n / 2 ? 0 : 4))
      return false;
  return true;
}

int64_t BlockLayout::rowBytes(int64_t cols) const {
  if (kind == Float)
    return cols * formats::scalarBytes(element);
  int64_t span = group * subBlocks;
  return (cols + span - 1) / span * blockBytes;
}

int64_t BlockLayout::scaleLevels() const {
  int64_t levels = 1;
  for (int t = 0; t < scaleTrits; ++t)
    levels *= 3;
  return levels;
}

bool BlockLayout::singlePiece() const {
  for (const auto &g : codes)
    if (g.size() != 1)
      return false;
  return true;
}

bool BlockLayout::pairedNibbles() const {
  if (kind != Fields || !singlePiece() || subBlocks % 2 || group != 32)
    return false;
  for (int j = 0; j < subBlocks; ++j) {
    const CodePiece &p = codes[j][0];
    if (p.bits != 4 || p.bytes != 32 || p.offset != codes[j & ~1][0].offset)
      return false;
    for (int64_t i = 0; i < 32; ++i)
      if (p.byteOf[i] != i || p.shift[i] != 4 * (j % 2))
        return false;
  }
  return true;
}

bool BlockLayout::nibbleBlocks() const {
  return kind == Fields && subBlocks == 1 && group == 32 && singlePiece() &&
         codes[0][0].nibbleHalves() && codes[0][0].position == 0 && !hasMinimum() &&
         scale == formats::Scalar::F16 && values.empty() && flip == 0;
}

bool BlockLayout::intScaleSuperblocks() const {
  if (kind != Fields || !subScaled() || group * subBlocks != 256 ||
      (group != 16 && group != 32) || !values.empty() || flip != 0 ||
      scale != formats::Scalar::F16 || bits > 7)
    return false;
  bool minimums = hasMinimum() && minSign < 0 && !subMins.empty() && zero == 0;
  bool zeroPoint = !hasMinimum() && zero >= 0;
  return (minimums || zeroPoint) && (pairedNibbles() || contiguousSegments(16));
}

bool BlockLayout::contiguousSegments(int64_t segment) const {
  if (kind != Fields || group % segment && segment % group)
    return false;
  // Weight e of the block: group e / group, lane e % group.
  auto piecesOf = [&](int64_t e) -> const std::vector<CodePiece> & {
    return codes[e / group];
  };
  for (int64_t e0 = 0; e0 < group * subBlocks; e0 += segment)
    for (size_t k = 0; k < piecesOf(e0).size(); ++k) {
      const CodePiece &first = piecesOf(e0)[k];
      int64_t at = first.offset + first.byteOf[e0 % group];
      int64_t shift = first.shift[e0 % group];
      for (int64_t i = 0; i < segment; ++i) {
        const CodePiece &p = piecesOf(e0 + i)[k];
        int64_t lane = (e0 + i) % group;
        if (p.offset + p.byteOf[lane] != at + i || p.shift[lane] != shift ||
            shift + p.bits > 8)
          return false;
      }
    }
  return true;
}

BlockLayout describeBlockLayout(const std::string &format, std::string &why) {
  BlockLayout L;
  std::unique_ptr<formats::Codec> codec = formats::makeCodec(format);
  if (!codec) {
    why = "unknown format '" + format + "'";
    return L;
  }
  formats::Layout F = codec->layout();
  L.blockBytes = F.blockBytes;
  L.headerBytes = F.headerBytes;
  L.zero = F.zero;
  switch (F.kind) {
  case formats::Layout::Float:
    L.kind = BlockLayout::Float;
    L.group = 16; // one zmm of f32: row pairs x token tiles fit the registers
    L.element = F.element;
    return L;
  case formats::Layout::Trits:
    L.kind = BlockLayout::Trits;
    L.group = F.blockWeights;
    L.depth = F.depth;
    L.scaleTrits = F.scaleTrits;
    L.codebook = F.codebook;
    return L;
  case formats::Layout::Blocks:
    break;
  }
  L.kind = BlockLayout::Fields;
  L.group = F.groupWeights();
  L.subBlocks = int(F.subBlocks());
  L.scale = F.scaleType;
  L.scaleOffset = F.scaleOffset;
  L.minOffset = F.minOffset;
  L.minSign = F.minSign;
  L.subScales = F.subScales;
  L.subMins = F.subMins;
  L.bits = F.codes.bits();
  L.flip = F.codes.flip;
  L.values = F.values;
  if (L.bits > 8) {
    why = format + " codes are wider than a byte";
    return L;
  }
  // Each group's pieces with the byte window of its weights.
  for (int j = 0; j < L.subBlocks; ++j) {
    std::vector<CodePiece> pieces;
    for (const formats::BitPiece &bp : F.codes.pieces) {
      CodePiece p;
      p.bits = bp.bits;
      p.position = bp.position;
      int64_t lo = INT64_MAX, hi = 0;
      for (int64_t i = 0; i < L.group; ++i) {
        int64_t e = j * L.group + i;
        lo = std::min(lo, bp.byteOf[e]);
        hi = std::max(hi, bp.byteOf[e] + (bp.shift[e] + bp.bits > 8 ? 1 : 0));
      }
      p.offset = lo;
      p.bytes = hi - lo + 1;
      for (int64_t i = 0; i < L.group; ++i) {
        int64_t e = j * L.group + i;
        p.byteOf.push_back(bp.byteOf[e] - lo);
        p.shift.push_back(bp.shift[e]);
      }
      pieces.push_back(std::move(p));
    }
    L.codes.push_back(std::move(pieces));
  }
  return L;
}

} // namespace qc::cpu
