//===- SuperblockPlans.cpp - Register-wide superblock kernels -------------===//
#include "lib/Conversion/QCToCPU/KernelEmitter.h"

namespace mlir::qc::cpu {

/// Q4_K code vector v (low / high nibbles of code bytes 0..63 / 64..127):
/// the group of its half h (bytes 32h.. of the 64).
static int64_t kGroup(int64_t v, int64_t h) { return v / 2 * 4 + 2 * h + v % 2; }

std::optional<SuperPlan> KernelEmitter::superPlan(int64_t tile) const {
  if (!q8())
    return std::nullopt;
  int64_t V = vectorBytes(), G4 = V / 4;
  SuperPlan p;
  p.initA.assign(1, {});
  p.initB.assign(1, {});
  p.dxOf.assign(1, {});
  if (L.kind == BlockLayout::Trits && L.depth == 1 && L.group == 16 &&
      L.blockBytes == 4 && K % (4 * V) == 0) {
    // Groups of 16 in 4 bytes, V / 4 of them: byte b holds trits
    // 5 * (b % 4) .. + 4 of group b / 4, the first scaleTrits of a group
    // being its scale index. Code vector d is digit d of every byte, the
    // codes u = w + 1 (the start -sum(x) takes the 1 off).
    p.weights = 4 * V;
    p.bytes = V;
    for (int64_t d = 0; d < 5; ++d) {
      p.actLanes.emplace_back();
      for (int64_t byte = 0; byte < V; ++byte) {
        int64_t weight = byte % 4 * 5 + d - L.scaleTrits;
        p.actLanes.back().push_back(weight >= 0 && weight < 16 ? byte / 4 * 16 + weight
                                                               : -1);
      }
      p.accOf.push_back(0);
    }
    for (int64_t g = 0; g < G4; ++g) {
      p.initA[0].push_back(g);
      p.initB[0].push_back(-1);
      p.dxOf[0].push_back(g / 2);
    }
    p.initFactor = -1;
    return p;
  }
  // Q4_0 and Q4_K take superblocks for one token (AVX-512) only: their
  // token tiles keep the 16-row kernels, whose float work 16 rows share
  // (measured slower as superblocks).
  if (V == 64 && tile == 1 && L.nibbleBlocks() && K % 128 == 0) {
    // Four blocks: lanes 16k..16k+15 of the code vectors are block k's
    // 16 bytes, low nibbles (weights 0..15) then high (16..31); i32 lanes
    // 4k..4k+3 are block k's, started at -8 * sum(x).
    p.weights = 128;
    p.bytes = 4 * L.blockBytes;
    p.actLanes.assign(2, {});
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t l = 0; l < 64; ++l)
        p.actLanes[h].push_back(l / 16 * 32 + 16 * h + l % 16);
    p.accOf = {0, 0};
    for (int64_t l = 0; l < 16; ++l) {
      p.initA[0].push_back(l % 4 ? -1 : l / 4 * 2);
      p.initB[0].push_back(l % 4 ? -1 : l / 4 * 2 + 1);
      p.dxOf[0].push_back(l / 4);
    }
    p.initFactor = -L.zero;
    return p;
  }
  // Token tiles of group-16 formats too: they have no row-block kernels.
  if (V == 32 && actBlock == 256 && (tile == 1 || L.group == 16)) {
    // 256-bit registers: eight code vectors, vector v weights 32v.. in
    // order (a Q4_K group is the low or high nibbles of 32 bytes). Each
    // scales its pair sums by its groups' scales in pmaddwd, all into one
    // accumulator.
    p.weights = 256;
    p.bytes = L.blockBytes;
    p.segment = L.pairedNibbles() ? 0 : L.contiguousSegments(32) ? 32 : 16;
    for (int64_t v = 0; v < 8; ++v) {
      p.actLanes.emplace_back();
      for (int64_t l = 0; l < 32; ++l)
        p.actLanes.back().push_back(32 * v + l);
      p.accOf.push_back(0);
    }
    p.intScales = true;
    return p;
  }
  if (V == 64 && actBlock == 256 && (tile == 1 || L.group == 16)) {
    // One 256-weight block, four code vectors. Paired nibbles (Q4_K): 64
    // code bytes hold groups (2h, 2h+1) of bytes 32h..; code vector v is
    // the low (even v) or high nibbles of the first or second 64 bytes, so
    // its two halves are groups kGroup(v, 0 / 1). Otherwise (Q2_K, Q3_K,
    // Q5_K, Q6_K) vector v holds weights 64v.. in order, each piece loaded
    // 32 (or 16) consecutive weights at a time.
    bool paired = L.pairedNibbles();
    p.weights = 256;
    p.bytes = L.blockBytes;
    p.accs = 4;
    p.segment = paired ? 0 : L.contiguousSegments(32) ? 32 : 16;
    for (int64_t v = 0; v < 4; ++v) {
      p.actLanes.emplace_back();
      for (int64_t l = 0; l < 64; ++l)
        p.actLanes.back().push_back(paired ? 32 * kGroup(v, l / 32) + l % 32 : 64 * v + l);
      p.accOf.push_back(v);
    }
    p.intScales = true;
    return p;
  }
  return std::nullopt;
}

