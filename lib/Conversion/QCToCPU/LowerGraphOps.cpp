//===- LowerGraphOps.cpp - qc-lower-graph-ops -----------------------------===//
//
// The graph's operations around the products, as kernels over flat memrefs:
// RMS norms, RoPE, the KV-cache store, attention, SwiGLU and residual adds.
// scf loops over vectors along the contiguous dimension; the element-wise
// ones as linalg.generic (lowered to loops later in the pipeline).
//
//===----------------------------------------------------------------------===//
#include "lib/Conversion/QCToCPU/ABITypes.h"
#include "lib/Conversion/QCToCPU/Passes.h"
#include "lib/Conversion/QCToCPU/Q8Codes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringMap.h"

#include <cmath>

namespace mlir::qc {
#define GEN_PASS_DEF_QCLOWERGRAPHOPS
#include "lib/Conversion/QCToCPU/Passes.h.inc"
} // namespace mlir::qc

using namespace mlir;
using namespace mlir::qc;

namespace {

/// The widest vector of at most 16 lanes that divides n.
int64_t lanesFor(int64_t n) {
  for (int64_t l : {16, 8, 4, 2})
    if (n % l == 0)
      return l;
  return 1;
}

/// The key suffix of a KV cache element type.
std::string cacheTypeName(Type element) {
  return element.isF16() ? "f16" : element.isF32() ? "f32" : "q8";
}

class GraphKernelBuilder {
public:
  GraphKernelBuilder(ImplicitLocOpBuilder &b) : b(b) {}

  /// A kernel function with the C interface the runtime calls; the builder
  /// is left at the start of its body.
  Block *begin(StringRef key, ArrayRef<Type> args) {
    std::string name = "qc_graph_" + std::to_string(emitted.size());
    auto fn = func::FuncOp::create(b, name, b.getFunctionType(args, {}));
    emitted.push_back(fn);
    fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    fn->setAttr("qc.kernel", b.getStringAttr(key));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    return entry;
  }

  Type f32() { return b.getF32Type(); }
  MemRefType flat(Type element) {
    return MemRefType::get({ShapedType::kDynamic}, element);
  }
  VectorType vec(int64_t n, Type element = {}) {
    return VectorType::get({n}, element ? element : f32());
  }
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value cst(float v) {
    return arith::ConstantFloatOp::create(b, b.getF32Type(), APFloat(v));
  }
  Value zeros(int64_t n) {
    return arith::ConstantOp::create(b, DenseElementsAttr::get(vec(n), 0.0f));
  }
  Value add(Value a, Value c) { return arith::AddIOp::create(b, a, c); }
  Value mul(Value a, Value c) { return arith::MulIOp::create(b, a, c); }
  Value splat(Value s, int64_t n) {
    return vector::BroadcastOp::create(b, vec(n), s);
  }
  /// n lanes of `m` from `at`, widened to f32.
  Value loadF32(Value m, Value at, int64_t n) {
    Type e = cast<MemRefType>(m.getType()).getElementType();
    Value v = vector::LoadOp::create(b, vec(n, e), m, ValueRange{at});
    if (e == f32())
      return v;
    if (e.isInteger(8))
      return arith::SIToFPOp::create(b, vec(n), v);
    return arith::ExtFOp::create(b, vec(n), v);
  }
  /// Stores f32 lanes into `m`, narrowed to its element type.
  void storeAs(Value v, Value m, Value at) {
    Type e = cast<MemRefType>(m.getType()).getElementType();
    int64_t n = cast<VectorType>(v.getType()).getNumElements();
    if (e != f32())
      v = arith::TruncFOp::create(b, vec(n, e), v);
    vector::StoreOp::create(b, v, m, ValueRange{at});
  }
  Value sum(Value v) {
    return vector::ReductionOp::create(b, vector::CombiningKind::ADD, v);
  }

  /// for iv in [lo, hi) step `step` with loop-carried values; `body` returns
  /// the next values.
  scf::ForOp loop(Value lo, Value hi, int64_t step, ValueRange init,
                  function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto f = scf::ForOp::create(b, lo, hi, idx(step), init);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(f.getBody());
    SmallVector<Value> next = body(f.getInductionVar(), f.getRegionIterArgs());
    if (f.getBody()->empty() || !isa<scf::YieldOp>(f.getBody()->back()))
      scf::YieldOp::create(b, next);
    return f;
  }

  // --- The kernels (keys and signatures are the runtime's contract).

