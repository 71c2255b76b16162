//===- main.cpp - The program quant-compile --emit=exe builds -------------===//
//
//   ./model [-m WEIGHTS] [-p PROMPT] [-n N] [-t THREADS] [--ctx N]
//           [--temp T] [--top-k K] [--top-p P] [--seed S] [--mmap]
//
// Generates text from the prompt (greedy unless --temp > 0; sampling
// without --seed takes a random one and prints it) and reports prompt and
// generation speed on stderr. Values are checked against their ranges and
// the trained context.
//
//===----------------------------------------------------------------------===//
#include "qc/runtime.h"
#include "qc/Support/Flags.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

const char *kUsage =
    "usage: model [options]\n"
    "Generates text from a prompt with the model quant-compile built.\n"
    "  -m, --model WEIGHTS  weights archive (default: the one it was built with)\n"
    "  -p, --prompt TEXT    prompt (default: \"Once upon a time\")\n"
    "  -n, --n-predict N    tokens to generate (default: 64)\n"
    "  -t, --threads N      threads (default: the machine's; capped at it)\n"
    "  --ctx N              context length (default and most: the trained one)\n"
    "  --temp T             sampling temperature, 0 = greedy (default: 0)\n"
    "  --top-k K            sample among the K likeliest, 0 = all (default: 40)\n"
    "  --top-p P            nucleus sampling, 0 < P <= 1 (default: 0.95)\n"
    "  --seed S             random seed (default: a random one, printed)\n"
    "  --mmap               map the weights instead of reading them\n"
    "  -h, --help           this help\n"
    "  --version            the version of qc that built it\n"
    "Options take their value as '--flag value' or '--flag=value'.\n";

[[noreturn]] void usage(const std::string &why) {
  std::fprintf(stderr, "error: %s\n%s", why.c_str(), kUsage);
  std::exit(2);
}

/// The value of `flag` as a number within [lo, hi].
double number(const std::string &flag, const std::string &text, double lo, double hi) {
  char *end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end || !std::isfinite(v))
    usage(flag + " needs a number, got '" + text + "'");
  if (v < lo || v > hi) {
    char range[96];
    std::snprintf(range, sizeof range, "%g..%g", lo, hi);
    usage(flag + " must be in " + range + ", got " + text);
  }
  return v;
}

} // namespace

int main(int argc, char **argv) {
  const char *weights = nullptr;
  std::string prompt = "Once upon a time", weightsArg;
  long steps = 64;
  qc_options options{};
  qc_sampler sampler{0.0f, 40, 0.95f, 0};
  bool seeded = false, samplingSet = false;
  qc::flags::answerHelpAndVersion(argc, argv, "model", kUsage);
  for (int i = 1; i < argc; ++i) {
    qc::flags::Arg arg = qc::flags::split(argv[i]);
    const std::string &a = arg.name;
    auto value = [&]() -> std::string {
      std::optional<std::string> v = qc::flags::value(arg, i, argc, argv);
      if (!v)
        usage(a + " needs a value");
      return *v;
    };
    if (a == "-m" || a == "--model") weightsArg = value(), weights = weightsArg.c_str();
    else if (a == "-p" || a == "--prompt") prompt = value();
    else if (a == "-n" || a == "--n-predict") steps = long(number(a, value(), 0, 1e9));
    else if (a == "-t" || a == "--threads") options.threads = int(number(a, value(), 1, 1e6));
    else if (a == "--ctx") options.context = int64_t(number(a, value(), 1, 1e9));
    else if (a == "--temp") sampler.temperature = float(number(a, value(), 0, 1e6));
    else if (a == "--top-k") sampler.top_k = int(number(a, value(), 0, 1e9)), samplingSet = true;
    else if (a == "--top-p") {
      sampler.top_p = float(number(a, value(), 0, 1));
      samplingSet = true;
      if (sampler.top_p <= 0)
        usage("--top-p must be above 0, got " + std::to_string(sampler.top_p));
    } else if (a == "--seed") sampler.seed = uint64_t(number(a, value(), 0, 9007199254740992.0)), seeded = true;
    else if (a == "--mmap") options.mmap = 1;
    else usage("unknown argument '" + a + "'");
  }
  if (sampler.temperature <= 0 && (samplingSet || seeded))
    std::fprintf(stderr, "note: --top-k, --top-p and --seed take effect with --temp "
                         "above 0; generating greedily\n");
  if (sampler.temperature > 0 && !seeded) {
    sampler.seed = std::random_device{}();
    std::fprintf(stderr, "seed: %llu\n", (unsigned long long)sampler.seed);
  }
  char error[1024];
  qc_model *m = qc_open(weights, &options, error, sizeof error);
  if (!m) {
    std::fprintf(stderr, "error: %s\n", error);
    return 1;
  }
  if (options.context > qc_model_trained_context(m)) {
    std::fprintf(stderr, "error: --ctx %lld exceeds the model's trained context of %lld\n",
                 (long long)options.context, (long long)qc_model_trained_context(m));
    qc_model_free(m);
    return 2;
  }
  int64_t need = qc_tokenize(m, prompt.c_str(), 1, nullptr, 0);
  std::vector<int32_t> tokens(need);
  qc_tokenize(m, prompt.c_str(), 1, tokens.data(), need);
  int64_t ctx = qc_model_context(m), vocab = qc_model_vocab(m);
  if (need + steps > ctx) {
    std::fprintf(stderr,
                 "error: the prompt (%lld tokens) and %ld new tokens exceed "
                 "the context of %lld\n",
                 (long long)need, steps, (long long)ctx);
    qc_model_free(m);
    return 1;
  }
  std::printf("%s", prompt.c_str());
  std::fflush(stdout);
  std::vector<float> logits(vocab);
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  if (qc_model_eval(m, tokens.data(), need, 0, 0, logits.data()) != 0) {
    std::fprintf(stderr, "\nerror: %s\n", qc_model_error(m));
    return 1;
  }
  auto t1 = clock::now();
  uint64_t state = sampler.seed;
  int64_t pos = need, generated = 0;
  while (generated < steps) {
    int32_t next = qc_sample(logits.data(), vocab, &sampler, &state);
    if (next == qc_model_eos(m))
      break;
    std::printf("%s", qc_token_text(m, next));
    std::fflush(stdout);
    if (++generated == steps)
      break;
    if (qc_model_eval(m, &next, 1, pos++, 0, logits.data()) != 0) {
      std::fprintf(stderr, "\nerror: %s\n", qc_model_error(m));
      return 1;
    }
  }
  auto t2 = clock::now();
  std::printf("\n");
  std::fflush(stdout);
  double pp = std::chrono::duration<double>(t1 - t0).count();
  double tg = std::chrono::duration<double>(t2 - t1).count();
  std::fprintf(stderr,
               "prompt: %lld tokens, %.1f tok/s; generation: %lld tokens, "
               "%.1f tok/s\n",
               (long long)need, double(need) / pp, (long long)generated,
               generated ? double(generated) / tg : 0.0);
  qc_model_free(m);
  return 0;
}