/// Codes of weights first.. of the block at `at` as one code vector: per
/// piece, `segment` consecutive weights from one load of consecutive bytes
/// at one shift (BlockLayout::contiguousSegments), joined, masked and
/// moved to the piece's bits.
Value KernelEmitter::wideCodes(Value at, int64_t first, int64_t segment) {
  auto bytes = [&](int64_t n) { return VectorType::get({n}, b.getI8Type()); };
  auto splat = [&](int64_t n, int8_t v) {
    return arith::ConstantOp::create(b, DenseElementsAttr::get(bytes(n), v)).getResult();
  };
  Value u;
  for (size_t k = 0; k < L.codes[first / L.group].size(); ++k) {
    SmallVector<Value> parts;
    for (int64_t e = first; e < first + vectorBytes(); e += segment) {
      const ::qc::cpu::CodePiece &p = L.codes[e / L.group][k];
      int64_t lane = e % L.group;
      Value v = vector::LoadOp::create(b, bytes(segment), w,
                                       ValueRange{add(at, idx(p.offset + p.byteOf[lane]))});
      if (p.shift[lane])
        v = arith::ShRUIOp::create(b, v, splat(segment, int8_t(p.shift[lane])));
      v = arith::AndIOp::create(b, v, splat(segment, int8_t((1 << p.bits) - 1)));
      if (p.position)
        v = arith::ShLIOp::create(b, v, splat(segment, int8_t(p.position)));
      parts.push_back(v);
    }
    // Join pairs until one vector is left.
    while (parts.size() > 1) {
      SmallVector<Value> next;
      for (size_t i = 0; i < parts.size(); i += 2) {
        int64_t n = cast<VectorType>(parts[i].getType()).getNumElements();
        SmallVector<int64_t> lanes;
        for (int64_t l = 0; l < 2 * n; ++l)
          lanes.push_back(l);
        next.push_back(vector::ShuffleOp::create(b, parts[i], parts[i + 1], lanes));
      }
      parts = next;
    }
    u = u ? arith::OrIOp::create(b, u, parts[0]).getResult() : parts[0];
  }
  return u;
}

