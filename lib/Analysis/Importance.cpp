//===- Importance.cpp - Calibration and imatrix files ---------------------===//
#include "qc/Analysis/Importance.h"
#include "../Import/GGUFFile.h"
#include "../Import/MappedFile.h"
#include "qc/Export/GGUFWriter.h"
#include "qc/Model/Archive.h"
#include "qc/Reference/Reference.h"
#include "qc/Support/Memory.h"
#include "qc/Support/Progress.h"
#include "qc/Tokenizer/Tokenizer.h"

#include <algorithm>
#include <cmath>

namespace qc {

std::vector<float> InputStats::importance() const {
  std::vector<float> out(sumSquares.size());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = rows > 0 ? float(sumSquares[i] / double(rows)) : 0.0f;
  return out;
}

void ImportanceStats::checkAgainst(const model::Model &m) const {
  for (const auto &[name, s] : weights) {
    if (!m.has(name))
      throw model::FormatError("importance statistics name '" + name +
                               "', which " + m.source + " does not have");
    int64_t cols = m.tensor(name).cols();
    if (int64_t(s.sumSquares.size()) != cols)
      throw model::FormatError("importance statistics for '" + name +
                               "' have " + std::to_string(s.sumSquares.size()) +
                               " columns, the weight in " + m.source + " has " +
                               std::to_string(cols) +
                               " (statistics of another model?)");
  }
}

std::vector<std::vector<int32_t>>
calibrationWindows(const model::Model &m, const std::string &text,
                   const CalibrationOptions &o) {
  Tokenizer tok(m.vocab);
  std::vector<int32_t> tokens = tok.encode(text, m.vocab.addBos);
  int64_t windows = o.ctx > 0 ? int64_t(tokens.size()) / o.ctx : 0;
  if (o.chunks > 0)
    windows = std::min(windows, o.chunks);
  if (windows == 0)
    throw model::FormatError("calibration text has " +
                             std::to_string(tokens.size()) +
                             " tokens, fewer than one window of " +
                             std::to_string(o.ctx));
  std::vector<std::vector<int32_t>> out;
  for (int64_t w = 0; w < windows; ++w) {
    out.emplace_back(tokens.begin() + w * o.ctx,
                     tokens.begin() + (w + 1) * o.ctx);
    if (m.vocab.addBos && m.vocab.bos >= 0)
      out.back()[0] = m.vocab.bos;
  }
  return out;
}

ImportanceStats calibrate(const model::Model &m, const std::string &text,
                          const CalibrationOptions &o, const WindowRunner &run) {
  std::vector<std::vector<int32_t>> windowTokens =
      calibrationWindows(m, text, o);
  int64_t windows = int64_t(windowTokens.size());
  if (o.collectXtX) {
    // Every product's X^T X in f64 at once: n^2 per weight.
    double bytes = 0;
    for (const auto &[name, t] : m.tensors)
      if (t.shape.size() == 2 &&
          (name != "token_embd.weight" || m.config.tiedOutput))
        bytes += 8.0 * double(t.cols()) * double(t.cols());
    requireMemory(bytes, "X^T X of every weight (xtx=true)",
                  "GPTQ block by block (qc-quantize method=gptq calib=) "
                  "holds one block's at a time");
  }
  ImportanceStats stats;
  stats.chunks = windows;
  InputObserver observe = [&](const std::string &name, const float *x,
                              int64_t rows, int64_t cols) {
    InputStats &s = stats.weights[name];
    if (s.sumSquares.empty()) {
      s.sumSquares.assign(cols, 0.0);
      if (o.collectXtX)
        s.xtx.assign(cols * cols, 0.0);
    }
    for (int64_t r = 0; r < rows; ++r) {
      const float *row = x + r * cols;
      for (int64_t c = 0; c < cols; ++c)
        s.sumSquares[c] += double(row[c]) * row[c];
      if (o.collectXtX)
        for (int64_t i = 0; i < cols; ++i)
          for (int64_t j = 0; j <= i; ++j)
            s.xtx[i * cols + j] += double(row[i]) * row[j];
    }
    s.rows += rows;
    s.calls += 1;
  };
  Progress progress("calibrate", double(windows));
  for (int64_t w = 0; w < windows; ++w) {
    progress.update(double(w), "window " + std::to_string(w + 1) + "/" +
                                   std::to_string(windows));
    run(windowTokens[w].data(), o.ctx, observe);
  }
  progress.update(double(windows), "done");
  if (o.collectXtX) // mirror the lower triangle
    for (auto &[name, s] : stats.weights) {
      int64_t n = int64_t(s.sumSquares.size());
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = i + 1; j < n; ++j)
          s.xtx[i * n + j] = s.xtx[j * n + i];
    }
  return stats;
}

