//===- Uniform.cpp - Uniform integer codes with per-group scales ----------===//
#include "qc/Formats/Codec.h"
#include "qc/Formats/Registry.h"
#include "ScaleIO.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace qc::formats {

std::string checkUniformParams(const UniformParams &p) {
  if (p.bits < 2 || p.bits > 8)
    return "bits must be in [2, 8], got " + std::to_string(p.bits);
  if (p.group < 16 || p.group > 256 || p.group % 8 != 0)
    return "group must be a multiple of 8 in [16, 256], got " +
           std::to_string(p.group);
  return {};
}

namespace {

/// The weighted least-squares fit w ~ d * u + m, u the centred codes, from
/// its moments under a weighting H: uHu, uH1, 1H1, uHw and 1Hw.
struct ScaleFit {
  double uu = 0, u1 = 0, oo = 0, uw = 0, ow = 0;
  /// Adds the term of H_ij for codes u_i, u_j and weight w_j.
  void add(double hij, double ui, double uj, double wj) {
    uu += ui * hij * uj;
    u1 += ui * hij;
    oo += hij;
    uw += ui * hij * wj;
    ow += hij * wj;
  }
  /// d alone (m follows from d) when symmetric, else d and m.
  bool solve(bool symmetric, float &d, float &m) const {
    if (symmetric) {
      if (uu <= 0)
        return false;
      d = float(uw / uu);
      return true;
    }
    double det = uu * oo - u1 * u1;
    if (det <= 0)
      return false;
    d = float((oo * uw - u1 * ow) / det);
    m = float((uu * ow - u1 * uw) / det);
    return true;
  }
  /// The weighted squared error of w ~ d * u + (d * zero + m) from the
  /// moments, `ww` the weighted sum of w^2.
  double error(double ww, double d, double m, double zero) const {
    double c = d * zero + m;
    return ww - 2 * d * uw - 2 * c * ow + d * d * uu + 2 * d * c * u1 +
           c * c * oo;
  }
};

class UniformCodec final : public Codec {
public:
  explicit UniformCodec(const UniformParams &p) : p(p) {}

  std::string name() const override {
    return "uniform<" + std::to_string(p.bits) + "," + std::to_string(p.group) +
           "," + (p.symmetric ? "sym" : "asym") + "," + scaleTypeName(p.scale) +
           ">";
  }
  int64_t blockSize() const override { return p.group; }
  int64_t blockBytes() const override {
    return scaleBytes() + codeBytes();
  }
  Layout layout() const override {
    // [d][m if asymmetric][little-endian bit stream of codes].
    Layout L;
    L.kind = Layout::Blocks;
    L.blockWeights = p.group;
    L.blockBytes = blockBytes();
    L.scaleType = p.scale == ScaleType::F32    ? Scalar::F32
                  : p.scale == ScaleType::BF16 ? Scalar::BF16
                                               : Scalar::F16;
    int sb = scaleTypeBytes(p.scale);
    L.minOffset = p.symmetric ? -1 : sb;
    L.zero = p.symmetric ? int64_t(1) << (p.bits - 1) : 0;
    int64_t at = scaleBytes();
    L.codes.add(p.bits, 0, p.group, [&](int64_t e) { return at + e * p.bits / 8; },
                [&](int64_t e) { return int(e * p.bits % 8); });
    return L;
  }

  std::string quantize(const float *src, int64_t rows, int64_t cols,
                       const float *importance, uint8_t *dst) const override {
    std::string why = checkRowLength(cols);
    if (!why.empty())
      return why;
    std::vector<float> w(p.group), imp(p.group);
    std::vector<int> q(p.group);
    int64_t rowBytesN = rowBytes(cols);
    for (int64_t r = 0; r < rows; ++r) {
      uint8_t *out = dst + r * rowBytesN;
      for (int64_t c0 = 0; c0 < cols; c0 += p.group, out += blockBytes()) {
        int64_t n = std::min<int64_t>(p.group, cols - c0);
        for (int i = 0; i < p.group; ++i) {
          w[i] = i < n ? src[r * cols + c0 + i] : 0.0f;
          imp[i] = i >= n ? 0.0f : importance ? importance[c0 + i] : 1.0f;
        }
        float d, m;
        chooseParams(w.data(), importance ? imp.data() : nullptr, q.data(), d,
                     m);
        writeGroup(d, m, q.data(), out);
      }
    }
    return {};
  }