KernelEmitter::SuperCodes KernelEmitter::decodeSuper(const SuperPlan &plan,
                                                     Value at) {
  int64_t V = vectorBytes(), G4 = V / 4;
  auto i8s = VectorType::get({V}, b.getI8Type());
  auto f32s = VectorType::get({G4}, b.getF32Type());
  auto bytesSplat = [&](int8_t v) {
    return arith::ConstantOp::create(b, DenseElementsAttr::get(i8s, v)).getResult();
  };
  SuperCodes c;
  if (L.kind == BlockLayout::Trits) {
    // The V bytes as 16-bit lanes, even and odd bytes apart, give their five
    // base-3 digits by repeated division by 3: floor(v / 3) = v * 21846 >> 16
    // for v < 2^15, by pmulhuw (LLVM widens a generic multiply-high to
    // 32-bit lanes).
    auto i16s = VectorType::get({V / 2}, b.getI16Type());
    auto i32s = VectorType::get({G4}, b.getI32Type());
    auto c16 = [&](int16_t v) {
      return arith::ConstantOp::create(b, DenseElementsAttr::get(i16s, v)).getResult();
    };
    auto third = [&](Value v) {
      return LLVM::CallIntrinsicOp::create(
                 b, i16s,
                 b.getStringAttr(V == 64 ? "llvm.x86.avx512.pmulhu.w.512"
                                         : "llvm.x86.avx2.pmulhu.w"),
                 ValueRange{v, c16(21846)})
          .getResult(0);
    };
    Value bytes = vector::LoadOp::create(b, i8s, w, ValueRange{at});
    Value scaleIndex; // the codebook index in the low bits of each i32 lane
    if (target == Target::Avx512Vbmi) {
      // Table lookups: vpermi2b indexes 128 bytes by the low 7 bits, bit 7
      // picks one of two such lookups. One table gives digits 0..3 packed
      // two bits each, another digit 4. Eight tables: token tiles, short of
      // registers, read some from memory and still gain (pp128 on 2
      // threads 214 -> 260 tok/s, Llama-3.2-1B shapes).
      SmallVector<int8_t> packed, top;
      for (int v = 0; v < 256; ++v) {
        int u = v % 243;
        packed.push_back(int8_t(u % 3 | u / 3 % 3 << 2 | u / 9 % 3 << 4 | u / 27 % 3 << 6));
        top.push_back(int8_t(u / 81));
      }
      Value high = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, bytes, bytesSplat(0));
      auto lookup = [&](ArrayRef<int8_t> table) {
        Value half[2];
        for (int h = 0; h < 2; ++h) {
          auto part = [&](int q) {
            return arith::ConstantOp::create(
                b, DenseElementsAttr::get(i8s, table.slice(128 * h + 64 * q, 64)));
          };
          half[h] = LLVM::CallIntrinsicOp::create(
                        b, i8s, b.getStringAttr("llvm.x86.avx512.vpermi2var.qi.512"),
                        ValueRange{part(0), bytes, part(1)})
                        .getResult(0);
        }
        return arith::SelectOp::create(b, high, half[1], half[0]).getResult();
      };
      Value p = lookup(packed);
      for (int d = 0; d < 4; ++d) {
        Value v = d ? arith::ShRUIOp::create(b, p, bytesSplat(int8_t(2 * d))).getResult() : p;
        c.codes.push_back(d < 3 ? arith::AndIOp::create(b, v, bytesSplat(3)).getResult() : v);
      }
      c.codes.push_back(lookup(top));
      // The scale index is the first byte's low scaleTrits digits, packed
      // in the low bits of p: one vpermb (64 entries, the low six bits of
      // each byte) gives it, clamped to the codebook, in byte 0 of each
      // group's lane, where vpermi2ps reads its low five bits.
      if (scaledCodebook[0] && 2 * L.scaleTrits <= 6) {
        SmallVector<int8_t> index;
        for (int v = 0; v < 64; ++v) {
          int64_t k = 0, place = 1;
          for (int t = 0; t < L.scaleTrits; ++t, place *= 3)
            k += (v >> (2 * t) & 3) * place;
          index.push_back(int8_t(std::min<int64_t>(k, int64_t(L.codebook.size()) - 1)));
        }
        scaleIndex = vector::BitCastOp::create(
            b, i32s,
            LLVM::CallIntrinsicOp::create(
                b, i8s, b.getStringAttr("llvm.x86.avx512.permvar.qi.512"),
                ValueRange{arith::ConstantOp::create(
                               b, DenseElementsAttr::get(i8s, ArrayRef(index))),
                           p})
                .getResult(0));
      }
    } else {
      Value pairs = vector::BitCastOp::create(b, i16s, bytes);
      Value even = arith::AndIOp::create(b, pairs, c16(255));
      Value odd = arith::ShRUIOp::create(b, pairs, c16(8));
      for (int d = 0; d < 5; ++d) {
        Value de = even, dO = odd;
        if (d < 4) { // the last quotient (byte / 81 <= 2) is its own digit
          Value qe = third(even), qo = third(odd);
          de = arith::SubIOp::create(b, even, mul(qe, c16(3)));
          dO = arith::SubIOp::create(b, odd, mul(qo, c16(3)));
          even = qe;
          odd = qo;
        }
        c.codes.push_back(vector::BitCastOp::create(
            b, i8s, arith::OrIOp::create(b, de, arith::ShLIOp::create(b, dO, c16(8)))));
      }
    }
    // Group scales: byte 0 of each group mod 3^scaleTrits indexes the
    // codebook (vpermi2ps over two registers on AVX-512, else a gather).
    Value k = scaleIndex;
    if (!k) {
      k = arith::AndIOp::create(b, vector::BitCastOp::create(b, i32s, bytes),
                                i32Splat(G4, 255));
      k = arith::MinUIOp::create(
          b, arith::RemUIOp::create(b, k, i32Splat(G4, int32_t(L.scaleLevels()))),
          i32Splat(G4, int32_t(L.codebook.size()) - 1));
    }
    if (scaledCodebook[0]) {
      c.scales.push_back(LLVM::CallIntrinsicOp::create(
                             b, f32s, b.getStringAttr("llvm.x86.avx512.vpermi2var.ps.512"),
                             ValueRange{scaledCodebook[0], k, scaledCodebook[1]})
                             .getResult(0));
    } else {
      Value all = vector::ConstantMaskOp::create(
          b, VectorType::get({G4}, b.getI1Type()), ArrayRef<int64_t>{G4});
      c.scales.push_back(arith::MulFOp::create(
          b,
          vector::GatherOp::create(b, f32s, codebook, ValueRange{idx(0)}, k, all,
                                   f32Zeros(G4)),
          vector::BroadcastOp::create(b, f32s, tensorScale)));
    }
    return c;
  }
  Value mask = bytesSplat(15), four = bytesSplat(4);
  auto nibbles = [&](Value v) {
    c.codes.push_back(arith::AndIOp::create(b, v, mask));
    c.codes.push_back(arith::ShRUIOp::create(b, v, four));
  };
  if (plan.intScales && V == 32) {
    // Vector v's codes; per vector its groups' scales as i16 pairs (lane p
    // of pmaddwd takes weights 2p, 2p + 1), and the minimums as i16 lanes.
    auto narrow = [&](Value ints) {
      auto type = VectorType::get({L.subBlocks}, b.getI16Type());
      return arith::TruncIOp::create(b, type, ints).getResult();
    };
    for (int64_t v = 0; v < 8; ++v) {
      if (plan.segment)
        c.codes.push_back(wideCodes(at, 32 * v, plan.segment));
      else if (v % 2 == 0)
        nibbles(vector::LoadOp::create(b, i8s, w, ValueRange{add(at, idx(L.codes[v][0].offset))}));
    }
    Value sc = narrow(packedInts(at, L.subScales));
    for (int64_t v = 0; v < 8; ++v) {
      SmallVector<int64_t> lanes;
      for (int64_t p = 0; p < 16; ++p)
        lanes.push_back((32 * v + 2 * p) / L.group);
      c.scales.push_back(vector::ShuffleOp::create(b, sc, sc, lanes));
    }
    Value mn = L.hasMinimum() ? narrow(packedInts(at, L.subMins))
                              : mul(sc, splatLike(sc, L.zero));
    SmallVector<int64_t> pad;
    for (int64_t l = 0; l < 16; ++l)
      pad.push_back(l < L.subBlocks ? l : L.subBlocks);
    c.mins = vector::ShuffleOp::create(
        b, mn, splatLike(mn, 0),
        pad);
    c.d = loadScalar(add(at, idx(L.scaleOffset)), L.scale);
    c.dmin = L.hasMinimum() ? loadScalar(add(at, idx(L.minOffset)), L.scale) : c.d;
    return c;
  }
  if (plan.intScales) {
    int64_t S = L.subBlocks;
    Value sc = packedInts(at, L.subScales);
    if (plan.segment == 0) {
      Value lo = vector::LoadOp::create(b, i8s, w, ValueRange{add(at, idx(L.codes[0][0].offset))});
      Value hi = vector::LoadOp::create(b, i8s, w, ValueRange{add(at, idx(L.codes[4][0].offset))});
      nibbles(lo);
      nibbles(hi);
    } else {
      for (int64_t v = 0; v < 4; ++v)
        c.codes.push_back(wideCodes(at, 64 * v, plan.segment));
    }
    // Lane l of accumulator v sums weights 4l.. of its vector: the scale of
    // their group.
    for (int64_t v = 0; v < 4; ++v) {
      SmallVector<int64_t> lanes;
      for (int64_t l = 0; l < 16; ++l)
        lanes.push_back(plan.segment ? (64 * v + 4 * l) / L.group : kGroup(v, l / 8));
      c.scales.push_back(vector::ShuffleOp::create(b, sc, sc, lanes));
    }
    // What is taken off per group, times the group's activation sum: the
    // integer minimum (times dmin), or the scale times the zero point
    // (times d).
    Value mn = L.hasMinimum() ? packedInts(at, L.subMins)
                              : mul(sc, i32Splat(S, int32_t(L.zero)));
    SmallVector<int64_t> pad;
    for (int64_t l = 0; l < G4; ++l)
      pad.push_back(l < S ? l : S);
    c.mins = vector::ShuffleOp::create(b, mn, i32Splat(S, 0), pad);
    c.d = loadScalar(add(at, idx(L.scaleOffset)), L.scale);
    c.dmin = L.hasMinimum() ? loadScalar(add(at, idx(L.minOffset)), L.scale) : c.d;
    return c;
  }
  // Nibble blocks (Q4_0): four blocks' 16 code bytes and f16 scales, loaded
  // block by block (a 64-byte load at an 18-byte stride would split across
  // lines).
  auto i8x16 = VectorType::get({16}, b.getI8Type());
  auto i8x2 = VectorType::get({2}, b.getI8Type());
  SmallVector<Value> codes, scales;
  for (int64_t k = 0; k < 4; ++k) {
    codes.push_back(vector::LoadOp::create(b, i8x16, w, ValueRange{add(at, idx(L.blockBytes * k + L.codes[0][0].offset))}));
    scales.push_back(vector::LoadOp::create(b, i8x2, w, ValueRange{add(at, idx(L.blockBytes * k + L.scaleOffset))}));
  }
  auto join = [&](Value l, Value r) {
    int64_t n = cast<VectorType>(l.getType()).getNumElements();
    SmallVector<int64_t> lanes;
    for (int64_t i = 0; i < 2 * n; ++i)
      lanes.push_back(i);
    return vector::ShuffleOp::create(b, l, r, lanes).getResult();
  };
  nibbles(join(join(codes[0], codes[1]), join(codes[2], codes[3])));
  Value d = arith::ExtFOp::create(
      b, VectorType::get({4}, b.getF32Type()),
      vector::BitCastOp::create(b, VectorType::get({4}, b.getF16Type()),
                                join(join(scales[0], scales[1]), join(scales[2], scales[3])))
          .getResult());
  SmallVector<int64_t> quads;
  for (int64_t l = 0; l < 16; ++l)
    quads.push_back(l / 4);
  c.scales.push_back(vector::ShuffleOp::create(b, d, d, quads));
  return c;
}

