//===- module.cpp - qc's Python extension (_qc) ---------------------------===//
//
// The C++ side of the `qc` package: models (the float reference or a
// library quant-compile built), the importer, pass pipelines, the compiler
// and the codecs. Long calls release the GIL; qc's errors become qc.Error
// with the tools' one-line messages. python/qc/__init__.py is the API.
//
//===----------------------------------------------------------------------===//
#include "qc/Compile/Compile.h"
#include "qc/Formats/Registry.h"
#include "qc/Import/ImportModel.h"
#include "qc/Pipelines/RunPipeline.h"
#include "qc/Run/Engine.h"
#include "qc/Tokenizer/Tokenizer.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <mutex>

namespace py = pybind11;
using namespace qc;

namespace {

/// Raised for every error qc reports (what the tools print after
/// "error: "); set when the module loads.
PyObject *qcError = nullptr;

[[noreturn]] void fail(const std::string &message) {
  throw model::FormatError(message);
}

/// The error lines of `diagnostics` (the cause, as quant-opt prints it),
/// else `fallback` (what failed).
std::string withDiagnostics(const std::string &fallback,
                            const std::vector<std::string> &diagnostics) {
  std::string message;
  for (const std::string &d : diagnostics)
    if (d.compare(0, 7, "error: ") == 0 ||
        d.find(": error: ") != std::string::npos)
      message += (message.empty() ? "" : "\n") + d;
  return message.empty() ? fallback : message;
}

/// A model loaded for running: weights, tokenizer and one engine, rebuilt
/// when a call needs a longer context than it holds.
class PyModel {
public:
  PyModel(const std::string &path, const std::string &tokenizer,
          const std::string &weights, int threads, bool mmap) {
    py::gil_scoped_release unlocked;
    bool library = path.size() > 3 && path.compare(path.size() - 3, 3, ".so") == 0;
    if (library) {
      options.compiled = path;
      options.weights =
          weights.empty() ? CompiledLibrary::defaultWeights(path) : weights;
      options.threads = threads;
      options.mmap = mmap;
      source = options.weights;
    } else {
      if (!weights.empty())
        fail("weights= goes with a library quant-compile built, not " + path);
      source = path;
    }
    m = model::readModel(source, tokenizer, /*mapWeights=*/library);
    if (library && m.vocab.tokens.empty())
      fail(source + ": the weights hold no tokenizer");
    this->path = path;
  }

  py::dict config() const {
    const model::Config &c = m.config;
    py::dict d;
    d["arch"] = c.arch;
    d["dim"] = c.dim;
    d["hidden"] = c.hidden;
    d["layers"] = c.layers;
    d["heads"] = c.heads;
    d["kv_heads"] = c.kvHeads;
    d["vocab"] = c.vocab;
    d["context"] = c.context;
    d["tied_output"] = c.tiedOutput;
    return d;
  }

  /// Per tensor: name, shape, format and bytes (quant-run info's source).
  py::list tensors() const {
    py::list out;
    for (const auto &[name, t] : m.tensors) {
      py::dict d;
      d["name"] = name;
      d["shape"] = t.shape;
      d["format"] = t.format;
      d["bytes"] = t.view ? t.viewSize : t.bytes.size();
      d["elements"] = t.numElements();
      out.append(d);
    }
    return out;
  }

  std::vector<int32_t> tokenize(const std::string &text, bool bos) const {
    Tokenizer tok(m.vocab);
    return tok.encode(text, bos && m.vocab.addBos);
  }

  std::string detokenize(const std::vector<int32_t> &ids) const {
    Tokenizer tok(m.vocab);
    std::string text;
    for (int32_t id : ids) {
      if (id < 0 || id >= m.config.vocab)
        fail("token " + std::to_string(id) + " is outside the vocabulary of " +
             std::to_string(m.config.vocab));
      text += tok.decode(id);
    }
    return text;
  }

  py::array_t<float> logits(const std::vector<int32_t> &tokens) {
    if (tokens.empty())
      fail("logits: no tokens");
    int64_t T = int64_t(tokens.size()), V = m.config.vocab;
    py::array_t<float> out({T, V});
    float *dst = out.mutable_data();
    {
      py::gil_scoped_release unlocked;
      std::lock_guard<std::mutex> hold(busy);
      engineFor(T).eval(tokens.data(), T, 0, dst);
    }
    return out;
  }

  std::string generate(const std::string &prompt, int64_t n, float temperature,
                       int topK, float topP, uint64_t seed) {
    if (n < 0)
      fail("generate: n must be >= 0, got " + std::to_string(n));
    qc_sampler sampler{temperature, topK, topP, seed};
    py::gil_scoped_release unlocked;
    std::lock_guard<std::mutex> hold(busy);
    return qc::generate(m, engineFor(m.config.context), prompt, n, &sampler);
  }

