//===- Quantize.cpp -------------------------------------------------------===//
#include "qc/Analysis/Quantize.h"
#include "qc/Analysis/GPTQ.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

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

namespace {

/// The codec of the format `t` is stored in.
std::unique_ptr<formats::Codec> storedCodec(const model::Tensor &t) {
  auto codec = formats::makeCodec(t.format);
  if (!codec)
    throw model::FormatError("tensor '" + t.name + "': no codec for format '" +
                             t.format + "'");
  return codec;
}

} // namespace

model::TensorSpec quantizedSpec(const model::Tensor &t,
                                const std::string &format) {
  auto codec = formats::makeCodec(format);
  if (!codec)
    throw model::FormatError("unknown format '" + format + "'");
  int64_t bytes = codec->packedBytes(t.rows(), t.cols());
  if (bytes < 0)
    throw model::FormatError("tensor '" + t.name + "' (" +
                             std::to_string(t.cols()) + " wide) cannot be " +
                             format + ": " + codec->checkRowLength(t.cols()));
  return {t.name, t.shape, codec->name(), uint64_t(bytes)};
}

void quantizeTensorInto(const model::Tensor &t, const std::string &format,
                        QuantMethod method, const float *importance,
                        const double *hessian, uint8_t *out,
                        const GPTQSolver *given) {
  auto codec = formats::makeCodec(format);
  if (!codec)
    throw model::FormatError("unknown format '" + format + "'");
  auto source = storedCodec(t);
  bool gptq = method == QuantMethod::GPTQ && (hessian || given) && codec->supportsGPTQ();
  bool groupHessian = method == QuantMethod::Imatrix && hessian && codec->supportsGPTQ();
  int64_t rows = t.rows(), cols = t.cols();
  // Rows are independent (GPTQ's too, given H, factored once) unless the
  // format has a per-tensor header: then the tensor goes whole, otherwise in
  // chunks of about 16 MiB of floats, so a 128k-row embedding never exists
  // as f32 all at once.
  std::optional<GPTQSolver> factored;
  const GPTQSolver *solver = given;
  if (gptq && !solver)
    solver = &factored.emplace(hessian, cols, GPTQOptions{});
  if (gptq && !solver->error().empty())
    throw model::FormatError("tensor '" + t.name + "' to " + format + ": " +
                             solver->error());
  int64_t cores = std::max(1u, std::thread::hardware_concurrency());
  int64_t step = rows;
  if (codec->headerBytes() == 0 && source->headerBytes() == 0) {
    step = std::max<int64_t>(1, (int64_t(4) << 20) / std::max<int64_t>(1, cols));
    // Several chunks a core, so a 4k x 4k tensor keeps every core busy.
    if (!gptq)
      step = std::min(step, std::max<int64_t>(1, (rows + 4 * cores - 1) / (4 * cores)));
  }
  int64_t inRow = source->rowBytes(cols), outRow = codec->rowBytes(cols);
  int64_t chunks = (rows + step - 1) / step;
  // Chunks are independent: the cores take them in turn.
  std::atomic<int64_t> next{0};
  std::mutex failure;
  std::string why;
  auto worker = [&] {
    std::vector<float> w;
    for (int64_t c; (c = next++) < chunks;) {
      int64_t r0 = c * step, n = std::min(step, rows - r0);
      w.resize(size_t(n * cols));
      // A chunked tensor has no header on either side; a whole one starts
      // at r0 = 0, header included.
      source->dequantize(t.data() + r0 * inRow, n, cols, w.data());
      model::releasePages(t, r0 * inRow, n * inRow);
      uint8_t *dst = out + r0 * outRow;
      std::string err =
          gptq ? solver->quantize(*codec, w.data(), n, dst)
          : groupHessian
              ? codec->quantizeGroupHessian(w.data(), n, cols, hessian, dst)
              : codec->quantize(w.data(), n, cols,
                                method == QuantMethod::RTN ? nullptr
                                                           : importance,
                                dst);
      if (!err.empty()) {
        std::lock_guard<std::mutex> lock(failure);
        why = err;
        next = chunks;
      }
    }
  };
  // GPTQ spreads each chunk over the cores itself.
  int64_t threads = std::min<int64_t>(gptq ? 1 : chunks, cores);
  std::vector<std::thread> pool;
  for (int64_t i = 1; i < threads; ++i)
    pool.emplace_back(worker);
  worker();
  for (std::thread &th : pool)
    th.join();
  if (!why.empty())
    throw model::FormatError("tensor '" + t.name + "' to " + format + ": " +
                             why);
}

model::Tensor quantizeTensor(const model::Tensor &t, const std::string &format,
                             QuantMethod method, const float *importance,
                             const double *hessian) {
  model::TensorSpec spec = quantizedSpec(t, format);
  model::Tensor out;
  out.name = t.name;
  out.shape = t.shape;
  out.format = spec.format;
  out.bytes.resize(size_t(spec.bytes));
  quantizeTensorInto(t, format, method, importance, hessian, out.bytes.data());
  return out;
}

model::Tensor sampleRows(const model::Tensor &t, int64_t weights) {
  int64_t rows = t.rows(), cols = t.cols();
  int64_t maxRows = weights > 0 ? std::max<int64_t>(1, weights / cols) : 0;
  auto source = storedCodec(t);
  if (maxRows <= 0 || rows <= maxRows || source->headerBytes() != 0) {
    std::vector<float> all = t.toFloats();
    return model::Tensor::fromFloats(t.name, {rows, cols}, all.data());
  }
  std::vector<float> w(size_t(maxRows * cols));
  int64_t rowBytes = source->rowBytes(cols);
  for (int64_t i = 0; i < maxRows; ++i) {
    // Row centres of maxRows equal strata: spread over the whole tensor.
    int64_t r = (2 * i + 1) * rows / (2 * maxRows);
    source->dequantize(t.data() + r * rowBytes, 1, cols, &w[i * cols]);
  }
  return model::Tensor::fromFloats(t.name, {maxRows, cols}, w.data());
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
