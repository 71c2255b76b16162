//===- Ternary.cpp - Balanced ternary with a log-spaced scale codebook ----===//
#include "qc/Formats/Codec.h"
#include "qc/Formats/Registry.h"
#include "qc/Support/Parallel.h"
#include "ScaleIO.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace qc::formats {

namespace {
constexpr int kTritsPerByte = 5; // 3^5 = 243 <= 256
constexpr int kPow3[] = {1, 3, 9, 27, 81, 243};

int maxLevel(int depth) { return (kPow3[depth] - 1) / 2; }
} // namespace

std::string checkTernaryParams(const TernaryParams &p) {
  if (p.depth < 1 || p.depth > 3)
    return "depth must be 1, 2 or 3 trits per weight, got " +
           std::to_string(p.depth);
  if (p.group < 4 || p.group > 256)
    return "group must be in [4, 256], got " + std::to_string(p.group);
  bool powerOf3 = false;
  for (int v : kPow3)
    powerOf3 |= v == p.scales;
  if (!powerOf3)
    return "scales must be a power of 3 in [1, 243] (the index is stored in "
           "trits), got " +
           std::to_string(p.scales);
  return {};
}

int ternaryScaleTrits(const TernaryParams &p) {
  int t = 0;
  while (kPow3[t] < p.scales)
    ++t;
  return t;
}

float ternaryCodebookEntry(const TernaryParams &p, int k) {
  if (p.scales == 1)
    return 1.0f;
  // Log-spaced over 2^-6 .. 1: 27 entries step by 2^(6/26) ~ 1.17.
  return std::exp2(-6.0f * float(p.scales - 1 - k) / float(p.scales - 1));
}

namespace {

class TernaryCodec final : public Codec {
public:
  explicit TernaryCodec(const TernaryParams &p) : p(p) {
    for (int k = 0; k < p.scales; ++k)
      codebook.push_back(ternaryCodebookEntry(p, k));
  }

  std::string name() const override {
    return "ternary<" + std::to_string(p.depth) + "," + std::to_string(p.group) +
           "," + std::to_string(p.scales) + ">";
  }
  int64_t blockSize() const override { return p.group; }
  int64_t blockBytes() const override {
    int trits = ternaryScaleTrits(p) + p.group * p.depth;
    return (trits + kTritsPerByte - 1) / kTritsPerByte;
  }
  int64_t headerBytes() const override { return 4; } // f32 tensor scale
  Layout layout() const override {
    Layout L;
    L.kind = Layout::Trits;
    L.blockWeights = p.group;
    L.blockBytes = blockBytes();
    L.headerBytes = headerBytes();
    L.depth = p.depth;
    L.scaleTrits = ternaryScaleTrits(p);
    L.codebook = codebook;
    int64_t levels = 1;
    for (int i = 0; i < p.depth; ++i)
      levels *= 3;
    L.zero = (levels - 1) / 2;
    return L;
  }

  std::string quantize(const float *src, int64_t rows, int64_t cols,
                       const float *importance, uint8_t *dst) const override {
    std::string why = checkRowLength(cols);
    if (!why.empty())
      return why;
    float tensorScale;
    why = setTensorScale(src, rows * cols, dst, tensorScale);
    if (!why.empty())
      return why;
    int64_t row = rowBytes(cols);
    // The tensor goes whole (its header): its rows go over the cores.
    parallelRanges(rows, 16, [&](int64_t r0, int64_t r1) {
      std::vector<int> q(p.group);
      for (int64_t r = r0; r < r1; ++r) {
        uint8_t *out = dst + headerBytes() + r * row;
        for (int64_t c0 = 0; c0 < cols; c0 += p.group, out += blockBytes()) {
          int64_t n = std::min<int64_t>(p.group, cols - c0);
          int k = chooseScale(src + r * cols + c0,
                              importance ? importance + c0 : nullptr, n,
                              tensorScale, q.data());
          writeGroup(k, q.data(), out);
        }
      }
    });
    return {};
  }

  bool supportsGPTQ() const override { return true; }
  std::string gptqQuantizer(const float *src, int64_t rows, int64_t cols,
                            uint8_t *dst, GroupQuantizer &gq) const override {
    std::string why = checkRowLength(cols);
    if (!why.empty())
      return why;
    // The tensor scale comes from the weights before any error feedback.
    auto tensorScale = std::make_shared<float>();
    why = setTensorScale(src, rows * cols, dst, *tensorScale);
    if (!why.empty())
      return why;
    int64_t g = p.group, groups = (cols + g - 1) / g;
    int L = maxLevel(p.depth);
    // A byte per code and per scale index (levels and codebooks are
    // small): a whole 128k-row head is GPTQ'd at once, for its header.
    auto scaleIndex = std::make_shared<std::vector<uint8_t>>(rows * groups);
    auto codes = std::make_shared<std::vector<int8_t>>(rows * groups * g, 0);
    gq.group = g;
    gq.fit = [=](int64_t r, int64_t b, const float *w, const float *imp,
                       int64_t n) {
      std::vector<int> q(g);
      int k = chooseScale(w, imp, n, *tensorScale, q.data());
      (*scaleIndex)[r * groups + b] = uint8_t(k);
      std::copy(q.begin(), q.end(), &(*codes)[(r * groups + b) * g]);
    };
    gq.round = [=](int64_t r, int64_t c, float w) {
      float s = *tensorScale * codebook[(*scaleIndex)[r * groups + c / g]];
      int v = s > 0 ? std::clamp(int(std::nearbyint(w / s)), -L, L) : 0;
      (*codes)[(r * groups + c / g) * g + c % g] = int8_t(v);
      return s * float(v);
    };
    int64_t row = rowBytes(cols);
    gq.finish = [=] {
      std::vector<int> q(g);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t b = 0; b < groups; ++b) {
          const int8_t *group = &(*codes)[(r * groups + b) * g];
          std::copy(group, group + g, q.begin());
          writeGroup((*scaleIndex)[r * groups + b], q.data(),
                     dst + headerBytes() + r * row + b * blockBytes());
        }
    };
    return {};
  }