  py::dict perplexity(const std::string &text, int64_t ctx, int64_t chunks) {
    checkWindow(ctx, chunks);
    PerplexityResult r;
    int64_t tokens;
    {
      py::gil_scoped_release unlocked;
      std::lock_guard<std::mutex> hold(busy);
      std::vector<int32_t> ids = textTokens(m, text);
      tokens = int64_t(ids.size());
      r = perplexityOf(m, engineFor(std::max(ctx, m.config.context)), ids,
                       ctx, chunks);
    }
    py::dict d;
    d["ppl"] = r.perplexity;
    d["stderr"] = r.stderrPpl;
    d["nll"] = r.meanNll;
    d["chunks"] = r.chunks;
    d["scored"] = r.scored;
    d["tokens"] = tokens;
    return d;
  }

  py::dict kld(PyModel &baseline, const std::string &text, int64_t ctx,
               int64_t chunks) {
    checkWindow(ctx, chunks);
    if (&baseline == this)
      fail("kld: the baseline is this model itself");
    if (baseline.m.config.vocab != m.config.vocab)
      fail("the baseline's vocabulary (" +
           std::to_string(baseline.m.config.vocab) +
           ") differs from the model's (" + std::to_string(m.config.vocab) +
           ")");
    KldResult r;
    {
      py::gil_scoped_release unlocked;
      std::scoped_lock hold(busy, baseline.busy);
      int64_t context = std::max(ctx, m.config.context);
      r = kldOf(m, engineFor(context), baseline.engineFor(context),
                textTokens(m, text), ctx, chunks);
    }
    py::dict d;
    d["kld"] = r.kld;
    d["top1"] = r.top1;
    d["max_abs"] = r.maxAbs;
    d["min_cosine"] = r.minCosine;
    d["chunks"] = r.chunks;
    d["positions"] = r.positions;
    return d;
  }

  std::string path, source;
  EngineOptions options;

private:
  static void checkWindow(int64_t ctx, int64_t chunks) {
    if (ctx < 2 || ctx > (1 << 20))
      fail("ctx must be in [2, 1048576], got " + std::to_string(ctx));
    if (chunks < 0)
      fail("chunks must be >= 0 (0: all), got " + std::to_string(chunks));
  }

  Engine &engineFor(int64_t context) {
    if (!engine || engine->context() < context)
      engine = std::make_unique<Engine>(m, options, context);
    return *engine;
  }

  model::Model m;
  std::unique_ptr<Engine> engine;
  std::mutex busy; // one call at a time on the engine and its KV cache
};

/// A registered format's codec, on numpy arrays.
class PyCodec {
public:
  explicit PyCodec(const std::string &name) {
    std::string why;
    codec = formats::makeCodec(name, why);
    if (!codec)
      fail(why);
  }

  std::string name() const { return codec->name(); }

  py::bytes quantize(py::array_t<float, py::array::c_style | py::array::forcecast> w,
                     std::optional<py::array_t<float, py::array::c_style |
                                                          py::array::forcecast>>
                         importance) const {
    if (w.ndim() != 2)
      throw py::value_error("quantize expects a 2-D array [rows, cols], got " +
                            std::to_string(w.ndim()) + " dimensions");
    int64_t rows = w.shape(0), cols = w.shape(1);
    if (importance && (importance->ndim() != 1 || importance->shape(0) != cols))
      throw py::value_error("importance must hold one value per column (" +
                            std::to_string(cols) + ")");
    int64_t bytes = checkedBytes(rows, cols);
    std::string out(size_t(bytes), '\0');
    const float *src = w.data();
    const float *imp = importance ? importance->data() : nullptr;
    std::string why;
    {
      py::gil_scoped_release unlocked;
      why = codec->quantize(src, rows, cols, imp,
                            reinterpret_cast<uint8_t *>(out.data()));
    }
    if (!why.empty())
      fail(why);
    return py::bytes(out);
  }

  py::array_t<float> dequantize(const py::bytes &packed,
                                std::vector<int64_t> shape) const {
    if (shape.size() != 2)
      throw py::value_error("dequantize expects shape (rows, cols)");
    int64_t rows = shape[0], cols = shape[1];
    int64_t bytes = checkedBytes(rows, cols);
    std::string_view data = packed;
    if (int64_t(data.size()) != bytes)
      throw py::value_error(name() + " holds [" + std::to_string(rows) + " x " +
                            std::to_string(cols) + "] in " +
                            std::to_string(bytes) + " bytes, got " +
                            std::to_string(data.size()));
    py::array_t<float> out({rows, cols});
    float *dst = out.mutable_data();
    {
      py::gil_scoped_release unlocked;
      codec->dequantize(reinterpret_cast<const uint8_t *>(data.data()), rows,
                        cols, dst);
    }
    return out;
  }

  int64_t packedBytes(int64_t rows, int64_t cols) const {
    return checkedBytes(rows, cols);
  }
  double bitsPerWeight(int64_t rows, int64_t cols) const {
    checkedBytes(rows, cols);
    return codec->bitsPerWeight(rows, cols);
  }
  std::unique_ptr<formats::Codec> codec;

private:
  int64_t checkedBytes(int64_t rows, int64_t cols) const {
    if (rows < 1 || cols < 1)
      throw py::value_error("rows and cols must be positive");
    std::string why = codec->checkRowLength(cols);
    if (!why.empty())
      throw py::value_error(why);
    int64_t bytes = codec->packedBytes(rows, cols);
    if (bytes < 0)
      throw py::value_error("[" + std::to_string(rows) + " x " +
                            std::to_string(cols) + "] is too large");
    return bytes;
  }
};

} // namespace

