//===- ModelToIR.cpp - Build the qc module of a model ---------------------===//
#include "qc/Import/ModelToIR.h"
#include "qc/Import/ImportModel.h"
#include "dialects/QC/IR/QCDialect.h"
#include "qc/Model/Archive.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace qc {

namespace {

class ModuleBuilder {
public:
  ModuleBuilder(MLIRContext &ctx, const model::Model &m)
      : ctx(ctx), m(m), c(m.config), b(&ctx), loc(UnknownLoc::get(&ctx)) {}

  OwningOpRef<ModuleOp> build(const std::string &weightsPath) {
    OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
    module->getOperation()->setAttr("qc.weights", b.getStringAttr(weightsPath));
    module->getOperation()->setAttr("qc.model", modelAttr());
    b.setInsertionPointToEnd(module->getBody());

    Type f32 = b.getF32Type();
    int64_t dyn = ShapedType::kDynamic;
    auto cache = mlir::qc::KVCacheType::get(&ctx, c.context, c.kvHeads,
                                            c.headDim(), b.getF16Type());
    SmallVector<Type> inputs{RankedTensorType::get({dyn}, b.getI32Type()),
                             b.getIndexType()};
    SmallVector<Type> results{RankedTensorType::get({dyn, c.vocab}, f32)};
    for (int64_t l = 0; l < c.layers; ++l) {
      inputs.push_back(cache);
      results.push_back(cache);
    }
    auto func = func::FuncOp::create(b, loc, "forward",
                                     b.getFunctionType(inputs, results));
    Block *entry = func.addEntryBlock();
    b.setInsertionPointToStart(entry);
    Value tokens = entry->getArgument(0), pos = entry->getArgument(1);

    auto act = [&](int64_t width) {
      return RankedTensorType::get({dyn, width}, f32);
    };
    Value embedding = param("token_embd.weight");
    Value h = mlir::qc::EmbeddingOp::create(b, loc, act(c.dim), embedding,
                                            tokens);
    SmallVector<Value> outs{Value()};
    FloatAttr eps = b.getF32FloatAttr(c.normEps);
    for (int64_t l = 0; l < c.layers; ++l) {
      std::string p = "blk." + std::to_string(l) + ".";
      layerLoc = NameLoc::get(b.getStringAttr("blk." + std::to_string(l)));
      Value x = mlir::qc::RMSNormOp::create(b, layerLoc, act(c.dim), h,
                                            param(p + "attn_norm.weight"), eps);
      Value q = linear(x, p + "attn_q", c.dim);
      Value k = linear(x, p + "attn_k", c.kvDim());
      Value v = linear(x, p + "attn_v", c.kvDim());
      q = rope(q, pos);
      k = rope(k, pos);
      auto attn = mlir::qc::AttentionOp::create(
          b, layerLoc, TypeRange{act(c.dim), cache}, q, k, v,
          entry->getArgument(2 + l), pos, b.getI64IntegerAttr(c.heads),
          FloatAttr());
      outs.push_back(attn.getUpdatedCache());
      Value o = linear(attn.getResult(), p + "attn_output", c.dim);
      h = arith::AddFOp::create(b, layerLoc, h, o);
      x = mlir::qc::RMSNormOp::create(b, layerLoc, act(c.dim), h,
                                      param(p + "ffn_norm.weight"), eps);
      Value gate = linear(x, p + "ffn_gate", c.hidden);
      Value up = linear(x, p + "ffn_up", c.hidden);
      Value act1 = mlir::qc::SiluOp::create(b, layerLoc, gate);
      Value gated = arith::MulFOp::create(b, layerLoc, act1, up);
      h = arith::AddFOp::create(b, layerLoc, h,
                                linear(gated, p + "ffn_down", c.dim));
    }
    layerLoc = loc;
    Value norm = mlir::qc::RMSNormOp::create(b, loc, act(c.dim), h,
                                             param("output_norm.weight"), eps);
    Value head = c.tiedOutput ? embedding : param("output.weight");
    outs[0] = mlir::qc::LogitsOp::create(b, loc, act(c.vocab), norm, head);
    func::ReturnOp::create(b, loc, outs);
    return module;
  }

private:
  DictionaryAttr modelAttr() {
    SmallVector<NamedAttribute> a;
    auto i64 = [&](const char *k, int64_t v) {
      a.push_back(b.getNamedAttr(k, b.getI64IntegerAttr(v)));
    };
    auto f32 = [&](const char *k, float v) {
      a.push_back(b.getNamedAttr(k, b.getF32FloatAttr(v)));
    };
    a.push_back(b.getNamedAttr("arch", b.getStringAttr(c.arch)));
    i64("dim", c.dim);
    i64("hidden", c.hidden);
    i64("layers", c.layers);
    i64("heads", c.heads);
    i64("kv_heads", c.kvHeads);
    i64("vocab", c.vocab);
    i64("context", c.context);
    f32("norm_eps", c.normEps);
    f32("rope_theta", c.ropeTheta);
    f32("rope_freq_scale", c.ropeFreqScale);
    a.push_back(b.getNamedAttr("tied_output", b.getBoolAttr(c.tiedOutput)));
    return b.getDictionaryAttr(a);
  }

