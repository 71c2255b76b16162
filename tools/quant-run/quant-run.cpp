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
#include "qc/Run/Engine.h"
#include "qc/Support/Flags.h"
#include "qc/Support/Format.h"
#include "qc/Tokenizer/Tokenizer.h"

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
  float temperature = 0, topP = 0.95f; // generate: 0 is greedy
  int topK = 40;
  uint64_t seed = 0;
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
    "  --temp T, --top-k K, --top-p P, --seed S\n"
    "                         generate: sampling (default: 0 = greedy, 40, 0.95, 0)\n"
    "  -f, --file TEXT        perplexity, kld, imatrix: the text\n"
    "  --ctx N                window of perplexity, kld, imatrix (default: 256)\n"
    "  --chunks N             windows to run (default: 0, all)\n"
    "  --baseline MODEL       kld: the reference; perplexity: the quality gate's\n"
    "  --max-delta D          perplexity: fail past D% above --baseline\n"
    "  --pp N, --tg N, -r N   bench: prompt and generated tokens, repetitions\n"
    "                         (default: 512, 128, 3)\n"
    "  -o, --output FILE      imatrix: the file to write\n"
    "  --xtx                  imatrix: also X^T X, beside -o\n"
    "  --mmap                 --compiled maps the weights in place (imatrix:\n"
    "                         one block's pages resident at a time)\n"
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

double real(const char *flag, const char *text, double lo, double hi) {
  char *end = nullptr;
  double v = std::strtod(text, &end);
  if (!end || end == text || *end || !(v >= lo && v <= hi))
    usage(std::string(flag) + " expects a number in [" + shortNumber(lo) +
          ", " + shortNumber(hi) + "], got '" + text + "'");
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
    else if (a == "--temp") o.temperature = float(real("--temp", value(), 0, 1e6));
    else if (a == "--top-p") o.topP = float(real("--top-p", value(), 0, 1));
    else if (a == "--top-k") o.topK = int(number("--top-k", value(), 0, 1 << 30));
    else if (a == "--seed") o.seed = uint64_t(number("--seed", value(), 0, INT64_MAX));
    else if (a == "--max-delta") o.maxDelta = real("--max-delta", value(), 0, 1e30);
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

EngineOptions engineOptions(const Options &o) {
  return {o.compiled, o.model, int(o.threads), o.mmap};
}

int generate(const model::Model &m, const Options &o) {
  Engine engine(m, engineOptions(o), m.config.context);
  std::printf("%s", o.prompt.c_str());
  qc_sampler sampler{o.temperature, o.topK, o.topP, o.seed};
  qc::generate(m, engine, o.prompt, o.tokens, &sampler, [](const std::string &p) {
    std::printf("%s", p.c_str());
    std::fflush(stdout);
  });
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
  // Windows start at position 0: a KV cache of one window.
  Engine engine(m, engineOptions(o), ctx);
  auto start = std::chrono::steady_clock::now();
  PerplexityResult r = perplexityOf(m, engine, ids, ctx, o.chunks);
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
  size_t unusual = 0;
  std::vector<int32_t> ids = qc::textTokens(m, readFile(o.file), &unusual);
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
  Engine engine(m, engineOptions(o), o.ctx); // windows from position 0
  Engine baseline(base, EngineOptions{}, o.ctx);
  KldResult r = kldOf(m, engine, baseline, ids, o.ctx, o.chunks);
  std::printf("chunks %lld, positions %lld\n", (long long)r.chunks,
              (long long)r.positions);
  std::printf("mean KLD = %.6f, top-1 agreement = %.2f%%\n", r.kld,
              100.0 * r.top1);
  std::printf("max |logit difference| = %.6f, min cosine = %.8f\n", r.maxAbs,
              r.minCosine);
  return 0;
}

/// llama-bench's measures: a prompt of --pp tokens in one batch (prompt
/// processing), then --tg tokens one at a time (generation), each repeated
/// -r times on a fresh cache; time to first token = prompt + one token.
int bench(const model::Model &m, const Options &o) {
  if (o.compiled.empty())
    usage("bench needs --compiled LIB.so (the float reference is not timed)");
  int64_t need = std::max(o.pp, o.tg) + 1;
  Engine e(m, engineOptions(o), std::max(m.config.context, need));
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
  // Mapped weights are read a block at a time and let go of after it.
  EngineOptions eo = engineOptions(o);
  eo.releaseBlocks = true;
  // Windows start at position 0: a KV cache of one window, not of the
  // model's whole context (7B: 2 GB of f16 that calibration never reads).
  Engine engine(m, eo, o.ctx);
  ImportanceStats stats =
      calibrate(m, readFile(o.file), co,
                [&](const int32_t *tokens, int64_t count,
                    const InputObserver &observer) {
                  engine.observe(observer);
                  engine.eval(tokens, count, 0, nullptr);
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
