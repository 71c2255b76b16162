//===- ABITypes.h - Kernel argument lists as MLIR types ---------*- C++ -*-===//
#ifndef QC_LIB_CONVERSION_QCTOCPU_ABITYPES_H
#define QC_LIB_CONVERSION_QCTOCPU_ABITYPES_H

#include "qc/KernelABI.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mlir::qc {

/// The function argument types of a kernel of `K` (qc/KernelABI.h): flat
/// memrefs of each element type (`cache` for KV caches), then indices.
template <typename K>
SmallVector<Type> abiTypes(Builder &b, Type cache = {}) {
  SmallVector<Type> types;
  auto flat = [](Type e) { return MemRefType::get({ShapedType::kDynamic}, e); };
  for (::qc::abi::Arg a : K::args) {
    switch (a) {
    case ::qc::abi::Arg::Bytes:
    case ::qc::abi::Arg::I8In:
    case ::qc::abi::Arg::I8: types.push_back(flat(b.getI8Type())); break;
    case ::qc::abi::Arg::F32In:
    case ::qc::abi::Arg::F32: types.push_back(flat(b.getF32Type())); break;
    case ::qc::abi::Arg::I32In:
    case ::qc::abi::Arg::I32: types.push_back(flat(b.getI32Type())); break;
    case ::qc::abi::Arg::Cache: types.push_back(flat(cache)); break;
    case ::qc::abi::Arg::Index: types.push_back(b.getIndexType()); break;
    }
  }
  return types;
}

} // namespace mlir::qc

#endif // QC_LIB_CONVERSION_QCTOCPU_ABITYPES_H
