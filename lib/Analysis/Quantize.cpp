//===- Quantize.cpp -------------------------------------------------------===//
#include "qc/Analysis/Quantize.h"

namespace qc {

bool parseQuantMethod(const std::string &text, QuantMethod &method) {
  if (text == "rtn")
    method = QuantMethod::RTN;
  else if (text == "imatrix")
    method = QuantMethod::Imatrix;
  else if (text == "gptq")
    method = QuantMethod::GPTQ;
  else
    return false;
  return true;
}

model::Tensor quantizeTensor(const model::Tensor &t, const std::string &format,
                             QuantMethod method, const float *importance,
                             const double *hessian) {
  auto parsed = formats::parseFormatName(format);
  auto codec = formats::makeCodec(format);
  if (!parsed || !codec)
    throw model::FormatError("unknown format '" + format + "'");
  std::vector<float> w = t.toFloats();
  model::Tensor out;
  out.name = t.name;
  out.shape = t.shape;
  out.format = codec->name();
  int64_t bytes = codec->packedBytes(t.rows(), t.cols());
  if (bytes < 0)
    throw model::FormatError("tensor '" + t.name + "' (" +
                             std::to_string(t.cols()) + " wide) cannot be " +
                             format + ": " + codec->checkRowLength(t.cols()));
  out.bytes.resize(size_t(bytes));
  std::string why;
  if (method == QuantMethod::GPTQ && hessian &&
      parsed->kind != formats::FormatName::GGML)
    why = codec->quantizeGPTQ(w.data(), t.rows(), t.cols(), hessian, {},
                              out.bytes.data());
  else if (method == QuantMethod::Imatrix && hessian &&
           parsed->kind != formats::FormatName::GGML)
    why = codec->quantizeGroupHessian(w.data(), t.rows(), t.cols(), hessian,
                                      out.bytes.data());
  else
    why = codec->quantize(w.data(), t.rows(), t.cols(),
                          method == QuantMethod::RTN ? nullptr : importance,
                          out.bytes.data());
  if (!why.empty())
    throw model::FormatError("tensor '" + t.name + "' to " + format + ": " +
                             why);
  return out;
}

double weightedError(const std::vector<float> &w, int64_t rows, int64_t cols,
                     const std::string &format, const float *importance) {
  auto codec = formats::makeCodec(format);
  if (!codec || codec->packedBytes(rows, cols) < 0)
    return -1;
  std::vector<uint8_t> bytes(size_t(codec->packedBytes(rows, cols)));
  if (!codec->quantize(w.data(), rows, cols, importance, bytes.data()).empty())
    return -1;
  std::vector<float> q(w.size());
  codec->dequantize(bytes.data(), rows, cols, q.data());
  double err = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      double e = double(w[r * cols + c]) - q[r * cols + c];
      err += (importance ? importance[c] : 1.0) * e * e;
    }
  return err;
}

} // namespace qc