ImportanceStats calibrate(const model::Model &m, const std::string &text,
                          const CalibrationOptions &o) {
  FloatModel fm(m, o.ctx); // a window from position 0
  return calibrate(m, text, o,
                   [&](const int32_t *tokens, int64_t count,
                       const InputObserver &observer) {
                     fm.setInputObserver(observer);
                     fm.forward(tokens, count, 0, nullptr);
                   });
}

namespace {

template <typename T> void put(std::string &out, T v) {
  out.append(reinterpret_cast<const char *>(&v), sizeof v);
}

void writeDat(const ImportanceStats &stats, const std::string &path) {
  std::string out;
  put<int32_t>(out, int32_t(stats.weights.size()));
  for (const auto &[name, s] : stats.weights) {
    put<int32_t>(out, int32_t(name.size()));
    out += name;
    put<int32_t>(out, int32_t(s.calls));
    put<int32_t>(out, int32_t(s.sumSquares.size()));
    // llama.cpp stores the mean times the call count; readers divide.
    for (float v : s.importance())
      put<float>(out, v * float(s.calls));
  }
  put<int32_t>(out, int32_t(stats.chunks));
  put<int32_t>(out, int32_t(stats.dataset.size()));
  out += stats.dataset;
  model::writeFileAtomically(path, out);
}

ImportanceStats readDat(const std::string &path) {
  model::MappedFile file(path);
  model::Cursor in(file);
  ImportanceStats stats;
  int32_t entries = in.read<int32_t>("entry count");
  if (entries < 1 || uint64_t(entries) > file.size() / 12)
    in.fail("entry count " + std::to_string(entries) +
                " is not in [1, what the file can hold]",
            0);
  for (int32_t e = 0; e < entries; ++e) {
    int32_t len = in.read<int32_t>("name length");
    if (len < 1 || len > 4096)
      in.fail("name length " + std::to_string(len) + " is not in [1, 4096]");
    std::string name = in.string(uint64_t(len), "name");
    int32_t calls = in.read<int32_t>("call count");
    int32_t values = in.read<int32_t>("value count");
    if (values < 1 || uint64_t(values) > (file.size() - in.offset()) / 4)
      in.fail("entry '" + name + "' value count " + std::to_string(values) +
              " exceeds the file");
    InputStats &s = stats.weights[name];
    s.calls = calls > 0 ? calls : 1;
    s.rows = 1; // values hold means after the division below
    const uint8_t *p = in.take(uint64_t(values) * 4, "values");
    for (int32_t i = 0; i < values; ++i) {
      float v;
      std::memcpy(&v, p + 4 * i, 4);
      if (!std::isfinite(v) || v < 0)
        in.fail("entry '" + name + "' holds a negative or non-finite value");
      s.sumSquares.push_back(calls > 0 ? double(v) / calls : double(v));
    }
  }
  if (!in.atEnd()) {
    stats.chunks = in.read<int32_t>("chunk count");
    int32_t len = in.read<int32_t>("dataset name length");
    if (len < 0 || len > 65536)
      in.fail("dataset name length " + std::to_string(len) + " out of range");
    stats.dataset = in.string(uint64_t(len), "dataset name");
  }
  return stats;
}

ImportanceStats readGGUFImatrix(const std::string &path) {
  model::MappedFile file(path);
  model::GGUFFile g = model::parseGGUF(file);
  ImportanceStats stats;
  std::map<std::string, const model::GGUFTensorInfo *> byName;
  for (const auto &t : g.tensors)
    byName[t.name] = &t;
  auto floatsOf = [&](const model::GGUFTensorInfo &t) {
    if (t.type != formats::GGMLType::F32)
      throw model::FormatError(path + ": imatrix tensor '" + t.name +
                               "' must be F32");
    std::vector<float> v(t.size / 4);
    std::memcpy(v.data(), file.data() + t.offset, t.size);
    return v;
  };
  const std::string suffix = ".in_sum2";
  for (const auto &t : g.tensors) {
    if (t.name.size() <= suffix.size() ||
        t.name.compare(t.name.size() - suffix.size(), suffix.size(), suffix))
      continue;
    std::string name = t.name.substr(0, t.name.size() - suffix.size());
    auto counts = byName.find(name + ".counts");
    if (counts == byName.end())
      throw model::FormatError(path + ": '" + t.name + "' has no '" + name +
                               ".counts'");
    std::vector<float> sums = floatsOf(t), n = floatsOf(*counts->second);
    if (n.empty() || !(n[0] > 0))
      continue; // never exercised
    InputStats &s = stats.weights[name];
    s.rows = int64_t(n[0]);
    s.calls = int64_t(n[0]);
    s.sumSquares.assign(sums.begin(), sums.end());
  }
  if (stats.weights.empty())
    throw model::FormatError(path + ": no <name>.in_sum2 tensors: not an "
                                    "imatrix file");
  return stats;
}

} // namespace

