//===- EmitKernelTable.cpp - qc-emit-kernel-table -------------------------===//
#include "lib/Conversion/QCToCPU/Passes.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "qc/runtime.h"

namespace mlir::qc {
#define GEN_PASS_DEF_QCEMITKERNELTABLE
#include "lib/Conversion/QCToCPU/Passes.h.inc"
} // namespace mlir::qc

using namespace mlir;

namespace {

struct QCEmitKernelTablePass
    : mlir::qc::impl::QCEmitKernelTableBase<QCEmitKernelTablePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    ImplicitLocOpBuilder b(module.getLoc(), ctx);
    b.setInsertionPointToEnd(module.getBody());
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = b.getI64Type();

    auto cString = [&](StringRef name, StringRef text) {
      std::string z = text.str();
      z.push_back('\0');
      auto type = LLVM::LLVMArrayType::get(b.getI8Type(), z.size());
      LLVM::GlobalOp::create(b, type, /*isConstant=*/true,
                             LLVM::Linkage::Internal, name,
                             b.getStringAttr(z));
    };

    // {key, C-interface function} per kernel; func-to-llvm names the
    // wrapper _mlir_ciface_<name>.
    SmallVector<std::pair<std::string, std::string>> entries;
    for (LLVM::LLVMFuncOp f : module.getOps<LLVM::LLVMFuncOp>()) {
      // The C-interface wrapper inherits the attribute; list the kernel once.
      auto key = f->getAttrOfType<StringAttr>("qc.kernel");
      if (!key || f.getName().starts_with("_mlir_ciface_"))
        continue;
      std::string wrapper = "_mlir_ciface_" + f.getName().str();
      if (!module.lookupSymbol<LLVM::LLVMFuncOp>(wrapper)) {
        f.emitError("kernel has no C interface '") << wrapper << "'";
        return signalPassFailure();
      }
      entries.push_back({key.str(), wrapper});
    }
    for (auto [i, e] : llvm::enumerate(entries))
      cString("qc_kernel_key_" + std::to_string(i), e.first);

    std::string path = weights;
    if (path.empty())
      if (auto a = module->getAttrOfType<StringAttr>("qc.weights"))
        path = a.str();
    cString("qc_weights_path", path);
    cString("qc_required_features", features);

    auto entry = LLVM::LLVMStructType::getLiteral(ctx, {ptr, ptr});
    auto array = LLVM::LLVMArrayType::get(entry, entries.size());
    auto kernels = LLVM::GlobalOp::create(b, array, true,
                                          LLVM::Linkage::Internal,
                                          "qc_kernels", Attribute());
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(&kernels.getInitializerRegion().emplaceBlock());
      Value arr = LLVM::UndefOp::create(b, array);
      for (auto [i, e] : llvm::enumerate(entries)) {
        Value s = LLVM::UndefOp::create(b, entry);
        s = LLVM::InsertValueOp::create(
            b, s,
            LLVM::AddressOfOp::create(b, ptr, "qc_kernel_key_" + std::to_string(i)),
            ArrayRef<int64_t>{0});
        s = LLVM::InsertValueOp::create(
            b, s, LLVM::AddressOfOp::create(b, ptr, e.second),
            ArrayRef<int64_t>{1});
        arr = LLVM::InsertValueOp::create(b, arr, s,
                                          ArrayRef<int64_t>{int64_t(i)});
      }
      LLVM::ReturnOp::create(b, arr);
    }
    // The runtime's qc_kernel_table {abi_version, count, kernels, weights,
    // features}.
    auto tableType =
        LLVM::LLVMStructType::getLiteral(ctx, {i64, i64, ptr, ptr, ptr});
    auto table = LLVM::GlobalOp::create(b, tableType, true,
                                        LLVM::Linkage::External,
                                        "qc_compiled_kernels", Attribute());
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(&table.getInitializerRegion().emplaceBlock());
    Value t = LLVM::UndefOp::create(b, tableType);
    Value fields[] = {
        LLVM::ConstantOp::create(b, i64, int64_t(QC_RUNTIME_ABI_VERSION)),
        LLVM::ConstantOp::create(b, i64, int64_t(entries.size())),
        LLVM::AddressOfOp::create(b, ptr, "qc_kernels"),
        LLVM::AddressOfOp::create(b, ptr, "qc_weights_path"),
        LLVM::AddressOfOp::create(b, ptr, "qc_required_features")};
    for (auto [i, v] : llvm::enumerate(fields))
      t = LLVM::InsertValueOp::create(b, t, v, ArrayRef<int64_t>{int64_t(i)});
    LLVM::ReturnOp::create(b, t);
  }
};

} // namespace
