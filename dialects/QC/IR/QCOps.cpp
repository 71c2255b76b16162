//===- QCOps.cpp - qc op verifiers ----------------------------------------===//
#include "dialects/QC/IR/QCDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::qc;

#define GET_OP_CLASSES
#include "dialects/QC/IR/QCOps.cpp.inc"

/// True when two extents may be equal (either is dynamic, or they match).
static bool compatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

static std::string dim(int64_t d) {
  return ShapedType::isDynamic(d) ? "?" : std::to_string(d);
}

/// Checks that a [tokens x in] input, an [out x in] weight and a
/// [tokens x out] result agree.
static LogicalResult verifyProjection(Operation *op, Type input, Type weight,
                                      Type result) {
  ArrayRef<int64_t> x = cast<RankedTensorType>(input).getShape();
  ArrayRef<int64_t> w = getLogicalShape(weight);
  ArrayRef<int64_t> y = cast<RankedTensorType>(result).getShape();
  if (w.size() != 2)
    return op->emitOpError("weight must be 2-D [out, in], got rank ")
           << w.size();
  if (!compatible(w[1], x[1]))
    return op->emitOpError("weight input dimension (")
           << dim(w[1]) << ") must equal the input's last dimension ("
           << dim(x[1]) << ")";
  if (!compatible(y[0], x[0]) || !compatible(y[1], w[0]))
    return op->emitOpError("result must be [tokens x out] = [")
           << dim(x[0]) << " x " << dim(w[0]) << "], got [" << dim(y[0])
           << " x " << dim(y[1]) << "]";
  return success();
}

LogicalResult ParamOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty tensor name");
  ArrayRef<int64_t> shape = getLogicalShape(getType());
  if (llvm::any_of(shape, ShapedType::isDynamic))
    return emitOpError("weights have static shapes; got a dynamic extent");
  return success();
}

LogicalResult EmbeddingOp::verify() {
  ArrayRef<int64_t> table = getLogicalShape(getTable().getType());
  ArrayRef<int64_t> y = getType().getShape();
  if (table.size() != 2)
    return emitOpError("table must be 2-D [vocab, dim], got rank ")
           << table.size();
  int64_t tokens = getIds().getType().getShape()[0];
  if (!compatible(y[0], tokens) || !compatible(y[1], table[1]))
    return emitOpError("result must be [tokens x dim] = [")
           << dim(tokens) << " x " << dim(table[1]) << "]";
  return success();
}

LogicalResult RMSNormOp::verify() {
  int64_t width = getInput().getType().getShape()[1];
  if (!compatible(getWeight().getType().getShape()[0], width))
    return emitOpError("weight length (")
           << dim(getWeight().getType().getShape()[0])
           << ") must equal the input's last dimension (" << dim(width) << ")";
  if (getInput().getType() != getType())
    return emitOpError("result type must equal the input type");
  if (!(getEpsilon().convertToFloat() > 0.0f))
    return emitOpError("epsilon must be positive");
  return success();
}

LogicalResult RopeOp::verify() {
  int64_t headDim = getHeadDim();
  int64_t width = getInput().getType().getShape()[1];
  if (headDim <= 0 || headDim % 2 != 0)
    return emitOpError("head_dim must be positive and even, got ") << headDim;
  if (!ShapedType::isDynamic(width) && width % headDim != 0)
    return emitOpError("row width (")
           << width << ") must be a multiple of head_dim (" << headDim << ")";
  if (!(getTheta().convertToFloat() > 0.0f))
    return emitOpError("theta must be positive");
  return success();
}

LogicalResult AttentionOp::verify() {
  KVCacheType cache = getCache().getType();
  int64_t heads = getHeads(), kvHeads = cache.getKvHeads();
  int64_t headDim = cache.getHeadDim();
  if (heads <= 0 || heads % kvHeads != 0)
    return emitOpError("heads (")
           << heads << ") must be a positive multiple of the cache's kv_heads ("
           << kvHeads << ")";
  ArrayRef<int64_t> q = getQuery().getType().getShape();
  ArrayRef<int64_t> k = getKey().getType().getShape();
  ArrayRef<int64_t> v = getValue().getType().getShape();
  if (!compatible(q[1], heads * headDim))
    return emitOpError("query width (")
           << dim(q[1]) << ") must be heads x head_dim = " << heads * headDim;
  if (!compatible(k[1], kvHeads * headDim) ||
      !compatible(v[1], kvHeads * headDim))
    return emitOpError("key and value width must be kv_heads x head_dim = ")
           << kvHeads * headDim;
  if (!compatible(q[0], k[0]) || !compatible(q[0], v[0]))
    return emitOpError("query, key and value must have the same token count");
  if (getType(0) != getQuery().getType())
    return emitOpError("result type must equal the query type");
  if (getUpdatedCache().getType() != cache)
    return emitOpError("updated cache type must equal the cache type");
  return success();
}

LogicalResult LinearOp::verify() {
  if (failed(verifyProjection(*this, getInput().getType(),
                              getWeight().getType(), getType())))
    return failure();
  if (getBias() &&
      !compatible(getBias().getType().getShape()[0],
                  getLogicalShape(getWeight().getType())[0]))
    return emitOpError("bias length must equal the weight's out dimension (")
           << getLogicalShape(getWeight().getType())[0] << ")";
  return success();
}

LogicalResult LogitsOp::verify() {
  return verifyProjection(*this, getInput().getType(), getWeight().getType(),
                          getType());
}

/// Float tensor and quantized tensor must describe the same shape.
static LogicalResult verifySameShape(Operation *op, RankedTensorType tensor,
                                     QTensorType quantized) {
  if (tensor.getShape() != quantized.getShape())
    return op->emitOpError("float and quantized shapes must match");
  return success();
}

LogicalResult QuantizeOp::verify() {
  return verifySameShape(*this, getInput().getType(), getType());
}

LogicalResult DequantizeOp::verify() {
  return verifySameShape(*this, getType(), getInput().getType());
}

/// The byte tensor must hold exactly the packed size of the quantized type.
static LogicalResult verifyByteCount(Operation *op, RankedTensorType bytes,
                                     QTensorType quantized) {
  int64_t expected = quantized.getPackedBytes();
  if (bytes.getShape()[0] != expected)
    return op->emitOpError("byte tensor must hold the packed size of ")
           << quantized << ": " << expected << " bytes, got "
           << dim(bytes.getShape()[0]);
  return success();
}

LogicalResult PackOp::verify() {
  return verifyByteCount(*this, getType(), getInput().getType());
}

LogicalResult UnpackOp::verify() {
  return verifyByteCount(*this, getInput().getType(), getType());
}
