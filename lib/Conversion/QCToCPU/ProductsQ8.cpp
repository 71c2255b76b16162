//===- ProductsQ8.cpp - Products with int8 activations --------------------===//
#include "lib/Conversion/QCToCPU/KernelEmitter.h"

namespace mlir::qc::cpu {

/// sum over each 4 bytes of u (unsigned) times a (signed), as i32 lanes.
Value KernelEmitter::dotBytes(Value u, Value a) {
  return dotBytesInto(i32Splat(cast<VectorType>(u.getType()).getNumElements() / 4, 0), u, a);
}

/// pmaddubsw: pairs of u (unsigned) times a (signed) summed into i16 lanes
/// (codes below 128 keep the pair sums clear of saturation).
Value KernelEmitter::maddBytes(Value u, Value a) {
  int64_t lanes = cast<VectorType>(u.getType()).getNumElements() / 2;
  return LLVM::CallIntrinsicOp::create(
             b, VectorType::get({lanes}, b.getI16Type()),
             b.getStringAttr(lanes == 16 ? "llvm.x86.avx2.pmadd.ub.sw"
                                         : "llvm.x86.ssse3.pmadd.ub.sw.128"),
             ValueRange{u, a})
      .getResult(0);
}

/// pmaddwd: pairs of i16 lanes of u times v summed into i32 lanes.
Value KernelEmitter::maddWords(Value u, Value v) {
  int64_t lanes = cast<VectorType>(u.getType()).getNumElements() / 2;
  return LLVM::CallIntrinsicOp::create(
             b, VectorType::get({lanes}, b.getI32Type()),
             b.getStringAttr(lanes == 8 ? "llvm.x86.avx2.pmadd.wd" : "llvm.x86.sse2.pmadd.wd"),
             ValueRange{u, v})
      .getResult(0);
}

/// acc + sum over each 4 bytes of u (unsigned) times a (signed).
Value KernelEmitter::dotBytesInto(Value acc, Value u, Value a) {
  int64_t lanes = cast<VectorType>(u.getType()).getNumElements() / 4;
  auto i32s = VectorType::get({lanes}, b.getI32Type());
  if (target == Target::Avx2) {
    // Pair sums, then pmaddwd by ones into the i32 lanes.
    Value pairs = maddBytes(u, a);
    return arith::AddIOp::create(b, acc, maddWords(pairs, splatLike(pairs, 1)));
  }
  // LLVM 22's vpdpbusd intrinsics take the bytes as <N x i8>.
  std::string name = avx512() ? "llvm.x86.avx512.vpdpbusd."
                                                  : "llvm.x86.avxvnni.vpdpbusd.";
  name += std::to_string(lanes * 32);
  return LLVM::CallIntrinsicOp::create(b, i32s, b.getStringAttr(name),
                                       ValueRange{acc, u, a})
      .getResult(0);
}

void KernelEmitter::emitRowTileQ8(Value r, Value t0, int64_t tile) {
  int64_t G = L.group, S = L.subBlocks, groups = (K + G * S - 1) / (G * S);
  int64_t Kp = (K + 31) / 32 * 32, lanes = G / 4;
  auto f32s = VectorType::get({lanes}, b.getF32Type());
  auto i8s = VectorType::get({G}, b.getI8Type());
  Value rowBase = rowBaseOf(b, L, r, K);
  // One group into the accumulators: `tile` f32 vectors, then `tile` f32
  // scalars for the minimum's share.
  auto step = [&](Value g, ValueRange accs) {
    SmallVector<Value> next(accs.begin(), accs.end());
    Value blockBase = blockBaseOf(rowBase, g);
    for (int sub = 0; sub < S; ++sub) {
    auto [d, m] = blockScale(blockBase, sub);
    Value u = codes(blockBase, sub);
    // Symmetric formats: signed codes w = u - zero meet x as |w| (unsigned)
    // and x * sign(w), so one vpdpbusd gives sum w * x. With a minimum m:
    // sum (d * u + m) * x = d * dot(u, x) + m * sum(x), from the sums.
    Value left, negative, zero8;
    if (m) {
      left = arith::TruncIOp::create(b, i8s, u);
    } else {
      Value ws = arith::TruncIOp::create(
          b, i8s, arith::SubIOp::create(b, u, splatLike(u, L.zero)));
      zero8 = arith::ConstantOp::create(b, DenseElementsAttr::get(i8s, int8_t(0)));
      negative = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, ws, zero8);
      left = arith::SelectOp::create(b, negative,
                                     arith::SubIOp::create(b, zero8, ws), ws);
    }
    Value k0 = mul(add(mul(g, idx(S)), idx(sub)), idx(G));
    for (int64_t j = 0; j < tile; ++j) {
      Value t = add(t0, idx(j));
      Value a = vector::LoadOp::create(b, i8s, xq,
                                       ValueRange{add(mul(t, idx(Kp)), k0)});
      if (!m)
        a = arith::SelectOp::create(b, negative,
                                    arith::SubIOp::create(b, zero8, a), a);
      Value dot = dotBytes(left, a);
      Value dx = loadDx(t, k0);
      Value scale = arith::MulFOp::create(b, d, dx);
      next[j] = vector::FMAOp::create(b, arith::SIToFPOp::create(b, f32s, dot),
                                      vector::BroadcastOp::create(b, f32s, scale),
                                      next[j]);
      if (!m)
        continue;
      Value half = add(mul(t, idx(Kp / 16)), arith::DivUIOp::create(b, k0, idx(16)));
      Value sum = memref::LoadOp::create(b, xs, ValueRange{half});
      if (G == 32)
        sum = add(sum, memref::LoadOp::create(b, xs, ValueRange{add(half, idx(1))}));
      Value corr = arith::MulFOp::create(
          b, arith::MulFOp::create(b, m, dx),
          arith::SIToFPOp::create(b, b.getF32Type(), sum));
      next[tile + j] = arith::AddFOp::create(b, next[tile + j], corr);
    }
    }
    return next;
  };
  SmallVector<Value> init(tile, f32Zeros(lanes));
  init.append(tile, f32(0.0f));
  // A single token alternates two sets of accumulators between even and odd
  // groups: the FMA chain is what bounds generation otherwise.
  int64_t sets = tile == 1 && groups >= 2 ? 2 : 1;
  SmallVector<Value> loopInit;
  for (int64_t i = 0; i < sets; ++i)
    loopInit.append(init);
  auto loop = scf::ForOp::create(b, idx(0), idx(groups / sets * sets),
                                 idx(sets), loopInit);
  SmallVector<Value> acc;
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> next;
    for (int64_t i = 0; i < sets; ++i)
      next.append(step(add(loop.getInductionVar(), idx(i)),
                       loop.getRegionIterArgs().slice(i * 2 * tile, 2 * tile)));
    scf::YieldOp::create(b, next);
  }
  acc.assign(loop.getResults().begin(), loop.getResults().begin() + 2 * tile);
  if (sets == 2) {
    if (groups % 2)
      acc = step(idx(groups - 1), acc);
    for (int64_t i = 0; i < 2 * tile; ++i)
      acc[i] = arith::AddFOp::create(b, acc[i], loop.getResult(2 * tile + i));
  }
  for (int64_t j = 0; j < tile; ++j) {
    Value s = vector::ReductionOp::create(b, vector::CombiningKind::ADD, acc[j],
                                          arith::FastMathFlags::reassoc);
    s = arith::AddFOp::create(b, s, acc[tile + j]);
    memref::StoreOp::create(b, s, y, ValueRange{add(mul(add(t0, idx(j)), idx(N)), r)});
  }
}

