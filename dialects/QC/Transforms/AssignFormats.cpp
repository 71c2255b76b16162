//===- AssignFormats.cpp - qc-assign-formats ------------------------------===//
#include "dialects/QC/Transforms/Passes.h"
#include "dialects/QC/Transforms/Statistics.h"
#include "qc/Analysis/Allocation.h"
#include "qc/Analysis/Quantize.h"
#include "qc/Model/Json.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <fstream>
#include <set>
#include <sstream>

namespace mlir::qc {
#define GEN_PASS_DEF_QCASSIGNFORMATS
#include "dialects/QC/Transforms/Passes.h.inc"
} // namespace mlir::qc

using namespace mlir;
using namespace mlir::qc;
namespace model = ::qc::model;

namespace {

/// Formats the budget chooses from when none are given: ternary, uniform
/// integer codes from 2 to 8 bits, and ggml types.
const char *const kDefaultCandidates[] = {
    "ternary<1,16,27>",      "ternary<2,16,27>",      "ternary<3,16,27>",
    "uniform<2,16,asym,f16>", "uniform<3,16,asym,f16>", "uniform<3,32,sym,f16>",
    "uniform<4,32,asym,f16>", "uniform<4,32,sym,f16>", "uniform<5,32,sym,f16>",
    "uniform<6,32,sym,f16>", "uniform<8,32,sym,f16>", "Q4_0",
    "Q8_0",                  "Q4_K",                  "Q6_K",
    "F16"};

bool globMatch(const std::string &pattern, const std::string &text) {
  size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == text[t] || pattern[p] == '?')) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

struct Row {
  ParamOp param;
  std::string format;
  double bits = 0, error = 0, norm = 0;
};

