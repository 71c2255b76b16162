//===- Grid.cpp - Non-uniform 4-bit grids with a scale per group ----------===//
#include "qc/Formats/Grid.h"
#include "ScaleIO.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace qc::formats {

std::string checkGridParams(const GridParams &p) {
  if (p.group < 16 || p.group > 256 || p.group % 2)
    return "group must be even, in [16, 256], got " + std::to_string(p.group);
  if (p.scale != Scalar::F16 && p.scale != Scalar::E8M0)
    return "a grid's scale is f16 or e8m0";
  float top = 0;
  for (float v : p.values) {
    if (!std::isfinite(v))
      return "grid values must be finite";
    top = std::max(top, std::fabs(v));
  }
  if (top < 1.0f)
    return "the largest grid value must be at least 1 in magnitude";
  return {};
}

namespace {

class GridCodec final : public Codec {
public:
  explicit GridCodec(const GridParams &p) : p(p) {
    // Sorted values and the midpoints between them: nearest value by
    // binary search.
    for (int i = 0; i < 16; ++i)
      order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](int a, int b) { return p.values[a] < p.values[b]; });
    for (int i = 0; i + 1 < 16; ++i)
      mid[i] = 0.5f * (p.values[order[i]] + p.values[order[i + 1]]);
    for (float v : p.values)
      top = std::max(top, std::fabs(v));
  }

  std::string name() const override { return p.name; }
  int64_t blockSize() const override { return p.group; }
  int64_t blockBytes() const override { return scaleBytes() + p.group / 2; }
  Layout layout() const override {
    Layout L;
    L.kind = Layout::Blocks;
    L.blockWeights = p.group;
    L.blockBytes = blockBytes();
    L.scaleType = p.scale;
    int64_t at = scaleBytes(), half = p.group / 2;
    L.codes.add(4, 0, p.group, [&](int64_t e) { return at + e % half; },
                [&](int64_t e) { return e < half ? 0 : 4; });
    L.values.assign(p.values.begin(), p.values.end());
    return L;
  }

  std::string quantize(const float *src, int64_t rows, int64_t cols,
                       const float *importance, uint8_t *dst) const override {
    std::string why = checkRowLength(cols);
    if (!why.empty())
      return why;
    std::vector<float> w(p.group), imp(p.group);
    std::vector<uint8_t> q(p.group);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c0 = 0, b = 0; c0 < cols; c0 += p.group, ++b) {
        load(src + r * cols, cols, importance, c0, w.data(), imp.data());
        float s = fitScale(w.data(), imp.data());
        for (int i = 0; i < p.group; ++i)
          q[i] = nearest(w[i], s);
        write(s, q.data(), dst + r * rowBytes(cols) + b * blockBytes());
      }
    return {};
  }

  bool supportsGPTQ() const override { return true; }
  std::string gptqQuantizer(const float *, int64_t rows, int64_t cols,
                            uint8_t *dst, GroupQuantizer &gq) const override {
    std::string why = checkRowLength(cols);
    if (!why.empty())
      return why;
    int64_t g = p.group, groups = (cols + g - 1) / g;
    auto scale = std::make_shared<std::vector<float>>(rows * groups);
    auto codes = std::make_shared<std::vector<uint8_t>>(rows * groups * g);
    gq.group = g;
    gq.fit = [=](int64_t r, int64_t b, const float *w, const float *imp,
                       int64_t) {
      int64_t k = r * groups + b;
      (*scale)[k] = fitScale(w, imp);
      std::fill_n(codes->begin() + k * g, g, nearest(0.0f, (*scale)[k]));
    };
    gq.round = [=](int64_t r, int64_t c, float w) {
      int64_t k = r * groups + c / g;
      uint8_t q = nearest(w, (*scale)[k]);
      (*codes)[k * g + c % g] = q;
      return (*scale)[k] * p.values[q];
    };
    int64_t row = rowBytes(cols);
    gq.finish = [=] {
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t b = 0; b < groups; ++b)
          write((*scale)[r * groups + b], &(*codes)[(r * groups + b) * g],
                dst + r * row + b * blockBytes());
    };
    return {};
  }

  void dequantize(const uint8_t *src, int64_t rows, int64_t cols,
                  float *dst) const override {
    decodeByLayout(layout(), src, rows, cols, dst);
  }

