//===- Registry.h - Every number format, by name ----------------*- C++ -*-===//
//
// The one list of formats. A family ("Q4_K", "uniform", "nf4", ...) maps the
// text of a format name to a codec: "nf4" or "uniform<4,32,sym,f16>" (the
// part inside <...> goes to the family's factory). Codec files register
// their families at static-initialisation time (the libraries are linked
// whole, so a format needs no line anywhere else):
//
//   static const qc::formats::FormatRegistration nf4{{"nf4", "...", make}};
//
//===----------------------------------------------------------------------===//
#ifndef QC_FORMATS_REGISTRY_H
#define QC_FORMATS_REGISTRY_H

#include "qc/Formats/Codec.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace qc::formats {

struct FormatFamily {
  std::string name;
  /// One line for listings: what the format is and its parameters.
  std::string summary;
  /// The codec for `params` (the text inside <...>; empty when the name has
  /// none), or null with the reason in `why`.
  std::function<std::unique_ptr<Codec>(const std::string &params, std::string &why)>
      make;
};

/// Adds a family; a name already registered keeps its first family (a
/// library loaded twice registers twice).
void registerFormat(FormatFamily family);
/// Every registered family, by name.
std::vector<FormatFamily> formatFamilies();

struct FormatRegistration {
  explicit FormatRegistration(FormatFamily family) {
    registerFormat(std::move(family));
  }
};

/// The codec of a format name ("Q4_K", "nf4", "uniform<4,32,sym,f16>"), or
/// null with the reason in `why`.
std::unique_ptr<Codec> makeCodec(const std::string &name, std::string &why);

} // namespace qc::formats

#endif // QC_FORMATS_REGISTRY_H