  void dequantize(const uint8_t *src, int64_t rows, int64_t cols,
                  float *dst) const override {
    int64_t rowBytesN = rowBytes(cols);
    int sb = scaleTypeBytes(p.scale);
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t *in = src + r * rowBytesN;
      for (int64_t c0 = 0; c0 < cols; c0 += p.group, in += blockBytes()) {
        float d = loadScale(p.scale, in);
        float m = p.symmetric ? -d * float(1 << (p.bits - 1))
                              : loadScale(p.scale, in + sb);
        const uint8_t *codes = in + scaleBytes();
        int64_t n = std::min<int64_t>(p.group, cols - c0);
        for (int64_t i = 0; i < n; ++i)
          dst[r * cols + c0 + i] = d * float(readCode(codes, i)) + m;
      }
    }
  }

  /// The group's scale d and offset m (both as stored) and its codes.
  void chooseParams(const float *w, const float *imp, int *q, float &d,
                    float &m) const;
  /// Writes scale, offset and codes of one group.
  void writeGroup(float d, float m, const int *q, uint8_t *out) const;
  /// The code of w under (d, m).
  int code(float w, float d, float m) const {
    float id = inverseScale(d);
    return int(nearestIntegral(std::clamp((w - m) * id, 0.0f, float(maxCode()))));
  }
  bool supportsGPTQ() const override { return true; }
  std::string gptqQuantizer(const float *src, int64_t rows, int64_t cols,
                            uint8_t *dst, GroupQuantizer &gq) const override;
  std::string quantizeGroupHessian(const float *src, int64_t rows,
                                   int64_t cols, const double *hessian,
                                   uint8_t *dst) const override;

private:
  int scaleBytes() const {
    return scaleTypeBytes(p.scale) * (p.symmetric ? 1 : 2);
  }
  int codeBytes() const { return (p.group * p.bits + 7) / 8; }
  int maxCode() const { return (1 << p.bits) - 1; }

  unsigned readCode(const uint8_t *codes, int64_t i) const {
    int64_t bit = i * p.bits;
    unsigned word = codes[bit / 8];
    if (bit % 8 + p.bits > 8)
      word |= unsigned(codes[bit / 8 + 1]) << 8;
    return (word >> (bit % 8)) & unsigned(maxCode());
  }

  /// Codes for scale d and offset m, and their weighted squared error.
  double assign(const float *w, const float *imp, float d, float m,
                int *q) const {
    float id = inverseScale(d);
    return imp ? codesAndError<true>(w, imp, d, m, id, q)
               : codesAndError<false>(w, imp, d, m, id, q);
  }
  /// assign's loop: eight float lanes with their own partial sums, so it
  /// vectorises (the scale search calls it ~100 times a group).
  template <bool Weighted>
  double codesAndError(const float *w, const float *imp, float d, float m,
                       float id, int *q) const {
    const float top = float(maxCode());
    float acc[8] = {};
    auto lane = [&](int i, float &sum) {
      float x = std::min(std::max((w[i] - m) * id, 0.0f), top);
      float r = nearestIntegral(x);
      q[i] = int(r);
      float e = w[i] - (d * r + m);
      sum += (Weighted ? imp[i] : 1.0f) * e * e;
    };
    int i = 0;
    for (; i + 8 <= p.group; i += 8)
      for (int j = 0; j < 8; ++j)
        lane(i + j, acc[j]);
    for (; i < p.group; ++i)
      lane(i, acc[i % 8]);
    return double(((acc[0] + acc[1]) + (acc[2] + acc[3])) +
                  ((acc[4] + acc[5]) + (acc[6] + acc[7])));
  }

  /// Codes for offset m and inverse scale id, and the moments of the fit
  /// over them that depend on the codes (uu, u1, uw; u = code - zero):
  /// one pass, in eight float lanes as codesAndError.
  ScaleFit codesAndMoments(const float *w, const float *imp, float m,
                           float id, float zero, int *q) const {
    const float top = float(maxCode());
    float uu[8] = {}, u1[8] = {}, uw[8] = {};
    auto lane = [&](int i, int j) {
      float x = std::min(std::max((w[i] - m) * id, 0.0f), top);
      float r = nearestIntegral(x);
      q[i] = int(r);
      float u = r - zero, a = imp[i] * u;
      uu[j] += a * u;
      u1[j] += a;
      uw[j] += a * w[i];
    };
    int i = 0;
    for (; i + 8 <= p.group; i += 8)
      for (int j = 0; j < 8; ++j)
        lane(i + j, j);
    for (; i < p.group; ++i)
      lane(i, i % 8);
    ScaleFit f;
    for (int j = 0; j < 8; ++j) {
      f.uu += uu[j];
      f.u1 += u1[j];
      f.uw += uw[j];
    }
    return f;
  }

