//===- Model.h - An imported language model (no MLIR) -----------*- C++ -*-===//
//
// What every reader produces and every consumer (IR builder, float
// reference, archive writer) takes: hyper-parameters, named tensors in their
// stored type, and the tokenizer vocabulary. Tensor names follow GGUF
// (token_embd.weight, blk.N.attn_q.weight, ...); 2-D shapes are row-major
// [out, in].
//
//===----------------------------------------------------------------------===//
#ifndef QC_MODEL_MODEL_H
#define QC_MODEL_MODEL_H

#include "qc/Formats/Codec.h"

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace qc::model {

/// A reader's complaint about its input: names the file and what was wrong.
struct FormatError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Config {
  std::string arch = "llama"; // llama | qwen2
  int64_t dim = 0, hidden = 0, layers = 0, heads = 0, kvHeads = 0;
  int64_t vocab = 0, context = 0;
  float normEps = 1e-5f;
  float ropeTheta = 10000.0f;
  float ropeFreqScale = 1.0f;
  bool ropeNeox = false; // rotate pairs (i, i + d/2) instead of (2i, 2i+1)
  bool tiedOutput = false;
  bool qkvBias = false;
  int64_t headDim() const { return heads ? dim / heads : 0; }
  int64_t kvDim() const { return kvHeads * headDim(); }
};

struct Tensor {
  std::string name;
  std::vector<int64_t> shape; // row-major, [out, in] for matrices
  /// How the bytes are stored: a codec name (formats::makeCodec).
  std::string format = "F32";
  std::vector<uint8_t> bytes;
  /// Read with mapWeights: the bytes stay in the mapped file (bytes empty).
  const uint8_t *view = nullptr;
  uint64_t viewSize = 0;
  /// `view` lies in a read-only file mapping (pages can be released).
  bool fileBacked = false;
  const uint8_t *data() const { return view ? view : bytes.data(); }
  uint64_t size() const { return view ? viewSize : bytes.size(); }

  int64_t numElements() const;
  int64_t rows() const { return numElements() / cols(); }
  int64_t cols() const { return shape.empty() ? 1 : shape.back(); }
  /// The values as f32 (dequantized when stored quantized).
  std::vector<float> toFloats() const;
  static Tensor fromFloats(std::string name, std::vector<int64_t> shape,
                           const float *data);
};

enum class TokenizerKind { SentencePiece, BytePairGPT2, WordPiece };

enum class TokenType : int32_t {
  Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6
};

struct Vocabulary {
  TokenizerKind kind = TokenizerKind::SentencePiece;
  std::string pretokenizer; // GGUF tokenizer.ggml.pre, for byte-level BPE
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<TokenType> types;
  std::vector<std::string> merges; // byte-level BPE: "a b" per line
  int32_t bos = 1, eos = 2, unk = 0;
  bool addBos = true;
  bool addSpacePrefix = true;
};

struct Model {
  std::string source; // file it came from
  Config config;
  std::map<std::string, Tensor> tensors;
  Vocabulary vocab;
  /// Metadata kept as text (GGUF key/values, config.json fields, ...).
  std::map<std::string, std::string> metadata;
  /// Keeps the mapped file alive when tensors view into it.
  std::shared_ptr<const void> mapping;

  const Tensor &tensor(const std::string &name) const;
  bool has(const std::string &name) const { return tensors.count(name) != 0; }
  /// Checks the config and that every tensor the architecture needs exists
  /// with the right shape; throws FormatError naming the first mismatch.
  void validate() const;
};

/// Reads a model by its extension / magic: .gguf, llama2.c .bin (with
/// `tokenizerPath`), or a Hugging Face directory / .safetensors file.
/// `mapWeights`: tensors of GGUF files and qc archives view the file mapped
/// read-only instead of copying it (Tensor::data()).
Model readModel(const std::string &path, const std::string &tokenizerPath = "",
                bool mapWeights = false);

Model readGGUF(const std::string &path, bool mapWeights = false);
/// The tokenizer of a GGUF file (tokenizer-only files included).
Vocabulary readGGUFVocabulary(const std::string &path);
Model readLlama2c(const std::string &path, const std::string &tokenizerPath);
Model readSafetensorsModel(const std::string &path, bool mapWeights = false);
/// A Llama or Qwen2 decoder exported by torch.onnx.export, recognised by
/// its graph's patterns (weights from initializers or external data); no
/// vocabulary (an ONNX file carries none).
Model readONNXLanguageModel(const std::string &path);
/// A Hugging Face tokenizer.json (BPE): byte-level (GPT-2, Llama 3, Qwen2
/// pre-tokenizers) or byte-fallback SentencePiece-style (Llama 2).
Vocabulary readTokenizerJson(const std::string &path, int64_t vocabSize);
/// llama2.c tokenizer.bin: int32 max length, then per token f32 score,
/// int32 length, bytes.
Vocabulary readLlama2cTokenizer(const std::string &path, int64_t vocabSize);

} // namespace qc::model

#endif // QC_MODEL_MODEL_H
