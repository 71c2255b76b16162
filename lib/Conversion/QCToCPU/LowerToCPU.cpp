//===- LowerToCPU.cpp - qc-lower-to-cpu -----------------------------------===//
//
// Picks the target and, per (format, rows, cols) a product reads, the
// kernel's activation type, then has KernelEmitter build it; adds the
// activation quantization kernels the int8 products read.
//
//===----------------------------------------------------------------------===//
#include "lib/Conversion/QCToCPU/KernelEmitter.h"
#include "lib/Conversion/QCToCPU/Passes.h"
#include "lib/Conversion/QCToCPU/Q8Codes.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <set>

namespace mlir::qc {
#define GEN_PASS_DEF_QCLOWERTOCPU
#include "lib/Conversion/QCToCPU/Passes.h.inc"
} // namespace mlir::qc

using namespace mlir;
using namespace mlir::qc;
using ::qc::cpu::BlockLayout;
using mlir::qc::cpu::KernelEmitter;
using mlir::qc::cpu::Target;

namespace {

/// Resolves `native` from the host's CPU features.
FailureOr<Target> parseTarget(StringRef name) {
  if (name == "generic") return Target::Generic;
  if (name == "avx2") return Target::Avx2;
  if (name == "avxvnni") return Target::AvxVnni;
  if (name == "avx512vnni") return Target::Avx512Vnni;
  if (name == "avx512vbmi") return Target::Avx512Vbmi;
  if (name != "native") return failure();
  llvm::StringMap<bool> f = llvm::sys::getHostCPUFeatures();
  if (f.lookup("avx512vnni") && f.lookup("avx512vl"))
    return f.lookup("avx512vbmi") ? Target::Avx512Vbmi : Target::Avx512Vnni;
  if (f.lookup("avxvnni")) return Target::AvxVnni;
  if (f.lookup("avx2")) return Target::Avx2;
  return Target::Generic;
}


/// The codec name of a weight type: a qtensor's format or a float tensor's
/// element type.
std::string formatOf(Type type) {
  if (auto q = dyn_cast<QTensorType>(type))
    return q.getFormat().getCodec()->name();
  Type e = cast<RankedTensorType>(type).getElementType();
  return e.isF32() ? "F32" : e.isF16() ? "F16" : "BF16";
}

using ::qc::abi::quantizeKey;

/// quantizeKey(block, K) (x, codes, scales, sums, t0, t1): rows t0..t1-1
/// of x (T x K, f32) as the q8 kernels read their activations: per block
/// (a short last block of 32 zero-padded) the codes and scale of
/// emitQ8Codes, and the sums of each 16 codes.
void emitQuantizeQ8(ImplicitLocOpBuilder &b, int64_t K, int64_t B, StringRef name) {
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  auto fn = func::FuncOp::create(
      b, name, b.getFunctionType(abiTypes<::qc::abi::QuantizeQ8>(b), {}));
  fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  fn->setAttr("qc.kernel", b.getStringAttr(quantizeKey(B, K)));
  Block *entry = fn.addEntryBlock();
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(entry);
  Value x = entry->getArgument(0), codes = entry->getArgument(1),
        scales = entry->getArgument(2), sums = entry->getArgument(3);
  auto idx = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, v); };
  auto add = [&](Value a, Value c) -> Value { return arith::AddIOp::create(b, a, c); };
  auto mul = [&](Value a, Value c) -> Value { return arith::MulIOp::create(b, a, c); };
  auto f32s = VectorType::get({B}, f32);
  int64_t blocks = (K + B - 1) / B, tail = K % B;
  auto tokens = scf::ForOp::create(b, entry->getArgument(4), entry->getArgument(5), idx(1));
  b.setInsertionPointToStart(tokens.getBody());
  Value t = tokens.getInductionVar();
  auto block = [&](Value blk, Value mask) {
    Value at = add(mul(t, idx(K)), mul(blk, idx(B)));
    Value v = mask ? vector::MaskedLoadOp::create(
                         b, f32s, x, ValueRange{at}, mask,
                         arith::ConstantOp::create(b, DenseElementsAttr::get(f32s, 0.0f)))
                         .getResult()
                   : vector::LoadOp::create(b, f32s, x, ValueRange{at}).getResult();
    auto [q, d] = emitQ8Codes(b, v);
    Value slot = add(mul(t, idx(blocks)), blk);
    vector::StoreOp::create(b, q, codes, ValueRange{mul(slot, idx(B))});
    memref::StoreOp::create(b, d, scales, ValueRange{slot});
    Value wide = arith::ExtSIOp::create(b, VectorType::get({B}, i32), q);
    for (int64_t h = 0; h < B / 16; ++h) {
      Value half = vector::ExtractStridedSliceOp::create(b, wide, ArrayRef<int64_t>{16 * h},
                                                         ArrayRef<int64_t>{16},
                                                         ArrayRef<int64_t>{1});
      memref::StoreOp::create(
          b, vector::ReductionOp::create(b, vector::CombiningKind::ADD, half), sums,
          ValueRange{add(mul(slot, idx(B / 16)), idx(h))});
    }
  };
  auto full = scf::ForOp::create(b, idx(0), idx(K / B), idx(1));
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(full.getBody());
    block(full.getInductionVar(), Value());
  }
  if (tail)
    block(idx(K / B), vector::ConstantMaskOp::create(
                          b, VectorType::get({B}, b.getI1Type()), ArrayRef<int64_t>{tail}));
  b.setInsertionPointAfter(tokens);
  func::ReturnOp::create(b);
}

