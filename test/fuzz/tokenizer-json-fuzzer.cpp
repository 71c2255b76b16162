// libFuzzer target: Hugging Face tokenizer.json files (BPE, byte-level or
// byte-fallback), then the tokenizer built from one that reads.
#include "FuzzInput.h"
#include "qc/Model/Model.h"
#include "qc/Tokenizer/Tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzInput in(data, size);
  if (!in.ok())
    return 0;
  try {
    qc::Tokenizer tokenizer(qc::model::readTokenizerJson(in.path(), 64));
    for (int32_t id : tokenizer.encode("Hello world, \xC3\xA9t\xC3\xA9 42!", true))
      tokenizer.decode(id);
  } catch (const qc::model::FormatError &) {
  }
  return 0;
}