/// The tile's q8 activations rearranged for a superblock plan, per (token,
/// superblock): one activation vector per code vector, then the
/// accumulators' start values (i32 lanes) and their activation scales (f32
/// lanes), or for K-quants the sums of each 32 (i32 lanes 0..7). Built once
/// per tile, read by every row.
void KernelEmitter::emitSuperActivations(const SuperPlan &plan, Value t0,
                                         int64_t tile) {
  int64_t V = vectorBytes(), G4 = V / 4, supers = K / plan.weights;
  int64_t blocks = plan.weights / 32, sixteens = plan.weights / 16;
  auto wide = VectorType::get({plan.weights}, b.getI8Type());
  auto i8s = VectorType::get({V}, b.getI8Type());
  auto f32s = VectorType::get({G4}, b.getF32Type());
  auto zeroFor = [&](ArrayRef<int64_t> lanes, int64_t none) {
    SmallVector<int64_t> m;
    for (int64_t l : lanes)
      m.push_back(l < 0 ? none : l);
    return m;
  };
  auto tokens = scf::ForOp::create(b, idx(0), idx(tile), idx(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(tokens.getBody());
  Value j = tokens.getInductionVar(), t = add(t0, j);
  auto sbs = scf::ForOp::create(b, idx(0), idx(supers), idx(1));
  b.setInsertionPointToStart(sbs.getBody());
  Value s = sbs.getInductionVar();
  Value slot = mul(add(mul(j, idx(supers)), s), idx(plan.slotVectors() * V));
  int64_t at = 0;
  auto store = [&](Value v) {
    if (v.getType() != i8s)
      v = vector::BitCastOp::create(b, i8s, v);
    vector::StoreOp::create(b, v, superActs, ValueRange{add(slot, idx(at++ * V))});
  };
  Value xv = vector::LoadOp::create(
      b, wide, xq, ValueRange{add(mul(t, idx(K)), mul(s, idx(plan.weights)))});
  Value zeros = arith::ConstantOp::create(b, DenseElementsAttr::get(wide, int8_t(0)));
  for (ArrayRef<int64_t> lanes : plan.actLanes)
    store(vector::ShuffleOp::create(b, xv, zeros, zeroFor(lanes, plan.weights)));
  auto sixteenType = VectorType::get({sixteens}, b.getI32Type());
  Value sums = vector::LoadOp::create(
      b, sixteenType, xs, ValueRange{add(mul(t, idx(K / 16)), mul(s, idx(sixteens)))});
  Value noSums = i32Splat(sixteens, 0);
  if (plan.intScales) {
    // The activation sum of each group: the sums of 16, or of 32 (pairs),
    // as i32 lanes, or (256-bit registers) i16 lanes for pmaddwd.
    int64_t lanes = V == 32 ? 16 : G4;
    Value groupSums = sums;
    if (L.group != 16) {
      SmallVector<int64_t> evens, odds;
      for (int64_t l = 0; l < lanes; ++l) {
        evens.push_back(l < blocks ? 2 * l : sixteens);
        odds.push_back(l < blocks ? 2 * l + 1 : sixteens);
      }
      groupSums = add(vector::ShuffleOp::create(b, sums, noSums, evens),
                      vector::ShuffleOp::create(b, sums, noSums, odds));
    }
    if (V == 32)
      groupSums = arith::TruncIOp::create(
          b, VectorType::get({lanes}, b.getI16Type()), groupSums);
    store(groupSums);
    return;
  }
  if (plan.initFactor)
    for (int64_t a = 0; a < plan.accs; ++a) {
      Value v = vector::ShuffleOp::create(b, sums, noSums, zeroFor(plan.initA[a], sixteens));
      if (llvm::any_of(plan.initB[a], [](int64_t l) { return l >= 0; }))
        v = add(v, vector::ShuffleOp::create(b, sums, noSums,
                                             zeroFor(plan.initB[a], sixteens)));
      store(mul(v, i32Splat(G4, int32_t(plan.initFactor))));
    }
  Value dx = vector::LoadOp::create(
      b, VectorType::get({blocks}, b.getF32Type()), xd,
      ValueRange{add(mul(t, idx(K / 32)), mul(s, idx(blocks)))});
  for (int64_t a = 0; a < plan.accs; ++a)
    store(vector::ShuffleOp::create(b, dx, dx, plan.dxOf[a]));
}

/// One row of a superblock plan for a tile of tokens: per superblock, the
/// codes decoded once; per token, the integer dots of each accumulator (its
/// lanes are single groups), converted, times the activation scales, and
/// FMA'd with the group scales into one f32 vector per token (intScales:
/// scaled and summed as integers first).
void KernelEmitter::emitRowSuperQ8(const SuperPlan &plan, ArrayRef<Value> rows,
                                   Value t0, int64_t tile) {
  int64_t V = vectorBytes(), G4 = V / 4, supers = K / plan.weights;
  int64_t R = int64_t(rows.size());
  auto i8s = VectorType::get({V}, b.getI8Type());
  auto i32s = VectorType::get({G4}, b.getI32Type());
  auto f32s = VectorType::get({G4}, b.getF32Type());
  SmallVector<Value> rowBase;
  for (Value r : rows)
    rowBase.push_back(rowBaseOf(b, L, r, K));
  // Accumulator of (row i, token j) at i * tile + j.
  SmallVector<Value> init(R * tile, f32Zeros(G4));
  auto loop = scf::ForOp::create(b, idx(0), idx(supers), idx(1), init);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value s = loop.getInductionVar();
  SmallVector<SuperCodes> c;
  for (Value base : rowBase)
    c.push_back(decodeSuper(plan, add(base, mul(s, idx(plan.bytes)))));
  SmallVector<Value> next(loop.getRegionIterArgs());
  int64_t codeVectors = int64_t(plan.actLanes.size());
  for (int64_t j = 0; j < tile; ++j) {
    Value slot = mul(add(mul(idx(j), idx(supers)), s), idx(plan.slotVectors() * V));
    auto load = [&](VectorType type, int64_t at) -> Value {
      Value v = vector::LoadOp::create(b, i8s, superActs, ValueRange{add(slot, idx(at * V))});
      return type == i8s ? v : vector::BitCastOp::create(b, type, v).getResult();
    };
    // Each activation vector loaded serves every row.
    SmallVector<SmallVector<Value>> acc(R);
    for (int64_t a = 0; a < plan.accs; ++a) {
      Value start = plan.initFactor ? load(i32s, codeVectors + a) : i32Splat(G4, 0);
      for (int64_t i = 0; i < R; ++i)
        acc[i].push_back(start);
    }
    for (int64_t v = 0; v < codeVectors; ++v) {
      Value x = load(i8s, v);
      for (int64_t i = 0; i < R; ++i) {
        Value &a = acc[i][plan.accOf[v]];
        a = dotBytesInto(a, c[i].codes[v], x);
      }
    }
    if (plan.intScales && V == 32) {
      // pmaddubsw pairs, pmaddwd by the groups' scales: one i32 vector.
      auto i16s = VectorType::get({16}, b.getI16Type());
      Value bsums = load(i16s, codeVectors);
      Value dx = memref::LoadOp::create(
          b, xd, ValueRange{add(mul(add(t0, idx(j)), idx(supers)), s)});
      SmallVector<Value> x;
      for (int64_t v = 0; v < codeVectors; ++v)
        x.push_back(load(i8s, v));
      for (int64_t i = 0; i < R; ++i) {
        Value sum;
        for (int64_t v = 0; v < codeVectors; ++v) {
          Value d = maddWords(maddBytes(c[i].codes[v], x[v]), c[i].scales[v]);
          sum = sum ? add(sum, d) : d;
        }
        Value minimums = maddWords(c[i].mins, bsums);
        Value &out = next[i * tile + j];
        auto fma = [&](Value ints, Value factor) {
          out = vector::FMAOp::create(b, arith::SIToFPOp::create(b, f32s, ints),
                                      vector::BroadcastOp::create(b, f32s, factor), out);
        };
        // A zero point shares d: taken off in integers.
        if (!L.hasMinimum()) {
          fma(arith::SubIOp::create(b, sum, minimums), arith::MulFOp::create(b, c[i].d, dx));
          continue;
        }
        fma(sum, arith::MulFOp::create(b, c[i].d, dx));
        fma(minimums, arith::NegFOp::create(b, arith::MulFOp::create(b, c[i].dmin, dx)));
      }
      continue;
    }
    if (plan.intScales) {
      Value bsums = load(i32s, codeVectors);
      Value dx = memref::LoadOp::create(
          b, xd, ValueRange{add(mul(add(t0, idx(j)), idx(supers)), s)});
      for (int64_t i = 0; i < R; ++i) {
        Value sum = mul(acc[i][0], c[i].scales[0]);
        for (int64_t a = 1; a < plan.accs; ++a)
          sum = add(sum, mul(acc[i][a], c[i].scales[a]));
        Value &out = next[i * tile + j];
        auto fma = [&](Value ints, Value factor) {
          out = vector::FMAOp::create(b, arith::SIToFPOp::create(b, f32s, ints),
                                      vector::BroadcastOp::create(b, f32s, factor), out);
        };
        fma(sum, arith::MulFOp::create(b, c[i].d, dx));
        fma(mul(c[i].mins, bsums),
            arith::NegFOp::create(b, arith::MulFOp::create(b, c[i].dmin, dx)));
      }
      continue;
    }
    int64_t dxAt = codeVectors + (plan.initFactor ? plan.accs : 0);
    for (int64_t a = 0; a < plan.accs; ++a) {
      Value dx = load(f32s, dxAt + a);
      for (int64_t i = 0; i < R; ++i) {
        Value sum = arith::MulFOp::create(b, arith::SIToFPOp::create(b, f32s, acc[i][a]), dx);
        next[i * tile + j] = vector::FMAOp::create(b, sum, c[i].scales[a], next[i * tile + j]);
      }
    }
  }
  scf::YieldOp::create(b, next);
  b.setInsertionPointAfter(loop);
  storeRowSums(SmallVector<Value>(loop.getResults()), rows, t0, tile);
}

} // namespace mlir::qc::cpu