  /// "rms_norm:<D>" (x, w, y, T): y = x / sqrt(mean(x^2) + eps) * w per row.
  void rmsNorm(StringRef key, int64_t D, float eps) {
    Block *e = begin(key, abiTypes<::qc::abi::RmsNorm>(b));
    Value x = e->getArgument(0), w = e->getArgument(1), y = e->getArgument(2);
    int64_t l = lanesFor(D);
    loop(idx(0), e->getArgument(3), 1, {}, [&](Value t, ValueRange) {
      Value row = mul(t, idx(D));
      Value ss = sum(loop(idx(0), idx(D), l, {zeros(l)}, [&](Value i, ValueRange acc) {
                       Value v = loadF32(x, add(row, i), l);
                       return SmallVector<Value>{
                           math::FmaOp::create(b, v, v, acc[0])};
                     }).getResult(0));
      Value mean = arith::DivFOp::create(b, ss, cst(float(D)));
      Value scale = arith::DivFOp::create(
          b, cst(1.0f), math::SqrtOp::create(b, arith::AddFOp::create(b, mean, cst(eps))));
      Value s = splat(scale, l);
      loop(idx(0), idx(D), l, {}, [&](Value i, ValueRange) {
        Value v = arith::MulFOp::create(b, loadF32(x, add(row, i), l), s);
        storeAs(arith::MulFOp::create(b, v, loadF32(w, i, l)), y, add(row, i));
        return SmallVector<Value>{};
      });
      return SmallVector<Value>{};
    });
    func::ReturnOp::create(b);
  }

  /// "rope_table:<hd>" (rot, pos, T): rot[t*hd + 2i], rot[t*hd + 2i + 1] =
  /// cos, sin of (pos + t) * freq_scale * theta^(-2i/hd).
  void ropeTable(StringRef key, int64_t hd, float theta, float freqScale) {
    Block *e = begin(key, abiTypes<::qc::abi::RopeTable>(b));
    Value rot = e->getArgument(0), pos = e->getArgument(1);
    loop(idx(0), e->getArgument(2), 1, {}, [&](Value t, ValueRange) {
      Value p = arith::UIToFPOp::create(
          b, f32(), arith::IndexCastUIOp::create(b, b.getI64Type(), add(pos, t)));
      Value scaled = arith::MulFOp::create(b, p, cst(freqScale));
      for (int64_t i = 0; i < hd / 2; ++i) {
        // The frequencies as the reference computes them, in f32.
        float freq = std::pow(theta, -2.0f * float(i) / float(hd));
        Value angle = arith::MulFOp::create(b, scaled, cst(freq));
        Value at = add(mul(t, idx(hd)), idx(2 * i));
        memref::StoreOp::create(b, math::CosOp::create(b, angle), rot, ValueRange{at});
        memref::StoreOp::create(b, math::SinOp::create(b, angle), rot,
                                ValueRange{add(at, idx(1))});
      }
      return SmallVector<Value>{};
    });
    func::ReturnOp::create(b);
  }

  /// "rope:<W>:<hd>[:neox]" (v, rot, T): rotates every head of each row.
  void rope(StringRef key, int64_t W, int64_t hd, bool neox) {
    Block *e = begin(key, abiTypes<::qc::abi::Rope>(b));
    Value v = e->getArgument(0), rot = e->getArgument(1);
    loop(idx(0), e->getArgument(2), 1, {}, [&](Value t, ValueRange) {
      Value row = mul(t, idx(W)), rrow = mul(t, idx(hd));
      loop(idx(0), idx(W), hd, {}, [&](Value h, ValueRange) {
        for (int64_t i = 0; i < hd / 2; ++i) {
          Value cs = memref::LoadOp::create(b, rot, ValueRange{add(rrow, idx(2 * i))});
          Value sn = memref::LoadOp::create(b, rot, ValueRange{add(rrow, idx(2 * i + 1))});
          Value a = add(add(row, h), idx(neox ? i : 2 * i));
          Value c = add(add(row, h), idx(neox ? i + hd / 2 : 2 * i + 1));
          Value x0 = memref::LoadOp::create(b, v, ValueRange{a});
          Value x1 = memref::LoadOp::create(b, v, ValueRange{c});
          auto fm = [&](Value p, Value q) { return arith::MulFOp::create(b, p, q); };
          memref::StoreOp::create(b, arith::SubFOp::create(b, fm(x0, cs), fm(x1, sn)), v,
                                  ValueRange{a});
          memref::StoreOp::create(b, arith::AddFOp::create(b, fm(x0, sn), fm(x1, cs)), v,
                                  ValueRange{c});
        }
        return SmallVector<Value>{};
      });
      return SmallVector<Value>{};
    });
    func::ReturnOp::create(b);
  }

