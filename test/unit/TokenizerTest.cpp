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
