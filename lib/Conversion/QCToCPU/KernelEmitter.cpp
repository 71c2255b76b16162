//===- KernelEmitter.cpp - A kernel and its strategies --------------------===//
#include "lib/Conversion/QCToCPU/KernelEmitter.h"

#include "llvm/ADT/StringExtras.h"

#include <cstring>

namespace mlir::qc::cpu {

func::FuncOp KernelEmitter::emit(StringRef name, StringRef key,
                                 ModuleOp module) {
  SmallVector<Type> args = q8() ? abiTypes<::qc::abi::LinearQ8>(b)
                                : abiTypes<::qc::abi::LinearF32>(b);
  auto fn = func::FuncOp::create(b, name, b.getFunctionType(args, {}));
  fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  fn->setAttr("qc.kernel", b.getStringAttr(key));
  Block *entry = fn.addEntryBlock();
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(entry);
  w = entry->getArgument(0);
  unsigned i = 1;
  if (q8()) {
    xq = entry->getArgument(i++);
    xd = entry->getArgument(i++);
    xs = entry->getArgument(i++);
  } else {
    x = entry->getArgument(i++);
  }
  y = entry->getArgument(i++);
  T = entry->getArgument(i++);
  Value r0 = entry->getArgument(i++), r1 = entry->getArgument(i++);
  // Constant tables as module globals, one per content (named by its
  // FNV-1a hash: the same in every run, so builds stay reproducible).
  auto table = [&](ArrayRef<float> values) -> Value {
    uint32_t hash = 2166136261u;
    for (float v : values) {
      uint32_t bits;
      std::memcpy(&bits, &v, 4);
      hash = (hash ^ bits) * 16777619u;
    }
    std::string global = "qc_table_" + std::to_string(values.size()) + "_" +
                         llvm::utohexstr(hash);
    auto type = MemRefType::get({int64_t(values.size())}, b.getF32Type());
    if (!module.lookupSymbol(global)) {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(module.getBody());
      memref::GlobalOp::create(
          b, global, b.getStringAttr("private"), type,
          DenseElementsAttr::get(RankedTensorType::get(type.getShape(), b.getF32Type()),
                                 values),
          /*constant=*/true, /*alignment=*/nullptr);
    }
    return memref::GetGlobalOp::create(b, type, global);
  };
  if (L.kind == BlockLayout::Trits) {
    tensorScale = loadScalar(idx(0), ::qc::formats::Scalar::F32);
    codebook = table(L.codebook);
  }
  if (!L.values.empty())
    valueTable = table(L.values);
  // The superblock plans of token tiles and of single tokens share one
  // activation buffer, sized for the larger.
  std::optional<SuperPlan> plans[2] = {superPlan(tokenTile()), superPlan(1)};
  int64_t actBytes = 0;
  for (int64_t i = 0; i < 2; ++i)
    if (plans[i])
      actBytes = std::max(actBytes, (i ? 1 : tokenTile()) * K / plans[i]->weights *
                                        plans[i]->slotVectors() * vectorBytes());
  if (actBytes)
    // Cache-line aligned: a vector load across two lines costs two (and
    // the stack's offset within a line varies from process to process).
    superActs = memref::AllocaOp::create(b, MemRefType::get({actBytes}, b.getI8Type()),
                                         b.getI64IntegerAttr(64));
  bool blockKernels = q8() && L.group == 32 && !plans[0] && N >= blockRows();
  if (blockKernels) {
    int64_t groups = (K + 31) / 32;
    blockFactors = memref::AllocaOp::create(
        b, MemRefType::get({kSpanTiles * tokenTile() * groups},
                           hasMinimum() ? Type(b.getF32Type()) : Type(b.getI32Type())));
    decodedCodes = memref::AllocaOp::create(
        b, MemRefType::get({groups * 8 * 4 * blockRows()}, b.getI8Type()),
        b.getI64IntegerAttr(64));
    decodedScales = memref::AllocaOp::create(
        b, MemRefType::get({groups * 2 * blockRows()}, b.getF32Type()),
        b.getI64IntegerAttr(64));
  }
  if (L.kind == BlockLayout::Trits && actBytes) {
    if (avx512() && L.codebook.size() <= 32) {
      auto f32x16 = VectorType::get({16}, b.getF32Type());
      Value ts = vector::BroadcastOp::create(b, f32x16, tensorScale);
      for (int h = 0; h < 2; ++h) {
        SmallVector<float> part(16, 0.0f);
        for (size_t e = 16 * h; e < L.codebook.size() && e < 16 * size_t(h + 1); ++e)
          part[e - 16 * h] = L.codebook[e];
        scaledCodebook[h] = arith::MulFOp::create(
            b, arith::ConstantOp::create(b, DenseElementsAttr::get(f32x16, ArrayRef(part))),
            ts);
      }
    }
  }
  // Tokens in tiles (a decoded block serves a whole tile), then the rest
  // one at a time. Tiles are the outer loop: a tile's activations stay in
  // L1 while the rows stream past (the runtime hands out row ranges sized
  // for L2).
  Value Tt = arith::MulIOp::create(
      b, arith::DivUIOp::create(b, T, idx(tokenTile())), idx(tokenTile()));
  if (blockKernels) {
    // Spans of up to kSpanTiles tiles: their factors, then per block of
    // rows one decode that every tile of the span reads; the rows past the
    // last whole block row by row.
    int64_t tile = tokenTile(), span = kSpanTiles * tile;
    Value r8 = add(r0, mul(arith::DivUIOp::create(
                               b, arith::SubIOp::create(b, r1, r0), idx(blockRows())),
                           idx(blockRows())));
    auto spans = scf::ForOp::create(b, idx(0), Tt, idx(span));
    OpBuilder::InsertionGuard outer(b);
    b.setInsertionPointToStart(spans.getBody());
    Value s0 = spans.getInductionVar();
    Value s1 = arith::MinUIOp::create(b, Tt, add(s0, idx(span)));
    emitBlockFactors(s0, arith::SubIOp::create(b, s1, s0));
    auto blocks = scf::ForOp::create(b, r0, r8, idx(blockRows()));
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(blocks.getBody());
      Value r = blocks.getInductionVar();
      emitDecodeRowBlock(r);
      auto tiles = scf::ForOp::create(b, s0, s1, idx(tile));
      b.setInsertionPointToStart(tiles.getBody());
      Value t0 = tiles.getInductionVar();
      emitRowBlockQ8(r, t0, arith::SubIOp::create(b, t0, s0), tile);
    }
    auto rest = scf::ForOp::create(b, r8, r1, idx(1));
    b.setInsertionPointToStart(rest.getBody());
    auto tiles = scf::ForOp::create(b, s0, s1, idx(tile));
    b.setInsertionPointToStart(tiles.getBody());
    emitRowTileQ8(rest.getInductionVar(), tiles.getInductionVar(), tile);
  }
  for (auto [from, to, tile] : {std::tuple{blockKernels ? Tt : idx(0), Tt, tokenTile()},
                                std::tuple{Tt, T, int64_t(1)}}) {
    auto tiles = scf::ForOp::create(b, from, to, idx(tile));
    const std::optional<SuperPlan> &plan = plans[tile == 1];
    OpBuilder::InsertionGuard outer(b);
    b.setInsertionPointToStart(tiles.getBody());
    Value first = r0;
    if (plan)
      emitSuperActivations(*plan, tiles.getInductionVar(), tile);
    // Token tiles take float rows floatTileRows() and superblock rows two
    // at a time: each activation load feeds all of them. A single token
    // reads one row at a time (two streams measured slower there).
    if (((!q8() && L.kind == BlockLayout::Float) || plan) && tile > 1) {
      // Integer-scale superblocks hold four accumulators a token: one row.
      int64_t step = plan ? (plan->intScales ? 1 : 2) : floatTileRows();
      Value rEnd = add(r0, mul(arith::DivUIOp::create(
                                   b, arith::SubIOp::create(b, r1, r0), idx(step)),
                               idx(step)));
      auto groups = scf::ForOp::create(b, r0, rEnd, idx(step));
      {
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPointToStart(groups.getBody());
        SmallVector<Value> rows;
        for (int64_t i = 0; i < step; ++i)
          rows.push_back(add(groups.getInductionVar(), idx(i)));
        if (plan)
          emitRowSuperQ8(*plan, rows, tiles.getInductionVar(), tile);
        else
          emitRowTileF32(rows, tiles.getInductionVar(), tile);
      }
      first = rEnd;
    }
    auto rows = scf::ForOp::create(b, first, r1, idx(1));
    b.setInsertionPointToStart(rows.getBody());
    if (plan)
      emitRowSuperQ8(*plan, {rows.getInductionVar()}, tiles.getInductionVar(), tile);
    else if (q8())
      emitRowTileQ8(rows.getInductionVar(), tiles.getInductionVar(), tile);
    else
      emitRowTileF32({rows.getInductionVar()}, tiles.getInductionVar(), tile);
  }
  func::ReturnOp::create(b);
  return fn;
}

} // namespace mlir::qc::cpu
