// libFuzzer target: the JSON parser behind recipes, config.json,
// tokenizer.json and safetensors headers; every string a recipe could name
// as a format goes through the format-name parser and the codec registry.
#include "qc/Formats/Codec.h"
#include "qc/Model/Json.h"
#include "qc/Model/Model.h"

#include <string>

namespace {

void visit(const qc::model::Json &value, int depth) {
  if (depth > 64)
    return;
  if (value.kind == qc::model::Json::String && value.text.size() < 256) {
    if (qc::formats::parseFormatName(value.text))
      if (auto codec = qc::formats::makeCodec(value.text))
        codec->checkRowLength(256);
  }
  for (const qc::model::Json &item : value.items)
    visit(item, depth + 1);
  for (const auto &[key, field] : value.fields)
    visit(field, depth + 1);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  try {
    visit(qc::model::parseJson(text, "fuzz.json"), 0);
  } catch (const qc::model::FormatError &) {
  }
  return 0;
}
