//===- FP4.cpp - e2m1 microscaling FP4 --------------------------------------===//
//
// OCP microscaling FP4: each weight an e2m1 float (0, 0.5, 1, 1.5, 2, 3, 4,
// 6 and their negatives), a shared e8m0 power-of-two scale per 32 weights
// (4.25 bits per weight). Unlike ggml's MXFP4, which takes the exponent
// from the block maximum, qc searches the neighbouring exponents for the
// least (importance-weighted) error. "fp4", or "fp4<G>".
//
//===----------------------------------------------------------------------===//
#include "qc/Formats/Grid.h"
#include "qc/Formats/Registry.h"

namespace qc::formats {
namespace {

const std::array<float, 16> kE2M1 = {0.0f,  0.5f,  1.0f,  1.5f,  2.0f,  3.0f,
                                     4.0f,  6.0f,  -0.0f, -0.5f, -1.0f, -1.5f,
                                     -2.0f, -3.0f, -4.0f, -6.0f};

const FormatRegistration kRegisterFP4{
    {"fp4", "fp4[<group>]: e2m1 values, an e8m0 scale per 32 (or group)",
     [](const std::string &params, std::string &why) {
       return makeGridFamilyCodec({"fp4", 32, kE2M1, Scalar::E8M0}, params, why);
     }}};

} // namespace
} // namespace qc::formats
