// libFuzzer target: arbitrary (also invalid UTF-8) text through the
// SentencePiece and byte-level BPE tokenizers of the corpus vocabularies.
#include "qc/Model/Model.h"
#include "qc/Tokenizer/Tokenizer.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const qc::Tokenizer spm(
      qc::model::readGGUFVocabulary(QC_CORPUS "/valid.gguf"));
  std::string text(reinterpret_cast<const char *>(data), size);
  for (int32_t id : spm.encode(text, true))
    spm.decode(id);
  qc::model::Vocabulary bpe = spm.vocabulary();
  bpe.kind = qc::model::TokenizerKind::BytePairGPT2;
  bpe.merges = {"a b", "\xE2\x96\x81 a"};
  qc::Tokenizer(bpe).encode(text, false);
  return 0;
}
