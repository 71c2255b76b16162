// libFuzzer target: the qc dialect's attribute and type parsers (formats,
// statistics references, quantized tensors, KV caches), as quant-opt meets
// them in a module. The first byte picks attribute or type.
#include "dialects/QC/IR/QCDialect.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mlir::MLIRContext *context = [] {
    auto *c = new mlir::MLIRContext(mlir::MLIRContext::Threading::DISABLED);
    c->loadDialect<mlir::qc::QCDialect>();
    return c;
  }();
  if (size == 0)
    return 0;
  // Parse errors are the expected outcome; they must only be reported.
  mlir::ScopedDiagnosticHandler quiet(
      context, [](mlir::Diagnostic &) { return mlir::success(); });
  std::string text(reinterpret_cast<const char *>(data) + 1, size - 1);
  if (data[0] & 1)
    mlir::parseType("!qc." + text, context);
  else
    mlir::parseAttribute("#qc." + text, context);
  return 0;
}
