//===- quant-run.cpp - Run a model: generate, perplexity, tokenize --------===//
//
//   quant-run generate   -m MODEL [--tokenizer TOK] [-p PROMPT] [-n N]
//   quant-run perplexity -m MODEL [--tokenizer TOK] -f TEXT [--ctx N] [--chunks N]
//                        [--baseline FLOAT --max-delta D]   (exit 3 when the
//                        perplexity exceeds FLOAT's by more than D)
//   quant-run tokenize   -m MODEL [--tokenizer TOK] -p TEXT
//   quant-run kld        -m MODEL --baseline FLOAT -f TEXT [--ctx N] [--chunks N]
//                        (KL divergence of MODEL's logits from FLOAT's, top-1
//                        agreement)
//   quant-run info       -m MODEL [--tokenizer TOK]   (formats, sizes, bpw)
//   quant-run imatrix    -m MODEL [--tokenizer TOK] -f TEXT -o OUT.dat [--ctx N]
//                        [--chunks N] [--compiled LIB.so] [--xtx]
//                        (llama.cpp's imatrix file; --compiled runs the
//                        windows on the generated kernels, --xtx also
//                        writes OUT.dat.xtx)
//
// MODEL is a GGUF file, a llama2.c checkpoint (with --tokenizer), a Hugging
// Face directory or a qc weights archive; it runs on the float reference.
//
//===----------------------------------------------------------------------===//
#include "qc/Analysis/Importance.h"
#include "qc/Formats/Registry.h"
#include "qc/Reference/Reference.h"
#include "qc/Support/Flags.h"
#include "qc/Tokenizer/Tokenizer.h"
#include "qc/CompiledLibrary.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

using namespace qc;

namespace {

struct Options {
  std::string command, model, tokenizer, prompt, file, output, baseline;
  std::string compiled; // a library quant-compile built
  int64_t tokens = 64, ctx = 256, chunks = 0, threads = 0;
  int64_t pp = 512, tg = 128, repetitions = 3;
  bool mmap = false; // --compiled runs on the file mapped in place
  bool xtx = false;  // imatrix: also X^T X (a .xtx file beside -o)
  double maxDelta = -1;
};

const char *kUsage =
    "usage: quant-run COMMAND -m MODEL [options]\n"
    "Runs a model qc reads (GGUF, archive, llama.cpp checkpoint, HF directory) on\n"
    "the float reference, or on a library quant-compile built (--compiled).\n"
    "commands: generate | perplexity | kld | bench | tokenize | info | imatrix,\n"
    "          formats (the number formats qc knows; no model)\n"
    "  -m, --model MODEL      the model or archive\n"
    "  --compiled LIB.so      run on this library's kernels (default: float reference)\n"
    "  -t, --threads N        threads of --compiled (default: the machine's)\n"
    "  --tokenizer TOK        tokenizer.bin of a llama2.c checkpoint\n"
    "  -p, --prompt TEXT      generate, tokenize: the prompt\n"
    "  -n N                   generate: tokens (default: 64)\n"
    "  -f, --file TEXT        perplexity, kld, imatrix: the text\n"
    "  --ctx N                window of perplexity, kld, imatrix (default: 256)\n"
    "  --chunks N             windows to run (default: 0, all)\n"
    "  --baseline MODEL       kld: the reference; perplexity: the quality gate's\n"
    "  --max-delta D          perplexity: fail past D% above --baseline\n"
    "  --pp N, --tg N, -r N   bench: prompt and generated tokens, repetitions\n"
    "                         (default: 512, 128, 3)\n"
    "  -o, --output FILE      imatrix: the file to write\n"
    "  --xtx                  imatrix: also X^T X, beside -o\n"
    "  --mmap                 --compiled maps the weights in place\n"
    "  -h, --help, --version\n"
    "Options take their value as '--flag value' or '--flag=value'.\n";

[[noreturn]] void usage(const std::string &why) {
  std::fprintf(stderr, "quant-run: %s\n%s", why.c_str(), kUsage);
  std::exit(2);
}

int64_t number(const char *flag, const char *text, int64_t lo, int64_t hi) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(text, &end, 10);
  if (errno || !end || *end || v < lo || v > hi)
    usage(std::string(flag) + " expects an integer in [" + std::to_string(lo) +
          ", " + std::to_string(hi) + "], got '" + text + "'");
  return v;
}