PYBIND11_MODULE(_qc, mod) {
  mod.doc() = "qc's C++ core; use the qc package";
  static py::exception<model::FormatError> error(mod, "Error");
  qcError = error.ptr();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p)
        std::rethrow_exception(p);
    } catch (const py::builtin_exception &) {
      throw;
    } catch (const py::error_already_set &) {
      throw;
    } catch (const std::bad_alloc &) {
      PyErr_SetString(PyExc_MemoryError, "out of memory");
    } catch (const std::exception &e) {
      PyErr_SetString(qcError, e.what());
    }
  });

  py::class_<PyModel>(mod, "Model")
      .def(py::init<const std::string &, const std::string &,
                    const std::string &, int, bool>(),
           py::arg("path"), py::arg("tokenizer") = "", py::arg("weights") = "",
           py::arg("threads") = 0, py::arg("mmap") = false)
      .def_readonly("path", &PyModel::path)
      .def_readonly("weights", &PyModel::source)
      .def_property_readonly("compiled",
                             [](const PyModel &p) { return !p.options.compiled.empty(); })
      .def_property_readonly("config", &PyModel::config)
      .def_property_readonly("tensors", &PyModel::tensors)
      .def("tokenize", &PyModel::tokenize, py::arg("text"), py::arg("bos") = true)
      .def("detokenize", &PyModel::detokenize, py::arg("ids"))
      .def("logits", &PyModel::logits, py::arg("tokens"))
      .def("generate", &PyModel::generate, py::arg("prompt"), py::arg("n"),
           py::arg("temperature"), py::arg("top_k"), py::arg("top_p"),
           py::arg("seed"))
      .def("perplexity", &PyModel::perplexity, py::arg("text"), py::arg("ctx"),
           py::arg("chunks"))
      .def("kld", &PyModel::kld, py::arg("baseline"), py::arg("text"),
           py::arg("ctx"), py::arg("chunks"));

  py::class_<PyCodec>(mod, "Codec")
      .def(py::init<const std::string &>(), py::arg("name"))
      .def_property_readonly("name", &PyCodec::name)
      .def_property_readonly("block_size",
                             [](const PyCodec &c) { return c.codec->blockSize(); })
      .def_property_readonly("block_bytes",
                             [](const PyCodec &c) { return c.codec->blockBytes(); })
      .def_property_readonly("supports_gptq",
                             [](const PyCodec &c) { return c.codec->supportsGPTQ(); })
      .def("packed_bytes", &PyCodec::packedBytes, py::arg("rows"), py::arg("cols"))
      .def("bits_per_weight", &PyCodec::bitsPerWeight, py::arg("rows"),
           py::arg("cols"))
      .def("quantize", &PyCodec::quantize, py::arg("w"),
           py::arg("importance") = py::none())
      .def("dequantize", &PyCodec::dequantize, py::arg("packed"),
           py::arg("shape"));

  mod.def("formats", [] {
    std::vector<std::pair<std::string, std::string>> out;
    for (const formats::FormatFamily &f : formats::formatFamilies())
      out.emplace_back(f.name, f.summary);
    return out;
  });

  mod.def(
      "import_model",
      [](const std::string &model, const std::string &mlir,
         const std::string &tokenizer) {
        py::gil_scoped_release unlocked;
        importModel(model, tokenizer, mlir);
      },
      py::arg("model"), py::arg("mlir"), py::arg("tokenizer") = "");

  mod.def(
      "run_pipeline",
      [](const std::string &input, const std::string &pipeline,
         const std::string &output) {
        std::vector<std::string> diagnostics;
        std::string error;
        {
          py::gil_scoped_release unlocked;
          error = runPipelineOnFile(input, pipeline, output, &diagnostics);
        }
        if (!error.empty())
          fail(withDiagnostics(error, diagnostics));
      },
      py::arg("input"), py::arg("pipeline"), py::arg("output"));

  mod.def(
      "compile",
      [](const std::string &input, const std::string &output,
         const std::string &emit, const std::string &target,
         const std::string &kvType, const std::string &weights,
         const std::string &weightFormat, bool kvInputs) {
        CompileOptions o;
        o.input = input;
        o.output = output;
        o.emit = emit;
        o.target = target;
        o.kvType = kvType;
        o.weights = weights;
        o.weightFormat = weightFormat;
        o.kvInputs = kvInputs;
        o.progress = false;
        std::vector<std::string> diagnostics;
        CompileResult r;
        {
          py::gil_scoped_release unlocked;
          r = compileModel(o, &diagnostics);
        }
        if (!r.error.empty())
          fail(withDiagnostics(r.error, diagnostics));
        return r.weights;
      },
      py::arg("input"), py::arg("output"), py::arg("emit"), py::arg("target"),
      py::arg("kv_type"), py::arg("weights"), py::arg("weight_format"),
      py::arg("kv_inputs"));
}