struct QCAssignFormatsPass
    : mlir::qc::impl::QCAssignFormatsBase<QCAssignFormatsPass> {
  using QCAssignFormatsBase::QCAssignFormatsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (recipe.empty() == (targetBpw <= 0)) {
      module.emitError("qc-assign-formats needs exactly one of recipe=FILE "
                       "and target-bpw=N");
      return signalPassFailure();
    }
    FailureOr<model::Model> m = loadWeights(module);
    if (failed(m))
      return signalPassFailure();
    StatisticsCache stats(module);
    SmallVector<Row> rows;
    for (ParamOp p : matrixParams(module))
      rows.push_back({p, "", 0, 0, 0});
    LogicalResult ok = recipe.empty() ? assignByBudget(*m, stats, rows)
                                      : assignByRecipe(*m, rows);
    if (failed(ok))
      return signalPassFailure();
    // Errors of the chosen formats, for the table (budget mode has them).
    for (Row &r : rows) {
      if (r.norm > 0 || !printTable)
        continue;
      FailureOr<std::vector<float>> imp = stats.importance(r.param);
      if (failed(imp))
        return signalPassFailure();
      measure(m->tensor(r.param.getName().str()), r, imp->empty() ? nullptr : imp->data());
    }
    for (Row &r : rows)
      r.param->setAttr("qc.format", getFormatAttr(&getContext(), r.format));
    if (printTable)
      print(rows);
  }

  static void measure(const model::Tensor &t, Row &r, const float *imp) {
    std::vector<float> w = t.toFloats();
    r.error = ::qc::weightedError(w, t.rows(), t.cols(), r.format, imp);
    r.bits = 8.0 * double(::qc::formats::makeCodec(r.format)->packedBytes(t.rows(), t.cols()));
    r.norm = 0;
    for (int64_t i = 0; i < int64_t(w.size()); ++i)
      r.norm += (imp ? imp[i % t.cols()] : 1.0) * double(w[i]) * w[i];
  }

  LogicalResult assignByRecipe(const model::Model &m, SmallVector<Row> &rows) {
    ModuleOp module = getOperation();
    std::ifstream f(recipe);
    if (!f)
      return module.emitError("cannot open recipe '") << recipe << "'";
    std::stringstream text;
    text << f.rdbuf();
    model::Json r;
    try {
      r = model::parseJson(text.str(), recipe);
    } catch (const std::exception &e) {
      return module.emitError("bad recipe: ") << e.what();
    }
    if (r.kind != model::Json::Object)
      return module.emitError("recipe ") << recipe << " must be a JSON object";
    for (const auto &[key, value] : r.fields)
      if (key != "default" && key != "layers" && key != "tensors" &&
          key != "token_embd" && key != "output")
        return module.emitError("recipe ")
               << recipe << ": unknown key '" << key
               << "' (default, layers, tensors, token_embd, output)";
    int layers = int(m.config.layers);
    std::map<int, std::string> perLayer;
    if (const model::Json *l = r.get("layers")) {
      for (const model::Json &e : l->items) {
        if (e.items.size() != 2 || e.items[0].kind != model::Json::Number ||
            e.items[1].kind != model::Json::String)
          return module.emitError("recipe ")
                 << recipe << ": layers entries are [index, \"format\"]";
        int layer = int(e.items[0].number);
        if (layer < 0 || layer >= layers)
          return module.emitError("recipe ")
                 << recipe << ": layer " << layer << " does not exist (the "
                 << "model has " << layers << ")";
        perLayer[layer] = e.items[1].text;
      }
    }
    std::vector<std::pair<std::string, std::string>> patterns;
    if (const model::Json *t = r.get("tensors"))
      for (const auto &[pattern, format] : t->fields)
        patterns.push_back({pattern, format.text});
    std::set<std::string> usedPatterns;
    auto str = [&](const char *k) {
      const model::Json *v = r.get(k);
      return v ? v->text : std::string();
    };
    for (Row &row : rows) {
      std::string name = row.param.getName().str();
      int layer = ::qc::layerOf(name);
      std::string entry;
      for (const auto &[pattern, format] : patterns)
        if (entry.empty() && globMatch(pattern, name)) {
          entry = format;
          usedPatterns.insert(pattern);
        }
      if (entry.empty() && name == "token_embd.weight")
        entry = str("token_embd");
      if (entry.empty() && name == "output.weight")
        entry = str("output");
      if (entry.empty() && perLayer.count(layer))
        entry = perLayer[layer];
      if (entry.empty())
        entry = str("default");
      if (entry.empty())
        return row.param.emitError("recipe ")
               << recipe << " gives no format for '" << name
               << "' (add \"default\")";
      std::string format = ::qc::mixFormat(entry, name, layer, layers);
      if (format.empty())
        format = entry;
      if (!::qc::formats::parseFormatName(format))
        return row.param.emitError("recipe ")
               << recipe << ": unknown format or mix '" << entry << "' for '"
               << name << "'";
      row.format = ::qc::fitFormat(format, m.tensor(name).cols());
    }
    for (const auto &[pattern, format] : patterns)
      if (!usedPatterns.count(pattern))
        return module.emitError("recipe ")
               << recipe << ": tensor pattern '" << pattern
               << "' matches no weight of the model";
    return success();
  }

  LogicalResult assignByBudget(const model::Model &m, StatisticsCache &stats,
                               SmallVector<Row> &rows) {
    std::vector<std::string> names;
    for (StringRef rest = candidates; !rest.empty();) {
      auto [head, tail] = rest.split(';');
      if (!head.trim().empty())
        names.push_back(head.trim().str());
      rest = tail;
    }
    if (names.empty())
      names.assign(std::begin(kDefaultCandidates), std::end(kDefaultCandidates));
    for (const std::string &n : names)
      if (!::qc::formats::parseFormatName(n))
        return getOperation().emitError("unknown candidate format '")
               << n << "'";
    std::vector<std::vector<::qc::Choice>> options;
    std::vector<std::vector<Row>> candidatesPerRow;
    double elements = 0;
    for (Row &row : rows) {
      const model::Tensor &t = m.tensor(row.param.getName().str());
      FailureOr<std::vector<float>> imp = stats.importance(row.param);
      if (failed(imp))
        return failure();
      elements += double(t.numElements());
      std::vector<::qc::Choice> choices;
      std::vector<Row> measured;
      for (const std::string &n : names) {
        Row r = row;
        r.format = n;
        if (::qc::fitFormat(n, t.cols()) != n)
          continue; // rows do not fit its blocks
        measure(t, r, imp->empty() ? nullptr : imp->data());
        if (r.error < 0)
          continue;
        choices.push_back({r.bits, r.error / std::max(r.norm, 1e-30)});
        measured.push_back(r);
      }
      if (choices.empty())
        return row.param.emitError("no candidate format can hold '")
               << row.param.getName() << "'";
      options.push_back(std::move(choices));
      candidatesPerRow.push_back(std::move(measured));
    }
    std::vector<int> chosen = ::qc::allocateBits(options, targetBpw * elements);
    for (size_t i = 0; i < rows.size(); ++i)
      rows[i] = candidatesPerRow[i][chosen[i]];
    return success();
  }

  void print(MutableArrayRef<Row> rows) {
    llvm::raw_ostream &os = llvm::errs();
    os << llvm::format("%-28s %-26s %6s %12s\n", "tensor", "format", "bpw",
                       "rel. error");
    double bits = 0, elements = 0;
    for (Row &r : rows) {
      auto shape = getLogicalShape(r.param.getType());
      double n = double(shape[0]) * double(shape.size() > 1 ? shape[1] : 1);
      bits += r.bits;
      elements += n;
      os << llvm::format("%-28s %-26s %6.3f %12.3e\n",
                         r.param.getName().str().c_str(), r.format.c_str(),
                         r.bits / n, r.error / std::max(r.norm, 1e-30));
    }
    os << llvm::format("total: %.0f weights, %.3f bits per weight\n", elements,
                       bits / std::max(elements, 1.0));
  }
};

} // namespace
