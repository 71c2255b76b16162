//===- main.cpp - The program quant-compile --emit=exe builds -------------===//
//
//   ./model [-m WEIGHTS] [-p PROMPT] [-n N] [-t THREADS] [--ctx N]
//           [--temp T] [--top-k K] [--top-p P] [--seed S] [--mmap]
//
// Generates text from the prompt (greedy unless --temp > 0) and reports
// prompt and generation speed on stderr.
//
//===----------------------------------------------------------------------===//
#include "qc/runtime.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void usage(const char *why) {
  std::fprintf(stderr,
               "error: %s\nusage: model [-m WEIGHTS] [-p PROMPT] [-n N] "
               "[-t THREADS] [--ctx N] [--temp T] [--top-k K] [--top-p P] "
               "[--seed S] [--mmap]\n",
               why);
  std::exit(2);
}

double number(const char *flag, const char *text) {
  char *end = nullptr;
  double v = std::strtod(text, &end);
  if (!*text || *end)
    usage((std::string(flag) + " needs a number, got '" + text + "'").c_str());
  return v;
}

} // namespace

int main(int argc, char **argv) {
  const char *weights = nullptr;
  std::string prompt = "Once upon a time";
  long steps = 64;
  qc_options options{};
  qc_sampler sampler{0.0f, 40, 0.95f, 42};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char * {
      if (i + 1 >= argc)
        usage((a + " needs a value").c_str());
      return argv[++i];
    };
    if (a == "-m") weights = value();
    else if (a == "-p") prompt = value();
    else if (a == "-n") steps = long(number("-n", value()));
    else if (a == "-t") options.threads = int(number("-t", value()));
    else if (a == "--ctx") options.context = int64_t(number("--ctx", value()));
    else if (a == "--temp") sampler.temperature = float(number("--temp", value()));
    else if (a == "--top-k") sampler.top_k = int(number("--top-k", value()));
    else if (a == "--top-p") sampler.top_p = float(number("--top-p", value()));
    else if (a == "--seed") sampler.seed = uint64_t(number("--seed", value()));
    else if (a == "--mmap") options.mmap = 1;
    else usage(("unknown argument '" + a + "'").c_str());
  }
  if (steps < 0 || options.threads < 0 || options.context < 0)
    usage("-n, -t and --ctx must not be negative");
  char error[1024];
  qc_model *m = qc_open(weights, &options, error, sizeof error);
  if (!m) {
    std::fprintf(stderr, "error: %s\n", error);
    return 1;
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