  /// Least squares for w ~ d*q + m under the group's block of H.
  bool refitHessian(const float *w, const double *h, const int *q, float &d,
                    float &m) const;

  UniformParams p;
};

void UniformCodec::chooseParams(const float *w, const float *imp, int *q,
                                float &d, float &m) const {
  int half = 1 << (p.bits - 1);
  float lo = *std::min_element(w, w + p.group);
  float hi = *std::max_element(w, w + p.group);
  float ext = -lo > hi ? lo : hi;
  if (p.symmetric) {
    // As llama.cpp's Q4_0: the signed extreme maps to -2^(bits-1), so the
    // full negative range is used.
    d = roundScale(p.scale, ext / -float(half));
    m = -d * float(half);
  } else {
    d = roundScale(p.scale, (hi - lo) / float(maxCode()));
    m = roundScale(p.scale, lo);
  }
  double best = assign(w, imp, d, m, q);
  if (!imp || d == 0.0f)
    return;
  // Importance-weighted search. As llama.cpp's *_impl quantizers, a
  // weight's error counts imatrix_i * sqrt(sigma^2 + w_i^2): important
  // columns and large weights first.
  double sumSq = 0;
  for (int i = 0; i < p.group; ++i)
    sumSq += double(w[i]) * w[i];
  float sigma2 = float(2 * sumSq / p.group);
  std::vector<float> weight(p.group);
  for (int i = 0; i < p.group; ++i)
    weight[i] = imp[i] * std::sqrt(sigma2 + w[i] * w[i]);
  best = assign(w, weight.data(), d, m, q);
  // The moments that do not depend on the codes, and the weighted w^2.
  double zero = p.symmetric ? double(half) : 0.0, ww = 0, oo = 0, ow = 0;
  for (int i = 0; i < p.group; ++i) {
    oo += weight[i];
    ow += double(weight[i]) * w[i];
    ww += double(weight[i]) * w[i] * w[i];
  }
  // A candidate is one pass: its codes and their moments; the refitted,
  // stored scale's error follows from the moments (the codes kept, any
  // codes being a valid encoding).
  std::vector<int> trial(p.group);
  auto consider = [&](float td, float tm) {
    ScaleFit fit = codesAndMoments(w, weight.data(), tm, inverseScale(td),
                                   float(zero), trial.data());
    fit.oo = oo;
    fit.ow = ow;
    float fd = td, fm = tm;
    if (!fit.solve(p.symmetric, fd, fm))
      return;
    fd = roundScale(p.scale, fd);
    fm = p.symmetric ? -fd * float(half) : roundScale(p.scale, fm);
    double err = fit.error(ww, fd, fm, zero);
    if (err < best) {
      best = err;
      d = fd;
      m = fm;
      std::copy(trial.begin(), trial.end(), q);
    }
  };
  // Scales around the range fit, with the extreme at either end of the
  // code range (symmetric) or the offset moved inside the range.
  for (int step = -20; step <= 20; ++step) {
    float f = 1.0f + 0.015f * float(step);
    if (p.symmetric) {
      float a = ext / -float(half) * f, b = ext / float(half - 1) * f;
      consider(a, -a * float(half));
      if (half > 1)
        consider(b, -b * float(half));
    } else {
      for (int shift = -2; shift <= 2; ++shift) {
        float td = (hi - lo) / float(maxCode()) * f;
        consider(td, lo + 0.1f * float(shift) * td);
      }
    }
  }
  // The chosen scale's own nearest codes, where they do better.
  double rounded = assign(w, weight.data(), d, m, trial.data());
  if (rounded < best) {
    best = rounded;
    std::copy(trial.begin(), trial.end(), q);
  }
  // Coordinate descent: move single codes by one while that lowers the
  // weighted error under a refitted scale. A move changes three of the
  // least-squares sums, and the error follows from them: O(1) a trial.
  ScaleFit fit;
  for (int i = 0; i < p.group; ++i)
    fit.add(weight[i], q[i] - zero, q[i] - zero, w[i]);
  for (int pass = 0; pass < 2; ++pass)
    for (int i = 0; i < p.group; ++i)
      for (int delta : {-1, 1}) {
        int k = q[i] + delta;
        if (k < 0 || k > maxCode())
          continue;
        double a = weight[i], u = q[i] - zero, v = k - zero;
        ScaleFit t = fit;
        t.uu += a * (v * v - u * u);
        t.u1 += a * (v - u);
        t.uw += a * (v - u) * w[i];
        float fd = d, fm = m;
        if (!t.solve(p.symmetric, fd, fm))
          continue;
        fd = roundScale(p.scale, fd);
        fm = p.symmetric ? -fd * float(half) : roundScale(p.scale, fm);
        // Codes stay as chosen here (not re-rounded): the move is the point.
        double err = t.error(ww, fd, fm, zero);
        if (err < best) {
          best = err;
          d = fd;
          m = fm;
          q[i] = k;
          fit = t;
        }
      }
}

