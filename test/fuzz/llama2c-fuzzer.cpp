// libFuzzer target: llama2.c checkpoints, then the same bytes as a
// tokenizer.bin for a small model.
#include "FuzzInput.h"
#include "qc/Model/Model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzInput in(data, size);
  if (!in.ok())
    return 0;
  try {
    qc::model::readLlama2c(in.path(), QC_CORPUS "/tok.bin");
  } catch (const qc::model::FormatError &) {
  }
  try {
    qc::model::readLlama2cTokenizer(in.path(), 8);
  } catch (const qc::model::FormatError &) {
  }
  return 0;
}
