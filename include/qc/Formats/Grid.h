//===- Grid.h - Codecs for non-uniform 4-bit grids --------------*- C++ -*-===//
//
// A building block for research formats: each weight is s * values[code]
// with 16 grid values (4-bit codes) and one scale s per group, stored as f16
// or as an e8m0 power of two. A group is [scale][group / 2 bytes: weights
// 0..group/2-1 in the low nibbles, the rest in the high ones], the layout
// the kernels read fastest. A format built on it is its grid and a
// registration (see lib/Formats/NF4.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef QC_FORMATS_GRID_H
#define QC_FORMATS_GRID_H

#include "qc/Formats/Codec.h"

#include <array>
#include <memory>
#include <string>

namespace qc::formats {

struct GridParams {
  std::string name;            // as Codec::name() returns it
  int group = 32;              // weights per scale, even, 16..256
  std::array<float, 16> values{}; // the grid, any order, max |value| 1 or more
  Scalar scale = Scalar::F16;  // F16 or E8M0
};

/// Empty when the parameters describe a storable grid format, else why.
std::string checkGridParams(const GridParams &params);
/// Quantization searches each group's scale for the least (importance-
/// weighted) squared error and rounds every weight to its nearest grid
/// value; GPTQ drives the same rounding.
std::unique_ptr<Codec> makeGridCodec(const GridParams &params);
/// A grid family's factory (Registry.h): `params` is empty (the default
/// group, named `defaults.name`) or another group size (named
/// "name<group>"); null with the reason in `why`.
std::unique_ptr<Codec> makeGridFamilyCodec(const GridParams &defaults,
                                           const std::string &params, std::string &why);

} // namespace qc::formats

#endif // QC_FORMATS_GRID_H