void UniformCodec::writeGroup(float d, float m, const int *q,
                              uint8_t *out) const {
  storeScale(p.scale, out, d);
  if (!p.symmetric)
    storeScale(p.scale, out + scaleTypeBytes(p.scale), m);
  uint8_t *codes = out + scaleBytes();
  std::fill(codes, codes + codeBytes(), 0);
  for (int i = 0; i < p.group; ++i) {
    int64_t bit = int64_t(i) * p.bits;
    unsigned v = unsigned(q[i]) << (bit % 8);
    codes[bit / 8] |= uint8_t(v);
    if (bit % 8 + p.bits > 8)
      codes[bit / 8 + 1] |= uint8_t(v >> 8);
  }
}

/// One group's error (w - d q - m)^T H (w - d q - m) and its moves.
struct GroupHessianFit {
  int g;
  const float *w;
  const double *h; // g x g
  std::vector<double> r, hr;

  double reset(const int *q, double d, double m) {
    r.assign(g, 0.0);
    hr.assign(g, 0.0);
    for (int i = 0; i < g; ++i)
      r[i] = double(w[i]) - (d * q[i] + m);
    double err = 0;
    for (int i = 0; i < g; ++i) {
      double s = 0;
      for (int j = 0; j < g; ++j)
        s += h[i * g + j] * r[j];
      hr[i] = s;
      err += r[i] * s;
    }
    return err;
  }
  /// Error change when code i moves by delta under scale d.
  double gain(int i, int delta, double d) const {
    double step = d * delta;
    return -2.0 * step * hr[i] + step * step * h[i * g + i];
  }
  void move(int i, int delta, double d) {
    double step = d * delta;
    r[i] -= step;
    for (int j = 0; j < g; ++j)
      hr[j] -= step * h[j * g + i];
  }
};

} // namespace