  void dequantize(const uint8_t *src, int64_t rows, int64_t cols,
                  float *dst) const override {
    float tensorScale = loadF32(src);
    int64_t row = rowBytes(cols);
    int L = maxLevel(p.depth);
    int scaleTrits = ternaryScaleTrits(p);
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t *in = src + headerBytes() + r * row;
      for (int64_t c0 = 0; c0 < cols; c0 += p.group, in += blockBytes()) {
        int k = 0;
        for (int t = 0; t < scaleTrits; ++t)
          k += readTrit(in, t) * kPow3[t];
        float s = tensorScale * codebook[std::min(k, p.scales - 1)];
        int64_t n = std::min<int64_t>(p.group, cols - c0);
        for (int64_t i = 0; i < n; ++i) {
          int u = 0;
          for (int t = 0; t < p.depth; ++t)
            u += readTrit(in, scaleTrits + int(i) * p.depth + t) * kPow3[t];
          dst[r * cols + c0 + i] = s * float(u - L);
        }
      }
    }
  }

private:
  /// The per-tensor scale: the largest weight maps to the top level.
  std::string setTensorScale(const float *src, int64_t n, uint8_t *dst,
                             float &tensorScale) const {
    float amax = 0;
    for (int64_t i = 0; i < n; ++i)
      amax = std::max(amax, std::fabs(src[i]));
    if (!std::isfinite(amax))
      return "tensor holds a NaN or infinite weight";
    tensorScale = amax / float(maxLevel(p.depth));
    storeF32(dst, tensorScale);
    return {};
  }

  /// The codebook index whose scale gives the least (importance-weighted)
  /// error for the group's first `n` weights; their codes go to `q`, the
  /// padding's are 0.
  int chooseScale(const float *w, const float *imp, int64_t n,
                  float tensorScale, int *q) const {
    int L = maxLevel(p.depth);
    std::vector<int> trial(p.group);
    int bestK = p.scales - 1;
    double best = -1;
    for (int k = 0; k < p.scales; ++k) {
      float s = tensorScale * codebook[k];
      double err = 0;
      for (int64_t i = 0; i < n; ++i) {
        int v = s > 0 ? int(std::nearbyint(w[i] / s)) : 0;
        trial[i] = std::clamp(v, -L, L);
        double e = double(w[i]) - double(s) * trial[i];
        err += (imp ? imp[i] : 1.0) * e * e;
      }
      if (best < 0 || err < best) {
        best = err;
        bestK = k;
        std::copy(trial.begin(), trial.begin() + n, q);
      }
    }
    std::fill(q + n, q + p.group, 0);
    return bestK;
  }

  static int readTrit(const uint8_t *group, int index) {
    return group[index / kTritsPerByte] / kPow3[index % kTritsPerByte] % 3;
  }

  void writeGroup(int k, const int *q, uint8_t *out) const {
    std::vector<int> trits;
    for (int t = 0, v = k; t < ternaryScaleTrits(p); ++t, v /= 3)
      trits.push_back(v % 3);
    int L = maxLevel(p.depth);
    // q + L written in base 3 is q's balanced-ternary digits, each plus one.
    for (int i = 0; i < p.group; ++i)
      for (int t = 0, v = q[i] + L; t < p.depth; ++t, v /= 3)
        trits.push_back(v % 3);
    std::fill(out, out + blockBytes(), 0);
    for (size_t t = 0; t < trits.size(); ++t)
      out[t / kTritsPerByte] += uint8_t(trits[t] * kPow3[t % kTritsPerByte]);
  }

  TernaryParams p;
  std::vector<float> codebook;
};

} // namespace

namespace {
const FormatRegistration kRegisterTernary{
    {"ternary",
     "ternary<depth,group,scales>: balanced trits, a log-spaced scale per group",
     [](const std::string &params, std::string &why) -> std::unique_ptr<Codec> {
       std::optional<FormatName> f = parseFormatName("ternary<" + params + ">");
       if (!f) {
         why = "bad ternary parameters '" + params +
               "' (depth 1..3, group 4..256, scales a power of 3 up to 243)";
         return nullptr;
       }
       return makeTernaryCodec(f->ternary);
     }}};
} // namespace

std::unique_ptr<Codec> makeTernaryCodec(const TernaryParams &params) {
  if (!checkTernaryParams(params).empty())
    return nullptr;
  return std::make_unique<TernaryCodec>(params);
}

} // namespace qc::formats
