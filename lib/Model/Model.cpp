//===- Model.cpp - Tensors, validation, reader dispatch -------------------===//
#include "qc/Model/Model.h"

#include <cstring>
#include <fstream>
#include <sys/stat.h>

namespace qc::model {

int64_t Tensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::vector<float> Tensor::toFloats() const {
  std::vector<float> out(numElements());
  auto codec = formats::makeCodec(format);
  if (!codec)
    throw FormatError("tensor '" + name + "': no codec for format '" +
                      format + "'");
  codec->dequantize(data(), rows(), cols(), out.data());
  return out;
}

Tensor Tensor::fromFloats(std::string name, std::vector<int64_t> shape,
                          const float *data) {
  Tensor t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  t.format = "F32";
  t.bytes.resize(t.numElements() * sizeof(float));
  std::memcpy(t.bytes.data(), data, t.bytes.size());
  return t;
}

const Tensor &Model::tensor(const std::string &name) const {
  auto it = tensors.find(name);
  if (it == tensors.end())
    throw FormatError(source + ": missing tensor '" + name + "'");
  return it->second;
}

static std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? " x " : "") + std::to_string(shape[i]);
  return s + "]";
}

void Model::validate() const {
  const Config &c = config;
  auto bad = [&](const std::string &why) {
    throw FormatError(source + ": " + why);
  };
  if (c.dim <= 0 || c.hidden <= 0 || c.layers <= 0 || c.heads <= 0 ||
      c.kvHeads <= 0 || c.vocab <= 0)
    bad("hyper-parameters must be positive (dim " + std::to_string(c.dim) +
        ", hidden " + std::to_string(c.hidden) + ", layers " +
        std::to_string(c.layers) + ", heads " + std::to_string(c.heads) +
        ", kv heads " + std::to_string(c.kvHeads) + ", vocab " +
        std::to_string(c.vocab) + ")");
  if (c.dim % c.heads != 0)
    bad("dim " + std::to_string(c.dim) + " is not a multiple of heads " +
        std::to_string(c.heads));
  if (c.heads % c.kvHeads != 0)
    bad("heads " + std::to_string(c.heads) +
        " is not a multiple of kv heads " + std::to_string(c.kvHeads));
  if (c.headDim() % 2 != 0)
    bad("head dimension " + std::to_string(c.headDim()) + " must be even");
  if (c.layers > 100000 || c.dim > (1 << 20) || c.hidden > (1 << 22))
    bad("hyper-parameters are implausibly large");
  if (!vocab.tokens.empty() && int64_t(vocab.tokens.size()) != c.vocab)
    bad("tokenizer has " + std::to_string(vocab.tokens.size()) +
        " tokens, the model's vocabulary is " + std::to_string(c.vocab));
  auto expect = [&](const std::string &name, std::vector<int64_t> shape) {
    auto it = tensors.find(name);
    if (it == tensors.end())
      bad("missing tensor '" + name + "'");
    if (it->second.shape != shape)
      bad("tensor '" + name + "' has shape " + shapeText(it->second.shape) +
          ", expected " + shapeText(shape));
  };
  expect("token_embd.weight", {c.vocab, c.dim});
  expect("output_norm.weight", {c.dim});
  if (!c.tiedOutput)
    expect("output.weight", {c.vocab, c.dim});
  for (int64_t l = 0; l < c.layers; ++l) {
    std::string p = "blk." + std::to_string(l) + ".";
    expect(p + "attn_norm.weight", {c.dim});
    expect(p + "attn_q.weight", {c.dim, c.dim});
    expect(p + "attn_k.weight", {c.kvDim(), c.dim});
    expect(p + "attn_v.weight", {c.kvDim(), c.dim});
    expect(p + "attn_output.weight", {c.dim, c.dim});
    expect(p + "ffn_norm.weight", {c.dim});
    expect(p + "ffn_gate.weight", {c.hidden, c.dim});
    expect(p + "ffn_up.weight", {c.hidden, c.dim});
    expect(p + "ffn_down.weight", {c.dim, c.hidden});
    if (c.qkvBias) {
      expect(p + "attn_q.bias", {c.dim});
      expect(p + "attn_k.bias", {c.kvDim()});
      expect(p + "attn_v.bias", {c.kvDim()});
    }
  }
}

static bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

static bool isGGUF(const std::string &path) {
  char magic[4] = {};
  std::ifstream(path, std::ios::binary).read(magic, 4);
  return std::memcmp(magic, "GGUF", 4) == 0 || endsWith(path, ".gguf");
}

/// A model read from a file that carries its own vocabulary (or none).
static Model readSelfContained(const std::string &path, bool isDir,
                               bool mapWeights) {
  if (isDir || endsWith(path, ".safetensors") || endsWith(path, ".json"))
    return readSafetensorsModel(path, mapWeights);
  return readGGUF(path, mapWeights);
}

/// A qc module's weights archive: its `qc.weights` attribute (on the
/// module's first line, as quant-opt and quant-import print it), relative to
/// the module's directory.
static std::string moduleArchive(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  std::string head(1 << 20, '\0');
  f.read(head.data(), std::streamsize(head.size()));
  head.resize(size_t(f.gcount()));
  head = head.substr(0, head.find('\n'));
  const std::string key = "qc.weights = \"";
  size_t at = head.find(key), end = std::string::npos;
  if (at != std::string::npos)
    end = head.find('"', at + key.size());
  if (end == std::string::npos)
    throw FormatError(path + ": a module without a qc.weights attribute on its "
                             "first line (which archive holds its weights?)");
  std::string archive = head.substr(at + key.size(), end - at - key.size());
  if (archive.empty() || archive[0] == '/')
    return archive;
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? archive : path.substr(0, slash + 1) + archive;
}

/// `m` with the vocabulary of `tokenizerPath`: a GGUF file, a Hugging Face
/// tokenizer.json or a llama2.c tokenizer.bin; empty: the tokenizer.json
/// beside `path`, which must exist when the model has no vocabulary.
static Model withTokenizer(Model m, const std::string &path,
                           std::string tokenizerPath) {
  if (tokenizerPath.empty()) {
    size_t slash = path.rfind('/');
    tokenizerPath = (slash == std::string::npos ? std::string(".")
                                                : path.substr(0, slash)) +
                    "/tokenizer.json";
    struct stat st;
    if (::stat(tokenizerPath.c_str(), &st) != 0)
      throw FormatError(path + ": carries no tokenizer and no tokenizer.json "
                               "sits beside it; give one (--tokenizer: a "
                               "tokenizer.json, a llama2.c tokenizer.bin or a "
                               "GGUF file)");
  }
  m.vocab = isGGUF(tokenizerPath) ? readGGUFVocabulary(tokenizerPath)
            : endsWith(tokenizerPath, ".json")
                ? readTokenizerJson(tokenizerPath, m.config.vocab)
                : readLlama2cTokenizer(tokenizerPath, m.config.vocab);
  m.validate();
  return m;
}

Model readModel(const std::string &path, const std::string &tokenizerPath,
                bool mapWeights) {
  if (endsWith(path, ".mlir"))
    return readModel(moduleArchive(path), tokenizerPath, mapWeights);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw FormatError(path + ": no such file or directory");
  bool isDir = S_ISDIR(st.st_mode);
  if (!isDir && endsWith(path, ".onnx"))
    return withTokenizer(readONNXLanguageModel(path), path, tokenizerPath);
  if (!isDir && !isGGUF(path) && !endsWith(path, ".safetensors") &&
      !endsWith(path, ".json")) {
    if (tokenizerPath.empty())
      throw FormatError(path + ": not GGUF, safetensors or a Hugging Face "
                               "directory; a llama2.c checkpoint needs its "
                               "tokenizer.bin (--tokenizer)");
    return readLlama2c(path, tokenizerPath);
  }
  Model m = readSelfContained(path, isDir, mapWeights);
  if (!tokenizerPath.empty()) // replaces the file's own vocabulary
    m = withTokenizer(std::move(m), path, tokenizerPath);
  return m;
}

} // namespace qc::model
