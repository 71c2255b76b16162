// libFuzzer target: the ONNX reader (wire format, nodes, attributes,
// tensors, external data), the decoder recogniser (quant-import's) and the
// MatMulNBits rewrite of what it read.
#include "FuzzInput.h"
#include "qc/Export/ONNXWeights.h"
#include "qc/Import/ONNX.h"
#include "qc/Model/Model.h"

#include <cstdio>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzInput in(data, size);
  if (!in.ok())
    return 0;
  try {
    qc::onnx::Model m = qc::onnx::readModel(in.path());
    for (const qc::onnx::Node &n : m.nodes)
      for (const std::string &i : n.inputs)
        if (const qc::onnx::Tensor *t = m.constant(i))
          try {
            t->floats();
          } catch (const qc::model::FormatError &) {
          }
  } catch (const qc::model::FormatError &) {
    return 0;
  }
  try {
    qc::model::readONNXLanguageModel(in.path()).validate();
  } catch (const qc::model::FormatError &) {
  }
  static const std::string out =
      "/tmp/qc-onnx-fuzz-" + std::to_string(getpid()) + ".onnx";
  try {
    qc::OnnxWeightOptions o;
    o.format = "Q8_0";
    qc::quantizeOnnxWeights(in.path(), out, o);
  } catch (const qc::model::FormatError &) {
  }
  std::remove(out.c_str());
  return 0;
}