  /// "kv_store:<KV>:<type>" (k, v, keys, values, pos, T): rows pos..pos+T-1
  /// of the cache, narrowed to its element type. A q8 cache row is the KV
  /// int8 codes, then one f32 scale per KV head (codes = round(x / scale),
  /// scale = max|x| / 127 over the head).
  void kvStore(StringRef key, int64_t KV, int64_t hd, Type element) {
    bool q8 = element.isInteger(8);
    MemRefType m = flat(f32()), c = flat(element);
    Block *e = begin(key, abiTypes<::qc::abi::KVStore>(b, element));
    int64_t l = q8 ? hd : lanesFor(KV);
    Value pos = e->getArgument(4);
    loop(idx(0), e->getArgument(5), 1, {}, [&](Value t, ValueRange) {
      Value src = mul(t, idx(KV)), dst = mul(add(pos, t), idx(rowElements(KV, hd, element)));
      loop(idx(0), idx(KV), l, {}, [&](Value i, ValueRange) {
        for (int j = 0; j < 2; ++j) {
          Value x = loadF32(e->getArgument(j), add(src, i), l);
          if (q8)
            storeQ8(x, e->getArgument(2 + j), add(dst, i),
                    add(add(dst, idx(KV)), mul(arith::DivUIOp::create(b, i, idx(hd)), idx(4))));
          else
            storeAs(x, e->getArgument(2 + j), add(dst, i));
        }
        return SmallVector<Value>{};
      });
      return SmallVector<Value>{};
    });
    func::ReturnOp::create(b);
  }

  /// Elements of one position's row in a cache.
  static int64_t rowElements(int64_t KV, int64_t hd, Type element) {
    return element.isInteger(8) ? KV + 4 * (KV / hd) : KV;
  }

  /// One head's codes at `at` and its scale's four bytes at `scaleAt`.
  void storeQ8(Value x, Value cache, Value at, Value scaleAt) {
    auto [codes, d] = emitQ8Codes(b, x);
    vector::StoreOp::create(b, codes, cache, ValueRange{at});
    Value bytes = vector::BitCastOp::create(b, vec(4, b.getI8Type()),
                                            vector::BroadcastOp::create(b, vec(1), d));
    vector::StoreOp::create(b, bytes, cache, ValueRange{scaleAt});
  }

  /// A q8 head's scale from its four bytes.
  Value loadScale(Value cache, Value at) {
    Value bytes = vector::LoadOp::create(b, vec(4, b.getI8Type()), cache, ValueRange{at});
    Value one = vector::BitCastOp::create(b, vec(1), bytes);
    return vector::ExtractOp::create(b, one, ArrayRef<int64_t>{0});
  }