void KernelEmitter::emitBlockFactors(Value t0, Value count) {
  int64_t blocks = (K + 31) / 32;
  auto tokens = scf::ForOp::create(b, idx(0), count, idx(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(tokens.getBody());
  Value j = tokens.getInductionVar(), t = add(t0, j);
  auto loop = scf::ForOp::create(b, idx(0), idx(blocks), idx(1));
  b.setInsertionPointToStart(loop.getBody());
  Value blk = loop.getInductionVar();
  Value at = add(mul(t, idx(blocks)), blk);
  Value sum = add(memref::LoadOp::create(b, xs, ValueRange{mul(at, idx(2))}),
                  memref::LoadOp::create(b, xs, ValueRange{add(mul(at, idx(2)), idx(1))}));
  Value factor;
  if (hasMinimum()) {
    Value dx = loadDx(t, mul(blk, idx(32)));
    factor = arith::MulFOp::create(b, dx, arith::SIToFPOp::create(b, b.getF32Type(), sum));
  } else {
    factor = mul(sum, arith::ConstantIntOp::create(b, b.getI32Type(), -L.zero));
  }
  memref::StoreOp::create(b, factor, blockFactors, ValueRange{add(mul(j, idx(blocks)), blk)});
}

/// Decodes the blockRows() rows from r for the block kernels: each row's
/// groups of 32 to unsigned codes, the rows x 8 matrix of 4-byte chunks
/// transposed, so chunk q of all rows is one vector (lane i: row i), stored
/// per group in decodedCodes; the rows' scales (and minimums) per group as
/// vectors in decodedScales. Once per call and row block: every tile of
/// tokens reads it (decoding was a third of the work when tiles repeated it).
void KernelEmitter::emitDecodeRowBlock(Value r) {
  const int64_t R = blockRows();
  int64_t S = L.subBlocks, groups = (K + 32 * S - 1) / (32 * S);
  auto f32s = VectorType::get({R}, b.getF32Type());
  auto i8s = VectorType::get({32}, b.getI8Type());       // one row's group
  auto chunkType = VectorType::get({8}, b.getI32Type()); // its 4-byte chunks
  auto laneBytes = VectorType::get({4 * R}, b.getI8Type());
  SmallVector<Value> rowBase;
  for (int64_t i = 0; i < R; ++i)
    rowBase.push_back(rowBaseOf(b, L, add(r, idx(i)), K));
  auto loop = scf::ForOp::create(b, idx(0), idx(groups), idx(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value g = loop.getInductionVar();
  SmallVector<Value> blockBases;
  for (int64_t i = 0; i < R; ++i)
    blockBases.push_back(blockBaseOf(rowBase[i], g));
  // K-quants: every row's eight group scales (and minimums) as lanes,
  // transposed into one vector of the rows' values per group.
  SmallVector<Value> subScales, subMins;
  if (L.subScaled()) {
    SmallVector<Value> rowScales, rowMins;
    for (Value base : blockBases) {
      blockScale(base, 0);
      auto [d, m] = subScaleCache[base.getAsOpaquePointer()];
      rowScales.push_back(d);
      if (m)
        rowMins.push_back(m);
    }
    subScales = transpose(rowScales);
    if (!rowMins.empty())
      subMins = transpose(rowMins);
  }
  // Nibble formats transpose the packed bytes, not the decoded codes: a
  // Q4_0 block's 16 bytes hold its low and high halves, and Q4_K's 32
  // bytes from 16 + 32p the groups 2p (low nibbles) and 2p + 1 (high).
  // Half the shuffles, then a mask (and a shift) per chunk.
  int64_t packedWords = L.nibbleBlocks() ? 4 : L.pairedNibbles() ? 8 : 0;
  SmallVector<Value> packed;
  for (int sub = 0; sub < S; ++sub) {
    SmallVector<Value> chunks, scales, mins;
    for (int64_t i = 0; i < R; ++i) {
      Value blockBase = blockBases[i];
      if (!L.subScaled()) {
        auto [d, m] = blockScale(blockBase, sub);
        scales.push_back(d);
        if (m)
          mins.push_back(m);
      }
      if (packedWords && sub % 2 == 0)
        chunks.push_back(vector::BitCastOp::create(
            b, VectorType::get({packedWords}, b.getI32Type()),
            vector::LoadOp::create(
                b, VectorType::get({4 * packedWords}, b.getI8Type()), w,
                ValueRange{add(blockBase, idx(L.codes[sub][0].offset))})));
      else if (!packedWords)
        chunks.push_back(vector::BitCastOp::create(
            b, chunkType, arith::TruncIOp::create(b, i8s, codes(blockBase, sub))));
    }
    if (!chunks.empty() && packedWords)
      packed = transpose(chunks);
    SmallVector<Value> W;
    if (packedWords) {
      // Q4_0: chunks 0..3 low nibbles, 4..7 high; Q4_K: odd groups high.
      for (int64_t q = 0; q < 8; ++q) {
        Value v = packed[q % packedWords];
        if (packedWords == 4 ? q >= 4 : sub % 2 == 1)
          v = arith::ShRUIOp::create(b, v, i32Splat(R, 4));
        W.push_back(vector::BitCastOp::create(
            b, laneBytes, arith::AndIOp::create(b, v, i32Splat(R, 0x0f0f0f0f))));
      }
    } else {
      for (Value chunk : transpose(chunks))
        W.push_back(vector::BitCastOp::create(b, laneBytes, chunk));
    }
    Value group = add(mul(g, idx(S)), idx(sub));
    for (int64_t q = 0; q < 8; ++q)
      vector::StoreOp::create(b, W[q], decodedCodes,
                              ValueRange{mul(add(mul(group, idx(8)), idx(q)), idx(4 * R))});
    Value dvec = L.subScaled() ? subScales[sub]
                           : vector::FromElementsOp::create(b, f32s, scales).getResult();
    Value mvec = !subMins.empty() ? subMins[sub]
                 : mins.empty() ? Value()
                                : vector::FromElementsOp::create(b, f32s, mins).getResult();
    vector::StoreOp::create(b, dvec, decodedScales, ValueRange{mul(group, idx(2 * R))});
    if (mvec)
      vector::StoreOp::create(b, mvec, decodedScales,
                              ValueRange{add(mul(group, idx(2 * R)), idx(R))});
  }
}

/// A tile of tokens against the decoded row block at r (emitDecodeRowBlock):
/// chunk q of all rows meets four bytes of x broadcast in one vpdpbusd and
/// the lanes of the result are the rows' sums: no horizontal sums, scales as
/// vectors, and the zero point enters as the accumulator's start value,
/// -zero * sum(x). Token t0 + j's factors are row f0 + j of blockFactors.
void KernelEmitter::emitRowBlockQ8(Value r, Value t0, Value f0, int64_t tile) {
  const int64_t R = blockRows();
  int64_t Kp = (K + 31) / 32 * 32, blocks = Kp / 32;
  auto f32s = VectorType::get({R}, b.getF32Type());
  auto i32s = VectorType::get({R}, b.getI32Type());
  auto laneBytes = VectorType::get({4 * R}, b.getI8Type());
  SmallVector<Value> init(tile, f32Zeros(R));
  auto loop = scf::ForOp::create(b, idx(0), idx(blocks), idx(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value group = loop.getInductionVar();
    SmallVector<Value> next(loop.getRegionIterArgs());
    SmallVector<Value> W;
    for (int64_t q = 0; q < 8; ++q)
      W.push_back(vector::LoadOp::create(
          b, laneBytes, decodedCodes,
          ValueRange{mul(add(mul(group, idx(8)), idx(q)), idx(4 * R))}));
    Value dvec = vector::LoadOp::create(b, f32s, decodedScales,
                                        ValueRange{mul(group, idx(2 * R))});
    Value mvec = hasMinimum() ? vector::LoadOp::create(
                                    b, f32s, decodedScales,
                                    ValueRange{add(mul(group, idx(2 * R)), idx(R))})
                                    .getResult()
                              : Value();
    Value k0 = mul(group, idx(32));
    for (int64_t j = 0; j < tile; ++j) {
      Value t = add(t0, idx(j));
      Value base = add(mul(t, idx(Kp)), k0);
      Value factorAt = add(mul(add(f0, idx(j)), idx(blocks)), group);
      Value acc =
          mvec ? i32Splat(R, 0)
               : vector::BroadcastOp::create(
                     b, i32s, memref::LoadOp::create(b, blockFactors, ValueRange{factorAt}))
                     .getResult();
      for (int64_t q = 0; q < 8; ++q) {
        Value four = vector::LoadOp::create(b, VectorType::get({4}, b.getI8Type()),
                                            xq, ValueRange{add(base, idx(4 * q))});
        Value word = vector::ExtractOp::create(
            b, vector::BitCastOp::create(b, VectorType::get({1}, b.getI32Type()), four),
            ArrayRef<int64_t>{0});
        Value x4 = vector::BitCastOp::create(b, laneBytes,
                                             vector::BroadcastOp::create(b, i32s, word));
        acc = dotBytesInto(acc, W[q], x4);
      }
      Value dx = loadDx(t, k0);
      Value scale = arith::MulFOp::create(b, dvec, vector::BroadcastOp::create(b, f32s, dx));
      Value out = vector::FMAOp::create(b, arith::SIToFPOp::create(b, f32s, acc), scale,
                                        next[j]);
      if (mvec) {
        Value xsum = memref::LoadOp::create(b, blockFactors, ValueRange{factorAt});
        out = vector::FMAOp::create(b, mvec,
                                    vector::BroadcastOp::create(b, f32s, xsum), out);
      }
      next[j] = out;
    }
    scf::YieldOp::create(b, next);
  }
  for (int64_t j = 0; j < tile; ++j)
    vector::StoreOp::create(b, loop.getResult(j), y,
                            ValueRange{add(mul(add(t0, idx(j)), idx(N)), r)});
}

} // namespace mlir::qc::cpu