/// llama.cpp's GGUF imatrix: <name>.in_sum2 (sum of x^2 per column) and
/// <name>.counts (rows seen) per weight.
void writeGGUFImatrix(const ImportanceStats &stats, const std::string &path) {
  GGUFBuilder g;
  g.text("general.type", "imatrix");
  g.strings("imatrix.datasets", {stats.dataset});
  g.u32("imatrix.chunk_count", uint32_t(stats.chunks));
  for (const auto &[name, s] : stats.weights) {
    std::vector<float> sums(s.sumSquares.begin(), s.sumSquares.end());
    float count = float(s.rows);
    g.tensor(name + ".in_sum2", {int64_t(sums.size())}, 0,
             reinterpret_cast<const uint8_t *>(sums.data()), sums.size() * 4);
    g.tensor(name + ".counts", {1}, 0,
             reinterpret_cast<const uint8_t *>(&count), 4);
  }
  g.write(path);
}

void writeImatrix(const ImportanceStats &stats, const std::string &path) {
  if (path.size() > 5 && path.compare(path.size() - 5, 5, ".gguf") == 0)
    writeGGUFImatrix(stats, path);
  else
    writeDat(stats, path);
}

ImportanceStats readImatrix(const std::string &path) {
  model::MappedFile probe(path);
  if (probe.size() >= 4 && std::memcmp(probe.data(), "GGUF", 4) == 0)
    return readGGUFImatrix(path);
  return readDat(path);
}

void writeXtX(const ImportanceStats &stats, const std::string &path) {
  std::string out;
  uint32_t count = 0;
  for (const auto &[name, s] : stats.weights)
    count += !s.xtx.empty();
  put<uint32_t>(out, count);
  for (const auto &[name, s] : stats.weights) {
    if (s.xtx.empty())
      continue;
    put<uint32_t>(out, uint32_t(name.size()));
    out += name;
    put<uint32_t>(out, uint32_t(s.sumSquares.size()));
    put<uint64_t>(out, uint64_t(s.rows));
    out.append(reinterpret_cast<const char *>(s.xtx.data()),
               s.xtx.size() * sizeof(double));
  }
  model::writeFileAtomically(path, out);
}

void readXtX(ImportanceStats &stats, const std::string &path) {
  model::MappedFile file(path);
  model::Cursor in(file);
  uint32_t count = in.read<uint32_t>("entry count");
  for (uint32_t e = 0; e < count; ++e) {
    uint32_t len = in.read<uint32_t>("name length");
    if (len == 0 || len > 4096)
      in.fail("name length out of range");
    std::string name = in.string(len, "name");
    uint32_t cols = in.read<uint32_t>("columns");
    uint64_t rows = in.read<uint64_t>("rows");
    uint64_t bytes = uint64_t(model::checkedMul(cols, cols, path)) * 8;
    const uint8_t *p = in.take(bytes, "X^T X");
    InputStats &s = stats.weights[name];
    if (!s.sumSquares.empty() && s.sumSquares.size() != cols)
      in.fail("X^T X of '" + name + "' has " + std::to_string(cols) +
              " columns, the imatrix " + std::to_string(s.sumSquares.size()));
    s.xtx.resize(size_t(cols) * cols);
    std::memcpy(s.xtx.data(), p, bytes);
    if (s.sumSquares.empty()) { // diagonal gives the imatrix too
      s.rows = int64_t(rows);
      for (uint32_t i = 0; i < cols; ++i)
        s.sumSquares.push_back(s.xtx[size_t(i) * cols + i]);
    }
  }
}

} // namespace qc
