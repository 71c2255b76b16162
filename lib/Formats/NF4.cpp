//===- NF4.cpp - NormalFloat4: a 16-level normal-quantile grid ------------===//
//
// QLoRA's NF4 (Dettmers et al. 2023): grid values at quantiles of a normal
// distribution, exact 0 and both ends at -1 and 1, one f16 absmax-style
// scale per 64 weights (4.25 bits per weight). "nf4", or "nf4<G>" for
// another group size.
//
//===----------------------------------------------------------------------===//
#include "qc/Formats/Grid.h"
#include "qc/Formats/Registry.h"

namespace qc::formats {
namespace {

const std::array<float, 16> kNF4 = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
    -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
    0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f,
    0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f,
    0.7229568362236023f, 1.0f};

const FormatRegistration kRegisterNF4{
    {"nf4", "nf4[<group>]: NormalFloat4 grid, an f16 scale per 64 (or group)",
     [](const std::string &params, std::string &why) {
       return makeGridFamilyCodec({"nf4", 64, kNF4, Scalar::F16}, params, why);
     }}};

} // namespace
} // namespace qc::formats
