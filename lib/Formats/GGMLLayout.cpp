//===- GGMLLayout.cpp - ggml's block layouts as Layout descriptions -------===//
//
// Byte for byte ggml-common.h's block_* structs; the unit tests decode
// random blocks by these descriptions and by the codecs and compare.
//
//===----------------------------------------------------------------------===//
#include "GGMLLayout.h"
#include "KQuants.h"

namespace qc::formats {

namespace {

Layout floats(Scalar element) {
  Layout L;
  L.kind = Layout::Float;
  L.element = element;
  L.blockWeights = 1;
  L.blockBytes = scalarBytes(element);
  return L;
}

Layout blocks(int64_t weights, int64_t bytes) {
  Layout L;
  L.kind = Layout::Blocks;
  L.blockWeights = weights;
  L.blockBytes = bytes;
  return L;
}

/// 32 weights as nibbles of 16 bytes from `at`: weights 0..15 low, 16..31
/// high (block_q4_0's qs and its relatives).
void nibbleHalves(PackedInts &codes, int64_t at) {
  codes.add(4, 0, 32, [&](int64_t e) { return at + e % 16; },
            [](int64_t e) { return e < 16 ? 0 : 4; });
}

/// The fifth bit of weight e in a 32-bit little-endian qh at `at`.
void highBits32(PackedInts &codes, int64_t at) {
  codes.add(1, 4, 32, [&](int64_t e) { return at + e / 8; },
            [](int64_t e) { return int(e % 8); });
}

/// Q4_K / Q5_K: group j's 6-bit scale and minimum in the 12 bytes from
/// `at` (llama.cpp's get_scale_min_k4).
void kScales6(Layout &L, int64_t at) {
  L.subScales.add(4, 0, 8, [&](int64_t j) { return at + (j < 4 ? j : j + 4); },
                  [](int64_t) { return 0; });
  L.subScales.add(2, 4, 8, [&](int64_t j) { return at + (j < 4 ? j : j - 4); },
                  [](int64_t j) { return j < 4 ? 4 : 6; });
  L.subMins.add(4, 0, 8, [&](int64_t j) { return at + j + 4; },
                [](int64_t j) { return j < 4 ? 0 : 4; });
  L.subMins.add(2, 4, 8, [&](int64_t j) { return at + (j < 4 ? j + 4 : j); },
                [](int64_t j) { return j < 4 ? 4 : 6; });
}

/// Q2_K / Q3_K / Q6_K: weight e of a 256-block is byte e % 32 of the 32
/// bytes for its 128-half (e / 128), at bit 2 * (e % 128 / 32).
int64_t quarterByte(int64_t e) { return e / 128 * 32 + e % 32; }
int quarterShift(int64_t e) { return int(2 * (e % 128 / 32)); }

std::vector<float> iq4Values() {
  return std::vector<float>(kIQ4Values, kIQ4Values + 16);
}

} // namespace

Layout ggmlLayout(GGMLType type) {
  switch (type) {
  case GGMLType::F32: return floats(Scalar::F32);
  case GGMLType::F16: return floats(Scalar::F16);
  case GGMLType::BF16: return floats(Scalar::BF16);
  case GGMLType::Q4_0: {
    Layout L = blocks(32, 18);
    nibbleHalves(L.codes, 2);
    L.zero = 8;
    return L;
  }
  case GGMLType::Q4_1: {
    Layout L = blocks(32, 20);
    L.minOffset = 2;
    nibbleHalves(L.codes, 4);
    return L;
  }
  case GGMLType::Q5_0: {
    Layout L = blocks(32, 22);
    nibbleHalves(L.codes, 6);
    highBits32(L.codes, 2);
    L.zero = 16;
    return L;
  }
  case GGMLType::Q5_1: {
    Layout L = blocks(32, 24);
    L.minOffset = 2;
    nibbleHalves(L.codes, 8);
    highBits32(L.codes, 4);
    return L;
  }
  case GGMLType::Q8_0: {
    Layout L = blocks(32, 34);
    L.codes.add(8, 0, 32, [](int64_t e) { return 2 + e; }, [](int64_t) { return 0; });
    L.codes.flip = 0x80;
    L.zero = 128;
    return L;
  }
  case GGMLType::Q2_K: {
    // scales[16] (low nibble scale, high nibble minimum), qs[64], d, dmin.
    Layout L = blocks(256, 84);
    L.scaleOffset = 80;
    L.minOffset = 82;
    L.minSign = -1;
    L.subBlock = 16;
    L.subScales.add(4, 0, 16, [](int64_t s) { return s; }, [](int64_t) { return 0; });
    L.subMins.add(4, 0, 16, [](int64_t s) { return s; }, [](int64_t) { return 4; });
    L.codes.add(2, 0, 256, [](int64_t e) { return 16 + quarterByte(e); }, quarterShift);
    return L;
  }
  case GGMLType::Q3_K: {
    // hmask[32], qs[64], scales[12] (6-bit, minus 32), d. The high bit set
    // means the code as it is; clear, minus 4: v = low + 4 * high - 4.
    Layout L = blocks(256, 110);
    L.scaleOffset = 108;
    L.subBlock = 16;
    L.subScales.add(4, 0, 16, [](int64_t s) { return 96 + s % 8; },
                    [](int64_t s) { return s < 8 ? 0 : 4; });
    L.subScales.add(2, 4, 16, [](int64_t s) { return 104 + s % 4; },
                    [](int64_t s) { return int(2 * (s / 4)); });
    L.subScales.bias = 32;
    L.codes.add(2, 0, 256, [](int64_t e) { return 32 + quarterByte(e); }, quarterShift);
    L.codes.add(1, 2, 256, [](int64_t e) { return e % 32; },
                [](int64_t e) { return int(e / 128 * 4 + e % 128 / 32); });
    L.zero = 4;
    return L;
  }
  case GGMLType::Q4_K: {
    // d, dmin, scales[12], qs[128]: group 2p + h is nibble h of 32 bytes.
    Layout L = blocks(256, 144);
    L.minOffset = 2;
    L.minSign = -1;
    L.subBlock = 32;
    kScales6(L, 4);
    L.codes.add(4, 0, 256, [](int64_t e) { return 16 + e / 64 * 32 + e % 32; },
                [](int64_t e) { return int(4 * (e % 64 / 32)); });
    return L;
  }
  case GGMLType::Q5_K: {
    // d, dmin, scales[12], qh[32] (bit 2p + h of byte l), qs[128].
    Layout L = blocks(256, 176);
    L.minOffset = 2;
    L.minSign = -1;
    L.subBlock = 32;
    kScales6(L, 4);
    L.codes.add(4, 0, 256, [](int64_t e) { return 48 + e / 64 * 32 + e % 32; },
                [](int64_t e) { return int(4 * (e % 64 / 32)); });
    L.codes.add(1, 4, 256, [](int64_t e) { return 16 + e % 32; },
                [](int64_t e) { return int(e / 32); });
    return L;
  }
  case GGMLType::Q6_K: {
    // ql[128] (low nibbles), qh[64] (2 high bits), int8 scales[16], d.
    Layout L = blocks(256, 210);
    L.scaleOffset = 208;
    L.subBlock = 16;
    L.subScales.add(8, 0, 16, [](int64_t s) { return 192 + s; }, [](int64_t) { return 0; });
    L.subScales.flip = 0x80;
    L.subScales.bias = 128;
    L.codes.add(4, 0, 256, [](int64_t e) { return e / 128 * 64 + e % 64; },
                [](int64_t e) { return int(4 * (e % 128 / 64)); });
    L.codes.add(2, 4, 256, [](int64_t e) { return 128 + quarterByte(e); }, quarterShift);
    L.zero = 32;
    return L;
  }
  case GGMLType::IQ4_NL: {
    Layout L = blocks(32, 18);
    nibbleHalves(L.codes, 2);
    L.values = iq4Values();
    return L;
  }
  case GGMLType::IQ4_XS: {
    // d, scales_h (u16: 2 bits per group), scales_l[4] (nibbles), qs[128].
    Layout L = blocks(256, 136);
    L.subBlock = 32;
    L.subScales.add(4, 0, 8, [](int64_t s) { return 4 + s / 2; },
                    [](int64_t s) { return int(4 * (s % 2)); });
    L.subScales.add(2, 4, 8, [](int64_t s) { return 2 + s / 4; },
                    [](int64_t s) { return int(2 * (s % 4)); });
    L.subScales.bias = 32;
    L.codes.add(4, 0, 256, [](int64_t e) { return 8 + e / 32 * 16 + e % 16; },
                [](int64_t e) { return int(4 * (e % 32 / 16)); });
    L.values = iq4Values();
    return L;
  }
  case GGMLType::MXFP4: {
    // e8m0 scale, then 16 bytes of e2m1 nibbles (low: weights 0..15).
    Layout L = blocks(32, 17);
    L.scaleType = Scalar::E8M0;
    nibbleHalves(L.codes, 1);
    L.values = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
                -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};
    return L;
  }
  default:
    return Layout{};
  }
}

} // namespace qc::formats