struct QCLowerToCPUPass
    : mlir::qc::impl::QCLowerToCPUBase<QCLowerToCPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<Target> tgt = parseTarget(target);
    if (failed(tgt)) {
      module.emitError("unknown target '") << target
          << "' (native, avx512vbmi, avx512vnni, avxvnni, avx2 or generic)";
      return signalPassFailure();
    }
    // Every (format, rows, cols) a product reads, in program order.
    struct Use {
      std::string format;
      int64_t rows, cols;
      Operation *op;
    };
    std::vector<Use> uses;
    module.walk([&](Operation *op) {
      Value weight;
      if (auto l = dyn_cast<LinearOp>(op))
        weight = l.getWeight();
      else if (auto l = dyn_cast<LogitsOp>(op))
        weight = l.getWeight();
      else
        return;
      ArrayRef<int64_t> shape =
          isa<QTensorType>(weight.getType())
              ? cast<QTensorType>(weight.getType()).getShape()
              : cast<RankedTensorType>(weight.getType()).getShape();
      uses.push_back({formatOf(weight.getType()), shape[0], shape[1], op});
    });
    // The graph functions: every function that is not already a kernel.
    std::vector<func::FuncOp> graphs;
    for (func::FuncOp f : module.getOps<func::FuncOp>())
      if (!f->hasAttr("qc.kernel"))
        graphs.push_back(f);
    ImplicitLocOpBuilder b(module.getLoc(), module.getContext());
    b.setInsertionPointToEnd(module.getBody());
    std::set<std::string> done;
    std::set<std::pair<int64_t, int64_t>> quantizations; // (block, K)
    for (const Use &u : uses) {
      std::string key = ::qc::abi::linearKey(u.format, u.rows, u.cols);
      if (!done.insert(key).second)
        continue;
      std::string why;
      BlockLayout layout = ::qc::cpu::describeBlockLayout(u.format, why);
      if (!why.empty()) {
        u.op->emitError("qc-lower-to-cpu: ") << why;
        return signalPassFailure();
      }
      // Integer products take groups of 16 or 32 plain codes (value tables
      // go through f32 for now). AVX2's pmaddubsw saturates at 2^15: codes
      // must stay below 128 (8-bit fields keep f32 activations there).
      bool q8 = *tgt != Target::Generic && layout.kind != BlockLayout::Float &&
                (layout.group == 16 || layout.group == 32) && layout.values.empty() &&
                (*tgt != Target::Avx2 || layout.kind == BlockLayout::Trits ||
                 layout.bits < 8);
      // Integer-scale superblocks (the K-quants) take one activation scale
      // per 256 (llama.cpp's Q8_K) and sum their groups in integers.
      int64_t actBlock = !q8 ? 0
                         : layout.intScaleSuperblocks() && u.cols % 256 == 0 ? 256
                                                                             : 32;
      std::string name = "qc_linear_" + std::to_string(done.size() - 1);
      b.setLoc(u.op->getLoc());
      KernelEmitter(b, layout, u.rows, u.cols, *tgt, actBlock)
          .emit(name, !q8 ? key : key + ::qc::abi::q8Suffix(actBlock), module);
      if (q8)
        quantizations.insert({actBlock, u.cols});
    }
    // The activation quantization every q8 kernel's input needs.
    for (auto [block, K] : quantizations) {
      std::string name = "qc_" + quantizeKey(block, K);
      std::replace(name.begin(), name.end(), ':', '_');
      emitQuantizeQ8(b, K, block, name);
    }
    // The runtime runs the graph through the kernels.
    for (func::FuncOp f : graphs)
      f.erase();
  }
};

} // namespace
