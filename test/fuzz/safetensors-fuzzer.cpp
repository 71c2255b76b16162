// libFuzzer target: safetensors headers and data (read as a qc archive).
#include "FuzzInput.h"
#include "qc/Model/Model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzInput in(data, size);
  if (!in.ok())
    return 0;
  try {
    qc::model::readSafetensorsModel(in.path());
  } catch (const qc::model::FormatError &) {
  }
  return 0;
}