Options parse(int argc, char **argv) {
  qc::flags::answerHelpAndVersion(argc, argv, "quant-run", kUsage);
  if (argc < 2)
    usage("missing command");
  Options o;
  o.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    qc::flags::Arg arg = qc::flags::split(argv[i]);
    const std::string &a = arg.name;
    std::string text;
    auto value = [&]() -> const char * {
      std::optional<std::string> v = qc::flags::value(arg, i, argc, argv);
      if (!v)
        usage(a + " needs a value");
      text = *v;
      return text.c_str();
    };
    if (a == "-m" || a == "--model") o.model = value();
    else if (a == "--tokenizer") o.tokenizer = value();
    else if (a == "-p" || a == "--prompt") o.prompt = value();
    else if (a == "-f" || a == "--file") o.file = value();
    else if (a == "-o" || a == "--output") o.output = value();
    else if (a == "--baseline") o.baseline = value();
    else if (a == "--compiled") o.compiled = value();
    else if (a == "--mmap") o.mmap = true;
    else if (a == "--xtx") o.xtx = true;
    else if (a == "-t" || a == "--threads") o.threads = number("-t", value(), 0, 1 << 20);
    else if (a == "--pp") o.pp = number("--pp", value(), 1, 1 << 20);
    else if (a == "--tg") o.tg = number("--tg", value(), 1, 1 << 20);
    else if (a == "-r") o.repetitions = number("-r", value(), 1, 1000);
    else if (a == "--max-delta") {
      const char *v = value();
      char *end = nullptr;
      o.maxDelta = std::strtod(v, &end);
      if (!end || *end || !(o.maxDelta >= 0))
        usage(std::string("--max-delta expects a non-negative number, got '") +
              v + "'");
    }
    else if (a == "-n") o.tokens = number("-n", value(), 0, 1 << 20);
    else if (a == "--ctx") o.ctx = number("--ctx", value(), 2, 1 << 20);
    else if (a == "--chunks") o.chunks = number("--chunks", value(), 0, 1 << 30);
    else usage("unknown option '" + a + "'");
  }
  if (o.model.empty())
    usage("-m MODEL is required");
  return o;
}

