//===- RunPipeline.h - quant-opt's work on one file, in-process -*- C++ -*-===//
//
// Plain C++ types only, for callers without MLIR headers (the Python
// package).
//
//===----------------------------------------------------------------------===//
#ifndef QC_PIPELINES_RUNPIPELINE_H
#define QC_PIPELINES_RUNPIPELINE_H

#include <string>
#include <vector>

namespace qc {

/// Parses the module in `inputMlir`, runs `pipeline` on it (quant-opt's
/// textual form without the anchor, e.g. "qc-quantize-pipeline{target-bpw=4
/// calib=t.txt}"; every qc pass and pipeline is known) and writes the
/// result to `outputMlir`, complete or not at all. Returns an empty string
/// or the error; MLIR's diagnostics go to `diagnostics` ("LOCATION: error:
/// MESSAGE") when given, else to stderr.
std::string runPipelineOnFile(const std::string &inputMlir,
                              const std::string &pipeline,
                              const std::string &outputMlir,
                              std::vector<std::string> *diagnostics = nullptr);

} // namespace qc

#endif // QC_PIPELINES_RUNPIPELINE_H
