//===- WeightArchive.cpp --------------------------------------------------===//
#include "dialects/QC/Transforms/WeightArchive.h"

#include "llvm/ADT/SetVector.h"

#include <fstream>
#include <sstream>
#include <unistd.h>

namespace mlir::qc {

static std::string moduleDirectory(ModuleOp module) {
  auto loc = dyn_cast<FileLineColLoc>(module.getLoc());
  if (!loc)
    return "";
  std::string file = loc.getFilename().str();
  size_t slash = file.rfind('/');
  return slash == std::string::npos ? "" : file.substr(0, slash + 1);
}

std::string resolveAgainstModule(ModuleOp module, const std::string &ref) {
  return !ref.empty() && ref[0] != '/' ? moduleDirectory(module) + ref : ref;
}

FailureOr<std::string> resolveWeightsPath(ModuleOp module) {
  auto attr = module->getAttrOfType<StringAttr>("qc.weights");
  if (!attr)
    return module.emitError("module has no qc.weights attribute naming its "
                            "weights archive (quant-import writes one)");
  return resolveAgainstModule(module, attr.str());
}

std::string relativeToModule(ModuleOp module, const std::string &path) {
  std::string dir = moduleDirectory(module);
  if (!dir.empty() && path.compare(0, dir.size(), dir) == 0)
    return path.substr(dir.size());
  // Read from stdin or a bare file name: keep an absolute path so the
  // reference survives the module being printed elsewhere.
  if (!path.empty() && path[0] != '/') {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd))
      return std::string(cwd) + "/" + path;
  }
  return path;
}

FailureOr<std::string> readOptionFile(ModuleOp module, StringRef what,
                                      const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return module.emitError("cannot open ") << what << " '" << path << "'";
  std::stringstream bytes;
  bytes << f.rdbuf();
  return bytes.str();
}

FailureOr<::qc::model::Model> loadWeights(ModuleOp module) {
  FailureOr<std::string> path = resolveWeightsPath(module);
  if (failed(path))
    return failure();
  try {
    // Mapped: a pass walks the weights tensor by tensor, never all at once.
    return ::qc::model::readModel(*path, "", /*mapWeights=*/true);
  } catch (const std::exception &e) {
    return module.emitError("cannot read the weights archive: ")
           << e.what()
           << " (relative qc.weights paths resolve against the directory of "
              "the .mlir file read)";
  }
}

SmallVector<ParamOp> matrixParams(ModuleOp module) {
  llvm::SetVector<Operation *> found;
  auto add = [&](Value v) {
    if (auto p = v.getDefiningOp<ParamOp>())
      found.insert(p);
  };
  module.walk([&](Operation *op) {
    if (auto l = dyn_cast<LinearOp>(op))
      add(l.getWeight());
    else if (auto l = dyn_cast<LogitsOp>(op))
      add(l.getWeight());
    else if (auto e = dyn_cast<EmbeddingOp>(op))
      add(e.getTable());
  });
  SmallVector<ParamOp> out;
  for (Operation *op : found)
    out.push_back(cast<ParamOp>(op));
  return out;
}

void pointWeightsAt(ModuleOp module, const std::string &path) {
  module->setAttr("qc.weights",
                  StringAttr::get(module.getContext(),
                                  relativeToModule(module, path)));
}

} // namespace mlir::qc