std::string readFile(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    throw model::FormatError(path + ": cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// Runs a model: on the float reference, or (--compiled) on the kernels of
/// a library quant-compile built, through the runtime.
class Engine {
public:
  Engine(const model::Model &m, const Options &o, int64_t context) {
    if (o.compiled.empty())
      reference = std::make_unique<FloatModel>(m, context);
    else
      compiled = std::make_unique<CompiledLibrary>(
          o.compiled, o.model, qc_options{int(o.threads), context, o.mmap ? 1 : 0});
  }

  /// Logits of all `count` tokens, or (all = false) of the last one.
  void eval(const int32_t *tokens, int64_t count, int64_t pos, float *logits,
            bool all = true) {
    if (compiled) {
      compiled->eval(tokens, count, pos, all, logits);
      return;
    }
    if (all) {
      reference->forward(tokens, count, pos, logits);
      return;
    }
    int64_t vocab = reference->config().vocab;
    std::vector<float> every(count * vocab);
    reference->forward(tokens, count, pos, every.data());
    std::copy_n(&every[(count - 1) * vocab], vocab, logits);
  }

  /// Reports every product's input to `observer` from now on.
  void observe(const InputObserver &observer) {
    if (reference) {
      reference->setInputObserver(observer);
      return;
    }
    compiled->observeInputs(observer);
  }

private:
  std::unique_ptr<FloatModel> reference;
  std::unique_ptr<CompiledLibrary> compiled;
};

int generate(const model::Model &m, const Options &o) {
  Tokenizer tok(m.vocab);
  Engine fm(m, o, m.config.context);
  std::vector<int32_t> ids = tok.encode(o.prompt, m.vocab.addBos);
  if (int64_t(ids.size()) + o.tokens > m.config.context)
    throw model::FormatError("prompt (" + std::to_string(ids.size()) +
                             " tokens) plus " + std::to_string(o.tokens) +
                             " new tokens exceed the context of " +
                             std::to_string(m.config.context));
  std::vector<float> logits(m.config.vocab);
  fm.eval(ids.data(), int64_t(ids.size()), 0, logits.data(), false);
  std::string text = o.prompt;
  std::printf("%s", text.c_str());
  const float *last = logits.data();
  int64_t pos = int64_t(ids.size());
  for (int64_t i = 0; i < o.tokens; ++i) {
    int32_t next = int32_t(std::max_element(last, last + m.config.vocab) - last);
    if (next == m.vocab.eos)
      break;
    std::printf("%s", tok.decode(next).c_str());
    std::fflush(stdout);
    fm.eval(&next, 1, pos++, logits.data(), false);
  }
  std::printf("\n");
  return 0;
}

PerplexityResult measurePerplexity(const model::Model &m,
                                   const std::vector<int32_t> &ids,
                                   const Options &o) {
  int64_t ctx = o.ctx;
  if (ctx > m.config.context)
    std::fprintf(stderr,
                 "quant-run: warning: --ctx %lld exceeds the model's trained "
                 "context of %lld (llama-perplexity allows it too)\n",
                 (long long)ctx, (long long)m.config.context);
  Engine fm(m, o, std::max(ctx, m.config.context));
  auto start = std::chrono::steady_clock::now();
  PerplexityResult r = qc::perplexity(
      ids, ctx, m.config.vocab, m.vocab.addBos ? m.vocab.bos : -1, o.chunks,
      [] {}, [&](const int32_t *t, int64_t n, int64_t pos, float *l) {
        fm.eval(t, n, pos, l);
      });
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                              start)
                    .count();
  std::fprintf(stderr, "quant-run: %lld tokens scored in %.2f s\n",
               (long long)r.scored, secs);
  return r;
}

/// The tokens of -f TEXT, with a warning when most of them are byte
/// fallbacks or unknown: binary data, or text the vocabulary does not know,
/// which makes any perplexity meaningless.
std::vector<int32_t> textTokens(const model::Model &m, const Options &o) {
  Tokenizer tok(m.vocab);
  std::vector<int32_t> ids = tok.encode(readFile(o.file), m.vocab.addBos);
  size_t unusual = 0;
  for (int32_t id : ids)
    if (size_t(id) < m.vocab.types.size() &&
        (m.vocab.types[size_t(id)] == model::TokenType::Byte ||
         m.vocab.types[size_t(id)] == model::TokenType::Unknown))
      ++unusual;
  if (ids.size() >= 16 && 2 * unusual > ids.size())
    std::fprintf(stderr,
                 "quant-run: warning: %s: %zu of its %zu tokens are byte fallbacks "
                 "or unknown; is it text in the model's language?\n",
                 o.file.c_str(), unusual, ids.size());
  return ids;
}

int perplexity(const model::Model &m, const Options &o) {
  if (o.file.empty())
    usage("perplexity needs -f TEXT");
  if ((o.maxDelta >= 0) != !o.baseline.empty())
    usage("--baseline and --max-delta go together");
  std::vector<int32_t> ids = textTokens(m, o);
  PerplexityResult r = measurePerplexity(m, ids, o);
  std::printf("tokens %zu, ctx %lld, chunks %lld, scored %lld\n", ids.size(),
              (long long)o.ctx, (long long)r.chunks, (long long)r.scored);
  std::printf("Final estimate: PPL = %.4f +/- %.5f (mean NLL %.5f)\n",
              r.perplexity, r.stderrPpl, r.meanNll);
  if (o.baseline.empty())
    return 0;
  model::Model base = model::readModel(o.baseline, o.tokenizer);
  Options floatRun = o;
  floatRun.compiled.clear(); // the baseline runs on the float reference
  PerplexityResult b = measurePerplexity(base, ids, floatRun);
  double delta = r.perplexity - b.perplexity;
  bool pass = delta <= o.maxDelta;
  std::printf("baseline PPL = %.4f, delta %+.4f (max %.4f): %s\n",
              b.perplexity, delta, o.maxDelta, pass ? "PASS" : "FAIL");
  return pass ? 0 : 3;
}

/// KL(P_baseline || P_model) per scored position, over llama-perplexity's
/// windows (second half of each), and how often the argmax agrees.
int kld(const model::Model &m, const Options &o) {
  if (o.file.empty() || o.baseline.empty())
    usage("kld needs -f TEXT and --baseline FLOAT_MODEL");
  model::Model base = model::readModel(o.baseline, o.tokenizer);
  if (base.config.vocab != m.config.vocab)
    throw model::FormatError("the baseline's vocabulary (" +
                             std::to_string(base.config.vocab) +
                             ") differs from the model's (" +
                             std::to_string(m.config.vocab) + ")");
  std::vector<int32_t> ids = textTokens(m, o);
  int64_t ctx = o.ctx, vocab = m.config.vocab;
  int64_t chunks = int64_t(ids.size()) / ctx;
  if (o.chunks > 0)
    chunks = std::min(chunks, o.chunks);
  if (chunks == 0)
    throw model::FormatError("the text has fewer tokens than one window");
  int64_t context = std::max(ctx, m.config.context);
  Engine fq(m, o, context);
  FloatModel fb(base, context);
  std::vector<float> lq(ctx * vocab), lb(ctx * vocab);
  double kl = 0, top1 = 0, maxAbs = 0, minCosine = 1;
  int64_t positions = 0;
  for (int64_t c = 0; c < chunks; ++c) {
    std::vector<int32_t> window(ids.begin() + c * ctx,
                                ids.begin() + (c + 1) * ctx);
    if (m.vocab.addBos && m.vocab.bos >= 0)
      window[0] = m.vocab.bos;
    fq.eval(window.data(), ctx, 0, lq.data());
    fb.forward(window.data(), ctx, 0, lb.data());
    int64_t first = ctx / 2, n = ctx - 1 - first;
    Divergence d = divergence(lb.data() + first * vocab,
                              lq.data() + first * vocab, n, vocab);
    kl += d.kl * double(n);
    top1 += d.top1 * double(n);
    maxAbs = std::max(maxAbs, d.maxAbs);
    minCosine = std::min(minCosine, d.minCosine);
    positions += n;
  }
  std::printf("chunks %lld, positions %lld\n", (long long)chunks,
              (long long)positions);
  std::printf("mean KLD = %.6f, top-1 agreement = %.2f%%\n",
              kl / double(positions), 100.0 * top1 / double(positions));
  std::printf("max |logit difference| = %.6f, min cosine = %.8f\n", maxAbs,
              minCosine);
  return 0;
}

/// llama-bench's measures: a prompt of --pp tokens in one batch (prompt
/// processing), then --tg tokens one at a time (generation), each repeated
/// -r times on a fresh cache; time to first token = prompt + one token.
int bench(const model::Model &m, const Options &o) {
  if (o.compiled.empty())
    usage("bench needs --compiled LIB.so (the float reference is not timed)");
  int64_t need = std::max(o.pp, o.tg) + 1;
  Engine e(m, o, std::max(m.config.context, need));
  std::vector<int32_t> prompt(o.pp);
  for (int64_t i = 0; i < o.pp; ++i) // arbitrary ids, as llama-bench uses
    prompt[i] = int32_t((i * 7919 + 13) % m.config.vocab);
  std::vector<float> logits(m.config.vocab);
  using clock = std::chrono::steady_clock;
  auto seconds = [](clock::time_point a) {
    return std::chrono::duration<double>(clock::now() - a).count();
  };
  // Warm-up with the whole prompt: the runtime's buffers reach their size
  // before timing (llama.cpp allocates its compute buffers at load).
  e.eval(prompt.data(), o.pp, 0, logits.data(), false);
  double pp = 0, tg = 0, ttft = 0;
  for (int64_t r = 0; r < o.repetitions; ++r) {
    auto t0 = clock::now();
    e.eval(prompt.data(), o.pp, 0, logits.data(), false);
    pp += seconds(t0);
    int32_t next = 1;
    e.eval(&next, 1, o.pp, logits.data(), false);
    ttft += seconds(t0);
    auto t1 = clock::now();
    for (int64_t i = 0; i < o.tg; ++i)
      e.eval(&next, 1, i, logits.data(), false);
    tg += seconds(t1);
  }
  double n = double(o.repetitions);
  std::printf("model: %s, threads %lld\n", o.model.c_str(),
              (long long)o.threads);
  std::printf("pp%lld: %.2f tok/s\n", (long long)o.pp, double(o.pp) * n / pp);
  std::printf("tg%lld: %.2f tok/s\n", (long long)o.tg, double(o.tg) * n / tg);
  std::printf("time to first token: %.2f ms\n", 1000.0 * ttft / n);
  return 0;
}

int imatrix(const model::Model &m, const Options &o) {
  if (o.file.empty() || o.output.empty())
    usage("imatrix needs -f TEXT and -o OUT.dat");
  CalibrationOptions co;
  co.ctx = o.ctx;
  co.chunks = o.chunks;
  co.collectXtX = o.xtx;
  // On --compiled, the windows run on the generated kernels.
  Engine engine(m, o, std::max(o.ctx, m.config.context));
  std::vector<float> logits;
  ImportanceStats stats =
      calibrate(m, readFile(o.file), co,
                [&](const int32_t *tokens, int64_t count,
                    const InputObserver &observer) {
                  engine.observe(observer);
                  logits.resize(size_t(count * m.config.vocab));
                  engine.eval(tokens, count, 0, logits.data());
                });
  stats.dataset = o.file;
  writeImatrix(stats, o.output);
  if (o.xtx)
    writeXtX(stats, o.output + ".xtx");
  std::printf("imatrix: %zu weights, %lld chunks of %lld tokens -> %s\n",
              stats.weights.size(), (long long)stats.chunks, (long long)o.ctx,
              o.output.c_str());
  return 0;
}

/// Linear-layer weights: blk.N.attn_{q,k,v,output} and blk.N.ffn_*.
bool isLinearWeight(const std::string &name) {
  return name.compare(0, 4, "blk.") == 0 &&
         (name.find(".attn_") != std::string::npos ||
          name.find(".ffn_") != std::string::npos) &&
         name.find("_norm") == std::string::npos &&
         name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0;
}

/// Bytes and weights of a set of tensors, and their bits per weight.
struct Size {
  double bytes = 0, elements = 0;
  void add(const model::Tensor &t) {
    bytes += double(t.bytes.size());
    elements += double(t.numElements());
  }
  double bpw() const { return elements ? 8 * bytes / elements : 0.0; }
};

int info(const model::Model &m) {
  Size all, linear, matrices;
  std::map<std::string, int> formats;
  for (const auto &[name, t] : m.tensors) {
    all.add(t);
    formats[t.format]++;
    if (t.shape.size() == 2) // what a budget (target-bpw) counts
      matrices.add(t);
    if (isLinearWeight(name))
      linear.add(t);
  }
  std::printf("model: %s, %s, %lld layers, dim %lld\n", m.source.c_str(),
              m.config.arch.c_str(), (long long)m.config.layers,
              (long long)m.config.dim);
  std::printf("tensors: %zu, weights %.0f, bytes %.0f\n", m.tensors.size(),
              all.elements, all.bytes);
  std::printf("bpw all: %.4f\n", all.bpw());
  std::printf("bpw linear: %.4f\n", linear.bpw());
  std::printf("bpw matrices: %.4f\n", matrices.bpw());
  for (const auto &[f, n] : formats)
    std::printf("format %s: %d tensors\n", f.c_str(), n);
  return 0;
}

int tokenize(const model::Model &m, const Options &o) {
  Tokenizer tok(m.vocab);
  for (int32_t id : tok.encode(o.prompt, m.vocab.addBos))
    std::printf("%d ", id);
  std::printf("\n");
  return 0;
}

} // namespace

/// The registry, one family a line: its name and what it is.
int listFormats() {
  for (const formats::FormatFamily &f : formats::formatFamilies())
    std::printf("%-8s %s\n", f.name.c_str(), f.summary.c_str());
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && std::string(argv[1]) == "formats")
    return listFormats();
  Options o = parse(argc, argv);
  try {
    // Compiled runs read the weights through the runtime; map, do not copy.
    model::Model m =
        model::readModel(o.model, o.tokenizer, !o.compiled.empty());
    if (o.command == "generate")
      return generate(m, o);
    if (o.command == "perplexity")
      return perplexity(m, o);
    if (o.command == "tokenize")
      return tokenize(m, o);
    if (o.command == "imatrix")
      return imatrix(m, o);
    if (o.command == "info")
      return info(m);
    if (o.command == "kld")
      return kld(m, o);
    if (o.command == "bench")
      return bench(m, o);
    usage("unknown command '" + o.command + "'");
  } catch (const std::exception &e) {
    std::fprintf(stderr, "quant-run: error: %s\n", e.what());
    return 1;
  }
}
