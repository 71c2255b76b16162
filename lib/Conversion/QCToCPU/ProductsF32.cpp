//===- ProductsF32.cpp - Products with f32 activations --------------------===//
#include "lib/Conversion/QCToCPU/KernelEmitter.h"

namespace mlir::qc::cpu {

/// Rows are stored after the header, rowBytes apart.
Value rowBaseOf(ImplicitLocOpBuilder &b, const BlockLayout &L, Value r,
                       int64_t K) {
  Value stride = arith::ConstantIndexOp::create(b, L.rowBytes(K));
  Value header = arith::ConstantIndexOp::create(b, L.headerBytes);
  return arith::AddIOp::create(b, header, arith::MulIOp::create(b, r, stride));
}

void KernelEmitter::emitRowTileF32(ArrayRef<Value> rows, Value t0,
                                   int64_t tile) {
  // K-quant rows hold whole blocks of subBlocks groups (the verifier
  // checks), so only single-group blocks have a tail. Every activation
  // vector loaded serves all `rows`. One row of float weights for one token
  // takes two chunks a step into two accumulator sets: two FMA chains.
  int64_t G = L.group, S = L.subBlocks, full = K / (G * S), tail = K % G;
  int64_t R = int64_t(rows.size()), set = R * tile;
  int64_t U = L.kind == BlockLayout::Float && set == 1 && full >= 2 ? 2 : 1;
  auto f32s = VectorType::get({G}, b.getF32Type());
  SmallVector<Value> rowBase;
  for (Value r : rows)
    rowBase.push_back(rowBaseOf(b, L, r, K));
  SmallVector<Value> xRow;
  for (int64_t j = 0; j < tile; ++j)
    xRow.push_back(mul(add(t0, idx(j)), idx(K)));
  // Chunk (block) `g` into accumulator set u: (row i, token j) at
  // u * set + i * tile + j. A mask marks the row's short last chunk.
  auto accumulate = [&](Value g, int64_t u, MutableArrayRef<Value> acc,
                        Value mask) {
    // One block base for all its groups: K-quant scales decode once.
    SmallVector<Value> blockBase;
    for (Value base : rowBase)
      blockBase.push_back(blockBaseOf(base, g));
    for (int sub = 0; sub < S; ++sub) {
      SmallVector<Value> wf;
      for (Value base : blockBase)
        wf.push_back(weightsF32(base, sub, mask));
      Value k0 = mul(add(mul(g, idx(S)), idx(sub)), idx(G));
      for (int64_t j = 0; j < tile; ++j) {
        Value at = add(xRow[j], k0);
        Value xv = mask ? vector::MaskedLoadOp::create(b, f32s, x, ValueRange{at},
                                                       mask, f32Zeros(G))
                              .getResult()
                        : vector::LoadOp::create(b, f32s, x, ValueRange{at})
                              .getResult();
        for (int64_t i = 0; i < R; ++i) {
          Value &a = acc[u * set + i * tile + j];
          a = vector::FMAOp::create(b, wf[i], xv, a);
        }
      }
    }
  };
  SmallVector<Value> init(U * set, f32Zeros(G));
  auto loop = scf::ForOp::create(b, idx(0), idx(full / U), idx(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> next(loop.getRegionIterArgs());
    for (int64_t u = 0; u < U; ++u)
      accumulate(add(mul(loop.getInductionVar(), idx(U)), idx(u)), u, next,
                 Value());
    scf::YieldOp::create(b, next);
  }
  SmallVector<Value> accs(loop.getResults());
  if (full % U)
    accumulate(idx(full - 1), 0, accs, Value());
  if (tail)
    accumulate(idx(full), 0, accs,
               vector::ConstantMaskOp::create(
                   b, VectorType::get({G}, b.getI1Type()), ArrayRef<int64_t>{tail}));
  for (int64_t u = 1; u < U; ++u)
    for (int64_t k = 0; k < set; ++k)
      accs[k] = arith::AddFOp::create(b, accs[k], accs[u * set + k]);
  storeRowSums(accs, rows, t0, tile);
}

void KernelEmitter::storeRowSums(ArrayRef<Value> accs, ArrayRef<Value> rows,
                                 Value t0, int64_t tile) {
  for (size_t i = 0; i < rows.size(); ++i)
    for (int64_t j = 0; j < tile; ++j) {
      Value s = vector::ReductionOp::create(b, vector::CombiningKind::ADD,
                                            accs[i * tile + j],
                                            arith::FastMathFlags::reassoc);
      memref::StoreOp::create(
          b, s, y, ValueRange{add(mul(add(t0, idx(j)), idx(N)), rows[i])});
    }
}

} // namespace mlir::qc::cpu
