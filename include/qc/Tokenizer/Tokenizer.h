//===- Tokenizer.h - Text to token ids and back -----------------*- C++ -*-===//
#ifndef QC_TOKENIZER_TOKENIZER_H
#define QC_TOKENIZER_TOKENIZER_H

#include "qc/Model/Model.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace qc {

/// How byte-level BPE splits text into words before merging.
enum class PreTokenizer { GPT2, Llama3, Qwen2 };
/// The style of a GGUF tokenizer.ggml.pre name; throws for unknown ones.
PreTokenizer preTokenizerStyle(const std::string &name);
/// The words `text` splits into (exposed for tests).
std::vector<std::string> preTokenize(const std::string &text,
                                     PreTokenizer style);

/// llama.cpp-compatible tokenization of a model's vocabulary:
/// SentencePiece-style BPE by scores with byte fallback (llama, llama2.c),
/// byte-level BPE by merge rank (GPT-2, Llama 3, Qwen2 pre-tokenizers), and
/// WordPiece (BERT) by longest match.
class Tokenizer {
public:
  explicit Tokenizer(const model::Vocabulary &vocab);

  /// Token ids of `text`, with BOS first when `addBos` and the vocabulary
  /// has one. Characters the vocabulary lacks become byte tokens, or <unk>
  /// when it has no byte tokens either.
  std::vector<int32_t> encode(const std::string &text, bool addBos) const;
  /// The text a token stands for (spaces restored, byte tokens as bytes).
  std::string decode(int32_t id) const;
  const model::Vocabulary &vocabulary() const { return vocab; }

private:
  void encodeSentencePiece(const std::string &text,
                           std::vector<int32_t> &out) const;
  void encodeBytePair(const std::string &text, std::vector<int32_t> &out) const;
  void encodeWordPiece(const std::string &text, std::vector<int32_t> &out) const;
  int32_t find(const std::string &text) const;

  model::Vocabulary vocab;
  std::unordered_map<std::string, int32_t> ids;
  std::unordered_map<std::string, int32_t> mergeRanks; // "a b" -> rank
  PreTokenizer style = PreTokenizer::GPT2;
  size_t maxTokenLength = 0;
};

} // namespace qc

#endif // QC_TOKENIZER_TOKENIZER_H
