//===- GGMLLayout.h - ggml block layouts (internal) -------------*- C++ -*-===//
#ifndef QC_LIB_FORMATS_GGMLLAYOUT_H
#define QC_LIB_FORMATS_GGMLLAYOUT_H

#include "qc/Formats/GGML.h"
#include "qc/Formats/Layout.h"

namespace qc::formats {

/// The layout of a ggml type qc decodes (an empty Float layout otherwise).
Layout ggmlLayout(GGMLType type);

} // namespace qc::formats

#endif // QC_LIB_FORMATS_GGMLLAYOUT_H
