// libFuzzer target: the GGUF reader (header, metadata, tensors, vocabulary).
#include "FuzzInput.h"
#include "qc/Model/Model.h"
#include "qc/Tokenizer/Tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzInput in(data, size);
  if (!in.ok())
    return 0;
  try {
    qc::model::Model m = qc::model::readGGUF(in.path());
    qc::Tokenizer(m.vocab).encode("Once upon a time", true);
  } catch (const qc::model::FormatError &) {
  }
  try {
    qc::model::readGGUFVocabulary(in.path());
  } catch (const qc::model::FormatError &) {
  }
  return 0;
}
