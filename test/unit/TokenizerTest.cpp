//===- TokenizerTest.cpp - Tokenizers against llama.cpp's ground truth ----===//
//
// Needs ../shared/models/tokenizers (GGUF vocabularies with .inp texts and
// .out token ids from llama.cpp); skipped when it is absent.
//
//===----------------------------------------------------------------------===//
#include "qc/Tokenizer/Tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <sys/stat.h>

using namespace qc;

namespace {

std::string sharedDir() { return QC_SHARED_DIR "/models/tokenizers/"; }

std::string slurp(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> split(const std::string &s, const std::string &sep) {
  std::vector<std::string> parts;
  size_t start = 0, at;
  while ((at = s.find(sep, start)) != std::string::npos) {
    parts.push_back(s.substr(start, at - start));
    start = at + sep.size();
  }
  parts.push_back(s.substr(start));
  return parts;
}

void checkGroundTruth(const std::string &name) {
  std::string base = sharedDir() + name;
  struct stat st;
  if (::stat(base.c_str(), &st) != 0)
    GTEST_SKIP() << base << " not found (../shared absent)";
  Tokenizer tok(model::readGGUFVocabulary(base));
  std::vector<std::string> texts =
      split(slurp(base + ".inp"), "\n__ggml_vocab_test__\n");
  std::vector<std::string> lines = split(slurp(base + ".out"), "\n");
  ASSERT_GE(lines.size(), texts.size() - 1);
  int checked = 0;
  for (size_t i = 0; i + 1 < texts.size() || (i < texts.size() && !texts[i].empty()); ++i) {
    std::vector<int32_t> expected;
    std::istringstream ids(lines[i]);
    for (int32_t id; ids >> id;)
      expected.push_back(id);
    EXPECT_EQ(tok.encode(texts[i], /*addBos=*/false), expected)
        << name << " text " << i << ": '" << texts[i] << "'";
    ++checked;
  }
  EXPECT_GT(checked, 30);
}

} // namespace

TEST(TokenizerGroundTruth, LlamaSentencePiece) {
  checkGroundTruth("ggml-vocab-llama-spm.gguf");
}

TEST(TokenizerGroundTruth, Phi3SentencePiece) {
  checkGroundTruth("ggml-vocab-phi-3.gguf");
}

TEST(TokenizerGroundTruth, GPT2ByteLevelBPE) {
  checkGroundTruth("ggml-vocab-gpt-2.gguf");
}

TEST(TokenizerGroundTruth, BertWordPiece) {
  checkGroundTruth("ggml-vocab-bert-bge.gguf");
}

TEST(PreTokenizer, GPT2) {
  using V = std::vector<std::string>;
  EXPECT_EQ(preTokenize("Hello world's  end\n\n 123abc", PreTokenizer::GPT2),
            (V{"Hello", " world", "'s", " ", " end", "\n\n", " 123", "abc"}));
}

TEST(PreTokenizer, Llama3AndQwen2) {
  using V = std::vector<std::string>;
  // Case-insensitive contractions, letters with one leading non-letter,
  // digits in threes (Llama 3) or ones (Qwen2), newlines kept together.
  EXPECT_EQ(preTokenize("I'M here,12345!!\n\nok  x", PreTokenizer::Llama3),
            (V{"I", "'M", " here", ",", "123", "45", "!!\n\n", "ok", " ", " x"}));
  EXPECT_EQ(preTokenize("a 2024", PreTokenizer::Qwen2),
            (V{"a", " ", "2", "0", "2", "4"}));
  EXPECT_EQ(preTokenize("x \n  y", PreTokenizer::Qwen2),
            (V{"x", " \n", " ", " y"}));
  EXPECT_THROW(preTokenizerStyle("deepseek-coder"), model::FormatError);
}

TEST(TokenizerJson, ByteLevelBPEWithMergeRanks) {
  // A byte-level vocabulary: "\u0120" is GPT-2's stand-in for a space.
  std::string path = ::testing::TempDir() + "/tokenizer.json";
  std::ofstream(path) << R"({"model": {"type": "BPE",
    "vocab": {"a": 0, "b": 1, "\u0120": 2, "ab": 3, "\u0120ab": 4, "ba": 5},
    "merges": ["a b", "\u0120 ab", "b a"]},
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split",
      "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"}}]},
    "added_tokens": [{"id": 6, "content": "<|endoftext|>"}]})";
  model::Vocabulary v = model::readTokenizerJson(path, 7);
  EXPECT_EQ(v.kind, model::TokenizerKind::BytePairGPT2);
  EXPECT_EQ(v.pretokenizer, "qwen2");
  EXPECT_EQ(v.tokens[6], "<|endoftext|>");
  Tokenizer tok(v);
  // "ab ab": words "ab", " ab"; "a b" (rank 0) merges before "b a".
  EXPECT_EQ(tok.encode("ab ab", false), (std::vector<int32_t>{3, 4}));
  EXPECT_EQ(tok.encode("aba", false), (std::vector<int32_t>{3, 0}));
  EXPECT_EQ(tok.decode(4), " ab");
}

TEST(TokenizerJson, RejectsIdsOutsideTheVocabulary) {
  std::string path = ::testing::TempDir() + "/bad-tokenizer.json";
  std::ofstream(path) << R"({"model": {"type": "BPE", "vocab": {"a": 9}, "merges": []}})";
  EXPECT_THROW(model::readTokenizerJson(path, 4), model::FormatError);
}