  Type storedType(const model::Tensor &t) {
    if (t.format == "F32")
      return RankedTensorType::get(t.shape, b.getF32Type());
    if (t.format == "F16")
      return RankedTensorType::get(t.shape, b.getF16Type());
    if (t.format == "BF16")
      return RankedTensorType::get(t.shape, b.getBF16Type());
    return mlir::qc::QTensorType::get(&ctx, t.shape,
                                      mlir::qc::getFormatAttr(&ctx, t.format));
  }

  Value param(const std::string &name) {
    const model::Tensor &t = m.tensor(name);
    return mlir::qc::ParamOp::create(b, layerLoc, storedType(t),
                                     b.getStringAttr(name));
  }

  Value linear(Value x, const std::string &name, int64_t out) {
    Value bias;
    if (m.has(name + ".bias"))
      bias = param(name + ".bias");
    auto type = RankedTensorType::get({ShapedType::kDynamic, out},
                                      b.getF32Type());
    return mlir::qc::LinearOp::create(b, layerLoc, type, x,
                                      param(name + ".weight"), bias);
  }

  Value rope(Value x, Value pos) {
    auto op = mlir::qc::RopeOp::create(
        b, layerLoc, x.getType(), x, pos, b.getI64IntegerAttr(c.headDim()),
        b.getF32FloatAttr(c.ropeTheta), b.getF32FloatAttr(c.ropeFreqScale),
        c.ropeNeox ? b.getUnitAttr() : UnitAttr());
    return op.getResult();
  }

  MLIRContext &ctx;
  const model::Model &m;
  const model::Config &c;
  OpBuilder b;
  Location loc;
  Location layerLoc = UnknownLoc::get(&ctx);
};

} // namespace

OwningOpRef<ModuleOp> buildModule(MLIRContext &context, const model::Model &m,
                                  const std::string &weightsPath) {
  context.loadDialect<mlir::qc::QCDialect, func::FuncDialect,
                      arith::ArithDialect>();
  return ModuleBuilder(context, m).build(weightsPath);
}

std::string defaultWeightsPath(const std::string &mlirPath) {
  std::string base = mlirPath;
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".mlir") == 0)
    base.resize(base.size() - 5);
  return base + ".safetensors";
}

model::Model importModel(const std::string &modelPath,
                         const std::string &tokenizerPath,
                         const std::string &mlirPath, std::string weightsPath) {
  if (weightsPath.empty())
    weightsPath = defaultWeightsPath(mlirPath);
  // Mapped: the archive is written tensor by tensor from the source file.
  model::Model m = model::readModel(modelPath, tokenizerPath,
                                    /*mapWeights=*/true);
  model::writeArchive(m, weightsPath);
  mlir::MLIRContext context;
  // The IR names the archive relative to the .mlir file when they sit
  // side by side, so the pair can be moved together.
  std::string ref = weightsPath;
  size_t slash = mlirPath.rfind('/');
  std::string dir =
      slash == std::string::npos ? "" : mlirPath.substr(0, slash + 1);
  if (!dir.empty() && ref.compare(0, dir.size(), dir) == 0)
    ref = ref.substr(dir.size());
  auto module = buildModule(context, m, ref);
  if (failed(mlir::verify(*module)))
    throw model::FormatError("the module built from " + modelPath +
                             " does not verify");
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  if (mlirPath == "-")
    std::fwrite(text.data(), 1, text.size(), stdout);
  else
    model::writeFileAtomically(mlirPath, text);
  return m;
}

} // namespace qc