std::string UniformCodec::quantizeGroupHessian(const float *src, int64_t rows,
                                               int64_t cols,
                                               const double *hessian,
                                               uint8_t *dst) const {
  std::string why = checkRowLength(cols);
  if (!why.empty())
    return why;
  int g = p.group, half = 1 << (p.bits - 1);
  std::vector<float> w(g), imp(g);
  std::vector<double> hg(size_t(g) * g);
  std::vector<int> q(g), trial(g);
  int64_t rowBytesN = rowBytes(cols);
  GroupHessianFit fit{g, w.data(), hg.data(), {}, {}};
  for (int64_t c0 = 0; c0 < cols; c0 += g) {
    int64_t n = std::min<int64_t>(g, cols - c0);
    // Padding columns have no importance and no correlation.
    for (int i = 0; i < g; ++i) {
      for (int j = 0; j < g; ++j)
        hg[i * g + j] =
            i < n && j < n ? hessian[(c0 + i) * cols + c0 + j] : 0.0;
      imp[i] = float(hg[i * g + i]);
    }
    for (int64_t r = 0; r < rows; ++r) {
      for (int i = 0; i < g; ++i)
        w[i] = i < n ? src[r * cols + c0 + i] : 0.0f;
      float d, m;
      chooseParams(w.data(), imp.data(), q.data(), d, m);
      double best = fit.reset(q.data(), d, m);
      for (int round = 0; round < 4; ++round) {
        // Single-code moves under the full block error.
        bool moved = false;
        for (int pass = 0; pass < 3; ++pass)
          for (int i = 0; i < n; ++i)
            for (int delta : {-1, 1}) {
              int k = q[i] + delta;
              if (k < 0 || k > maxCode() || fit.gain(i, delta, d) >= -1e-12 * best)
                continue;
              fit.move(i, delta, d);
              q[i] = k;
              moved = true;
            }
        best = fit.reset(q.data(), d, m);
        // Scale (and offset) refitted under H, then rounded as stored.
        float fd = d, fm = m;
        if (!refitHessian(w.data(), hg.data(), q.data(), fd, fm))
          break;
        fd = roundScale(p.scale, fd);
        fm = p.symmetric ? -fd * float(half) : roundScale(p.scale, fm);
        double err = fit.reset(q.data(), fd, fm);
        if (err < best) {
          best = err;
          d = fd;
          m = fm;
        } else {
          fit.reset(q.data(), d, m);
          if (!moved)
            break;
        }
      }
      writeGroup(d, m, q.data(), dst + r * rowBytesN + (c0 / g) * blockBytes());
    }
  }
  return {};
}

bool UniformCodec::refitHessian(const float *w, const double *h, const int *q,
                                float &d, float &m) const {
  int g = p.group;
  double zero = p.symmetric ? double(1 << (p.bits - 1)) : 0.0;
  ScaleFit f;
  for (int i = 0; i < g; ++i)
    for (int j = 0; j < g; ++j)
      f.add(h[i * g + j], q[i] - zero, q[j] - zero, w[j]);
  return f.solve(p.symmetric, d, m);
}

std::string UniformCodec::gptqQuantizer(const float *, int64_t rows,
                                        int64_t cols, uint8_t *dst,
                                        GroupQuantizer &gq) const {
  std::string why = checkRowLength(cols);
  if (!why.empty())
    return why;
  int64_t g = p.group, groups = (cols + g - 1) / g;
  auto d = std::make_shared<std::vector<float>>(rows * groups);
  auto m = std::make_shared<std::vector<float>>(rows * groups);
  auto codes = std::make_shared<std::vector<int>>(rows * groups * g);
  gq.group = g;
  gq.fit = [=](int64_t r, int64_t b, const float *w, const float *imp,
                     int64_t) {
    int64_t k = r * groups + b;
    std::vector<int> q(g);
    chooseParams(w, imp, q.data(), (*d)[k], (*m)[k]);
    // Padding codes: whatever reconstructs 0 best.
    for (int64_t i = 0; i < g; ++i)
      (*codes)[k * g + i] = code(0.0f, (*d)[k], (*m)[k]);
  };
  gq.round = [=](int64_t r, int64_t c, float w) {
    int64_t k = r * groups + c / g;
    int q = code(w, (*d)[k], (*m)[k]);
    (*codes)[k * g + c % g] = q;
    return (*d)[k] * float(q) + (*m)[k];
  };
  int64_t row = rowBytes(cols);
  gq.finish = [=] {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t b = 0; b < groups; ++b)
        writeGroup((*d)[r * groups + b], (*m)[r * groups + b],
                   &(*codes)[(r * groups + b) * g],
                   dst + r * row + b * blockBytes());
  };
  return {};
}

namespace {
const FormatRegistration kRegisterUniform{
    {"uniform",
     "uniform<bits,group,sym|asym,f16|bf16|f32>: integer codes with a scale "
     "(and an offset) per group",
     [](const std::string &params, std::string &why) -> std::unique_ptr<Codec> {
       std::optional<FormatName> f = parseFormatName("uniform<" + params + ">");
       if (!f) {
         why = "bad uniform parameters '" + params +
               "' (bits 2..8, group a multiple of 8 in 16..256, sym|asym, "
               "f16|bf16|f32)";
         return nullptr;
       }
       return makeUniformCodec(f->uniform);
     }}};
} // namespace

std::unique_ptr<Codec> makeUniformCodec(const UniformParams &params) {
  if (!checkUniformParams(params).empty())
    return nullptr;
  return std::make_unique<UniformCodec>(params);
}

} // namespace qc::formats