private:
  int scaleBytes() const { return p.scale == Scalar::E8M0 ? 1 : 2; }

  /// Group weights from c0 (zero padded) and their importance (0 on
  /// padding, 1 without an imatrix).
  void load(const float *row, int64_t cols, const float *importance, int64_t c0,
            float *w, float *imp) const {
    for (int i = 0; i < p.group; ++i) {
      bool in = c0 + i < cols;
      w[i] = in ? row[c0 + i] : 0.0f;
      imp[i] = !in ? 0.0f : importance ? importance[c0 + i] : 1.0f;
    }
  }

  uint8_t nearest(float w, float s) const {
    float x = s != 0.0f ? w / s : 0.0f;
    return uint8_t(order[std::upper_bound(mid.begin(), mid.end(), x) - mid.begin()]);
  }

  /// The storable scale with the least weighted squared error: for f16,
  /// 41 candidates around max|w| / max|value|; for e8m0, the powers of two
  /// around it.
  float fitScale(const float *w, const float *imp) const {
    float amax = 0;
    for (int i = 0; i < p.group; ++i)
      amax = std::max(amax, std::fabs(w[i]));
    if (amax == 0.0f)
      return 0.0f;
    auto error = [&](float s) {
      double e = 0;
      for (int i = 0; i < p.group; ++i) {
        double d = w[i] - s * p.values[nearest(w[i], s)];
        e += imp[i] * d * d;
      }
      return e;
    };
    float best = 0, bestError = INFINITY;
    auto consider = [&](float s) {
      if (!(s > 0) || !std::isfinite(s))
        return;
      double e = error(s);
      if (e < bestError) {
        best = s;
        bestError = float(e);
      }
    };
    float base = amax / top;
    if (p.scale == Scalar::E8M0) {
      int e = int(std::floor(std::log2(base)));
      for (int k = e - 1; k <= e + 2; ++k)
        if (k >= -127 && k <= 128)
          consider(std::ldexp(1.0f, k));
    } else {
      for (int k = -20; k <= 20; ++k)
        consider(roundToHalf(base * (1.0f + 0.01f * float(k))));
    }
    return best;
  }

  void write(float s, const uint8_t *q, uint8_t *out) const {
    if (p.scale == Scalar::E8M0)
      out[0] = s > 0 ? uint8_t(std::clamp(int(std::lround(std::log2(s))) + 127, 0, 255)) : 0;
    else
      storeU16(out, floatToHalf(s));
    uint8_t *codes = out + scaleBytes();
    int half = p.group / 2;
    for (int i = 0; i < half; ++i)
      codes[i] = uint8_t(q[i] | q[i + half] << 4);
  }

  GridParams p;
  std::array<int, 16> order{};
  std::array<float, 15> mid{};
  float top = 0;
};

} // namespace

std::unique_ptr<Codec> makeGridCodec(const GridParams &params) {
  if (!checkGridParams(params).empty())
    return nullptr;
  return std::make_unique<GridCodec>(params);
}

std::unique_ptr<Codec> makeGridFamilyCodec(const GridParams &defaults,
                                           const std::string &params, std::string &why) {
  GridParams p = defaults;
  if (!params.empty()) // one spelling: the default group has no <>
    p.group = std::atoi(params.c_str());
  if (p.group != defaults.group)
    p.name = defaults.name + "<" + std::to_string(p.group) + ">";
  why = checkGridParams(p);
  return why.empty() ? makeGridCodec(p) : nullptr;
}

} // namespace qc::formats
