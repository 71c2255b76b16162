//===- QCAttrs.cpp - Format attributes ------------------------------------===//
#include "dialects/QC/IR/QCDialect.h"
#include "qc/Formats/GGML.h"
#include "qc/Formats/Registry.h"

using namespace mlir;
using namespace mlir::qc;
namespace fmt = ::qc::formats;

static FailureOr<fmt::ScaleType> scaleTypeOf(Type type) {
  if (type.isF16())
    return fmt::ScaleType::F16;
  if (type.isBF16())
    return fmt::ScaleType::BF16;
  if (type.isF32())
    return fmt::ScaleType::F32;
  return failure();
}

fmt::UniformParams UniformFormatAttr::getParams() const {
  return {int(getBits()), int(getGroup()), getSymmetric(),
          *scaleTypeOf(getScale())};
}

LogicalResult
UniformFormatAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                          unsigned bits, unsigned group, bool symmetric,
                          Type scale) {
  FailureOr<fmt::ScaleType> scaleType = scaleTypeOf(scale);
  if (failed(scaleType))
    return emitError() << "uniform format scale must be f16, bf16 or f32, got "
                       << scale;
  std::string why = fmt::checkUniformParams(
      {int(bits), int(group), symmetric, *scaleType});
  if (!why.empty())
    return emitError() << "uniform format " << why;
  return success();
}

std::unique_ptr<fmt::Codec> UniformFormatAttr::getCodec() const {
  return fmt::makeUniformCodec(getParams());
}

fmt::TernaryParams TernaryFormatAttr::getParams() const {
  return {int(getDepth()), int(getGroup()), int(getScales())};
}

LogicalResult
TernaryFormatAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                          unsigned depth, unsigned group, unsigned scales) {
  std::string why =
      fmt::checkTernaryParams({int(depth), int(group), int(scales)});
  if (!why.empty())
    return emitError() << "ternary format " << why;
  return success();
}

std::unique_ptr<fmt::Codec> TernaryFormatAttr::getCodec() const {
  return fmt::makeTernaryCodec(getParams());
}

LogicalResult
GGUFFormatAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       StringRef type) {
  auto info = fmt::ggmlTypeByName(type);
  if (!info)
    return emitError() << "'" << type << "' is not a ggml tensor type";
  if (!info->canDequantize)
    return emitError() << "ggml type " << type
                       << " has no qc codec (supported: "
                       << fmt::ggmlTypesWithCodecs() << ")";
  return success();
}

std::unique_ptr<fmt::Codec> GGUFFormatAttr::getCodec() const {
  return fmt::makeGGMLCodec(fmt::ggmlTypeByName(getType())->type);
}

LogicalResult
RegisteredFormatAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                             StringRef name) {
  std::string why;
  if (!fmt::makeCodec(name.str(), why))
    return emitError() << why;
  return success();
}

std::unique_ptr<fmt::Codec> RegisteredFormatAttr::getCodec() const {
  return fmt::makeCodec(getName().str());
}

QuantFormatAttrInterface mlir::qc::getFormatAttr(MLIRContext *context,
                                                 const std::string &name) {
  std::optional<fmt::FormatName> f = fmt::parseFormatName(name);
  if (!f)
    return {};
  Builder b(context);
  switch (f->kind) {
  case fmt::FormatName::GGML:
    return cast<QuantFormatAttrInterface>(GGUFFormatAttr::get(context, f->ggml));
  case fmt::FormatName::Registered:
    return cast<QuantFormatAttrInterface>(
        RegisteredFormatAttr::get(context, f->registered));
  case fmt::FormatName::Ternary:
    return cast<QuantFormatAttrInterface>(TernaryFormatAttr::get(
        context, f->ternary.depth, f->ternary.group, f->ternary.scales));
  case fmt::FormatName::Uniform: {
    Type scale = f->uniform.scale == fmt::ScaleType::F16    ? b.getF16Type()
                 : f->uniform.scale == fmt::ScaleType::BF16 ? b.getBF16Type()
                                                            : b.getF32Type();
    return cast<QuantFormatAttrInterface>(UniformFormatAttr::get(
        context, f->uniform.bits, f->uniform.group, f->uniform.symmetric,
        scale));
  }
  }
  return {};
}

LogicalResult StatsAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                StringRef file, StringRef key) {
  if (file.empty() || key.empty())
    return emitError() << "statistics reference needs a file and a key";
  return success();
}
