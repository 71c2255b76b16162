//===- GGML.h - llama.cpp (ggml) tensor types -------------------*- C++ -*-===//
//
// Block layouts and type ids of ggml, bit-exact, so a GGUF file round-trips
// through qc and llama.cpp reads what qc writes.
//
//===----------------------------------------------------------------------===//
#ifndef QC_FORMATS_GGML_H
#define QC_FORMATS_GGML_H

#include "qc/Formats/Codec.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace qc::formats {

/// ggml_type ids as stored in GGUF files.
enum class GGMLType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8,
  Q8_1 = 9, Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20,
  IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27,
  F64 = 28, IQ1_M = 29, BF16 = 30, MXFP4 = 39,
};

struct GGMLTypeInfo {
  GGMLType type;
  const char *name;
  int64_t blockSize;  // weights per block
  int64_t blockBytes; // bytes per block
  bool canDequantize; // qc reads it
  bool canQuantize;   // qc writes it
};

/// Layout facts of a type id, or nullopt when the id is not a ggml type.
std::optional<GGMLTypeInfo> ggmlTypeInfo(uint32_t id);
/// Looks a type up by its llama.cpp name ("Q4_K", "F16", ...).
std::optional<GGMLTypeInfo> ggmlTypeByName(std::string_view name);
/// The names of the types qc has a codec for, comma separated, in id order.
std::string ggmlTypesWithCodecs();
/// The codec of a type, or null when qc has none for it.
std::unique_ptr<Codec> makeGGMLCodec(GGMLType type);

} // namespace qc::formats

#endif // QC_FORMATS_GGML_H