  /// "attention:<H>:<KVH>:<hd>:<type>" (q, keys, values, out, scores, pos,
  /// first, last): jobs first..last-1, job = t * H + h, each the causal
  /// softmax attention of query row t's head h over cache positions
  /// 0..pos+t; `scores` holds pos+T floats of the caller's.
  void attention(StringRef key, int64_t H, int64_t KVH, int64_t hd,
                 Type element, float scale) {
    bool q8 = element.isInteger(8);
    MemRefType m = flat(f32()), c = flat(element);
    Type index = b.getIndexType();
    Block *e = begin(key, abiTypes<::qc::abi::Attention>(b, element));
    Value q = e->getArgument(0), keys = e->getArgument(1),
          values = e->getArgument(2), out = e->getArgument(3),
          scores = e->getArgument(4), pos = e->getArgument(5);
    int64_t D = H * hd, KV = KVH * hd, row = rowElements(KV, hd, element);
    loop(e->getArgument(6), e->getArgument(7), 1, {}, [&](Value job, ValueRange) {
      Value t = arith::DivUIOp::create(b, job, idx(H));
      Value h = arith::RemUIOp::create(b, job, idx(H));
      Value qAt = add(mul(t, idx(D)), mul(h, idx(hd)));
      Value kvHead = arith::DivUIOp::create(b, h, idx(H / KVH));
      Value kvAt = mul(kvHead, idx(hd));
      Value scaleAt = add(idx(KV), mul(kvHead, idx(4)));
      // A q8 row's values times its head's scale.
      auto scaled = [&](Value cache, Value j, Value v) {
        return q8 ? arith::MulFOp::create(
                        b, v, loadScale(cache, add(mul(j, idx(row)), scaleAt)))
                        .getResult()
                  : v;
      };
      Value n = add(add(pos, t), idx(1));
      Value qv = loadF32(q, qAt, hd);
      Value ninf = cst(-INFINITY);
      Value mx = loop(idx(0), n, 1, {ninf}, [&](Value j, ValueRange m) {
                   Value kv = loadF32(keys, add(mul(j, idx(row)), kvAt), hd);
                   Value s = arith::MulFOp::create(
                       b, scaled(keys, j, sum(arith::MulFOp::create(b, qv, kv))),
                       cst(scale));
                   memref::StoreOp::create(b, s, scores, ValueRange{j});
                   return SmallVector<Value>{arith::MaximumFOp::create(b, m[0], s)};
                 }).getResult(0);
      auto weighted = loop(idx(0), n, 1, {cst(0.0f), zeros(hd)}, [&](Value j, ValueRange a) {
        Value s = memref::LoadOp::create(b, scores, ValueRange{j});
        Value p = math::ExpOp::create(b, arith::SubFOp::create(b, s, mx));
        Value vv = loadF32(values, add(mul(j, idx(row)), kvAt), hd);
        return SmallVector<Value>{
            arith::AddFOp::create(b, a[0], p),
            math::FmaOp::create(b, splat(scaled(values, j, p), hd), vv, a[1])};
      });
      Value inv = arith::DivFOp::create(b, cst(1.0f), weighted.getResult(0));
      vector::StoreOp::create(
          b, arith::MulFOp::create(b, weighted.getResult(1), splat(inv, hd)), out,
          ValueRange{qAt});
      return SmallVector<Value>{};
    });
    func::ReturnOp::create(b);
  }

  /// An element-wise kernel over two flat operands of equal length:
  /// out[i] = combine(out[i], in[i]) (linalg.generic, in place).
  void elementwise(StringRef key, function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
    Block *e = begin(key, abiTypes<::qc::abi::Elementwise>(b));
    AffineMap id = b.getMultiDimIdentityMap(1);
    linalg::GenericOp::create(
        b, TypeRange{}, ValueRange{e->getArgument(1)}, ValueRange{e->getArgument(0)},
        ArrayRef<AffineMap>{id, id}, ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
        [&](OpBuilder &nb, Location loc, ValueRange args) {
          linalg::YieldOp::create(nb, loc, combine(nb, loc, args[1], args[0]));
        });
    func::ReturnOp::create(b);
  }

