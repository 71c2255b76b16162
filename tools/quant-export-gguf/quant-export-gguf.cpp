//===- quant-export-gguf.cpp - Any model qc reads, as a GGUF file ---------===//
//
//   quant-export-gguf MODEL [--tokenizer TOK] -o OUT.gguf
//
// MODEL is anything quant-import reads, typically a qc weights archive after
// quantization: packed #qc.gguf tensors are copied byte for byte.
//
//===----------------------------------------------------------------------===//
#include "qc/Export/GGUFWriter.h"

#include <cstdio>
#include <string>

int main(int argc, char **argv) {
  std::string input, tokenizer, output;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "-o" || a == "--tokenizer") && i + 1 < argc)
      (a == "-o" ? output : tokenizer) = argv[++i];
    else if (!a.empty() && a[0] != '-' && input.empty())
      input = a;
    else {
      std::fprintf(stderr, "quant-export-gguf: unexpected argument '%s'\n"
                           "usage: quant-export-gguf MODEL [--tokenizer TOK] "
                           "-o OUT.gguf\n",
                   a.c_str());
      return 2;
    }
  }
  if (input.empty() || output.empty()) {
    std::fprintf(stderr, "usage: quant-export-gguf MODEL [--tokenizer TOK] "
                         "-o OUT.gguf\n");
    return 2;
  }
  try {
    qc::model::Model m = qc::model::readModel(input, tokenizer);
    qc::writeGGUF(m, output);
    std::fprintf(stderr, "quant-export-gguf: %s -> %s (%zu tensors)\n",
                 input.c_str(), output.c_str(), m.tensors.size());
  } catch (const std::exception &e) {
    std::fprintf(stderr, "quant-export-gguf: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