  ArrayRef<func::FuncOp> kernels() const { return emitted; }

private:
  ImplicitLocOpBuilder &b;
  SmallVector<func::FuncOp> emitted;
};

struct LowerGraphOps final
    : mlir::qc::impl::QCLowerGraphOpsBase<LowerGraphOps> {
  using QCLowerGraphOpsBase::QCLowerGraphOpsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    Type kvOverride;
    if (kvType == "f16")
      kvOverride = Float16Type::get(&getContext());
    else if (kvType == "f32")
      kvOverride = Float32Type::get(&getContext());
    else if (kvType == "q8")
      kvOverride = IntegerType::get(&getContext(), 8);
    else if (!kvType.empty()) {
      module.emitError("qc-lower-graph-ops: kv-type must be f16, f32 or q8, got '")
          << kvType << "'";
      return signalPassFailure();
    }
    std::vector<func::FuncOp> graphs;
    for (func::FuncOp f : module.getOps<func::FuncOp>())
      if (!f->hasAttr("qc.kernel"))
        graphs.push_back(f);
    ImplicitLocOpBuilder b(module.getLoc(), module.getContext());
    GraphKernelBuilder kb(b);
    // key -> the constants baked into it, so two ops that would share a
    // kernel but differ in them are caught.
    llvm::StringMap<std::string> emitted;
    auto once = [&](Operation *op, const std::string &key,
                    const std::string &constants,
                    function_ref<void(StringRef)> emit) -> LogicalResult {
      auto [it, fresh] = emitted.try_emplace(key, constants);
      if (!fresh) {
        if (it->second != constants)
          return op->emitError("qc-lower-graph-ops: kernel '")
                 << key << "' is needed with " << constants << " and with "
                 << it->second;
        return success();
      }
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToEnd(module.getBody());
      b.setLoc(op->getLoc());
      emit(key);
      return success();
    };
    auto width = [](Value v) {
      return cast<RankedTensorType>(v.getType()).getShape()[1];
    };
    auto str = [](double v) {
      char text[32];
      snprintf(text, sizeof text, "%.9g", v);
      return std::string(text);
    };
    for (func::FuncOp graph : graphs) {
      WalkResult r = graph.walk([&](Operation *op) -> WalkResult {
        if (auto n = dyn_cast<RMSNormOp>(op)) {
          int64_t D = width(n.getInput());
          float eps = n.getEpsilon().convertToFloat();
          return once(op, ::qc::abi::rmsNormKey(D), "epsilon " + str(eps),
                      [&](StringRef key) { kb.rmsNorm(key, D, eps); });
        }
        if (auto p = dyn_cast<RopeOp>(op)) {
          int64_t W = width(p.getInput()), hd = p.getHeadDim();
          float theta = p.getTheta().convertToFloat(),
                scale = p.getFreqScale().convertToFloat();
          if (failed(once(op, ::qc::abi::ropeTableKey(hd),
                          "theta " + str(theta) + ", freq_scale " + str(scale),
                          [&](StringRef key) { kb.ropeTable(key, hd, theta, scale); })))
            return WalkResult::interrupt();
          std::string key = ::qc::abi::ropeKey(W, hd, p.getNeox());
          return once(op, key, "",
                      [&](StringRef key) { kb.rope(key, W, hd, p.getNeox()); });
        }
        if (auto a = dyn_cast<AttentionOp>(op)) {
          auto cache = cast<KVCacheType>(a.getCache().getType());
          Type element = kvOverride ? kvOverride : cache.getElementType();
          int64_t H = a.getHeads(), KVH = cache.getKvHeads(),
                  hd = cache.getHeadDim();
          float scale = a.getScale() ? a.getScale()->convertToFloat()
                                     : 1.0f / std::sqrt(float(hd));
          std::string type = cacheTypeName(element);
          if (failed(once(op, ::qc::abi::kvStoreKey(KVH * hd, type), "",
                          [&](StringRef key) { kb.kvStore(key, KVH * hd, hd, element); })))
            return WalkResult::interrupt();
          return once(op,
                      ::qc::abi::attentionKey(H, KVH, hd, type),
                      "scale " + str(scale),
                      [&](StringRef key) {
                        kb.attention(key, H, KVH, hd, element, scale);
                      });
        }
        if (auto s = dyn_cast<SiluOp>(op)) {
          if (!s->hasOneUse() || !isa<arith::MulFOp>(*s->getUsers().begin()))
            return op->emitError(
                "qc-lower-graph-ops: qc.silu must feed one arith.mulf (SwiGLU)");
          return once(op, ::qc::abi::swigluKey(), "", [&](StringRef key) {
            // g / (1 + exp(-g)) * u, as the reference computes it.
            kb.elementwise(key, [](OpBuilder &nb, Location loc, Value g, Value u) {
              Value one = arith::ConstantFloatOp::create(nb, loc, nb.getF32Type(), APFloat(1.0f));
              Value e = math::ExpOp::create(nb, loc, arith::NegFOp::create(nb, loc, g));
              Value s = arith::DivFOp::create(nb, loc, g, arith::AddFOp::create(nb, loc, one, e));
              return arith::MulFOp::create(nb, loc, s, u).getResult();
            });
          });
        }
        if (isa<arith::AddFOp>(op) && isa<RankedTensorType>(op->getResult(0).getType()))
          return once(op, ::qc::abi::addKey(), "", [&](StringRef key) {
            kb.elementwise(key, [](OpBuilder &nb, Location loc, Value x, Value o) {
              return arith::AddFOp::create(nb, loc, x, o).getResult();
            });
          });
        if (isa<GeluOp, SoftmaxOp>(op))
          return op->emitError("qc-lower-graph-ops: ")
                 << op->getName() << " has no CPU lowering yet";
        return WalkResult::advance();
      });
      if (r.wasInterrupted())
        return signalPassFailure();
    }
    // exp by polynomial (vectorisable); cos and sin stay calls to libm. Only
    // in the new kernels: the graph is left as it was.
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(
        patterns, [](StringRef name) { return name == math::ExpOp::getOperationName(); });
    FrozenRewritePatternSet frozen(std::move(patterns));
    for (func::FuncOp f : kb.kernels())
      if (failed(applyPatternsGreedily(f, frozen)))
        return signalPassFailure();
  }
};

} // namespace
