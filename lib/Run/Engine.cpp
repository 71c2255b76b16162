//===- Engine.cpp - Running a model ---------------------------------------===//
#include "qc/Run/Engine.h"
#include "qc/Tokenizer/Tokenizer.h"

#include <algorithm>

namespace qc {

Engine::Engine(const model::Model &m, const EngineOptions &o, int64_t context)
    : vocab(m.config.vocab), contextSize(context) {
  if (o.compiled.empty())
    reference = std::make_unique<FloatModel>(m, context);
  else
    compiled = std::make_unique<CompiledLibrary>(
        o.compiled, o.weights, qc_options{o.threads, context, o.mmap ? (o.releaseBlocks ? 2 : 1) : 0});
}

void Engine::eval(const int32_t *tokens, int64_t count, int64_t pos,
                  float *logits, bool all) {
  if (pos < 0 || count < 1 || pos + count > contextSize)
    throw model::FormatError("positions " + std::to_string(pos) + ".." +
                             std::to_string(pos + count - 1) +
                             " are outside the context of " +
                             std::to_string(contextSize));
  for (int64_t i = 0; i < count; ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      throw model::FormatError("token " + std::to_string(tokens[i]) +
                               " at index " + std::to_string(i) +
                               " is outside the vocabulary of " +
                               std::to_string(vocab));
  if (compiled) {
    compiled->eval(tokens, count, pos, all, logits);
    return;
  }
  if (all || !logits) {
    reference->forward(tokens, count, pos, logits);
    return;
  }
  std::vector<float> every(count * vocab);
  reference->forward(tokens, count, pos, every.data());
  std::copy_n(&every[(count - 1) * vocab], vocab, logits);
}

void Engine::observe(const InputObserver &observer) {
  if (reference)
    reference->setInputObserver(observer);
  else
    compiled->observeInputs(observer);
}

std::vector<int32_t> textTokens(const model::Model &m, const std::string &text,
                                size_t *unusual) {
  Tokenizer tok(m.vocab);
  std::vector<int32_t> ids = tok.encode(text, m.vocab.addBos);
  if (unusual) {
    *unusual = 0;
    for (int32_t id : ids)
      if (size_t(id) < m.vocab.types.size() &&
          (m.vocab.types[size_t(id)] == model::TokenType::Byte ||
           m.vocab.types[size_t(id)] == model::TokenType::Unknown))
        ++*unusual;
  }
  return ids;
}

std::string generate(const model::Model &m, Engine &engine,
                     const std::string &prompt, int64_t count,
                     const qc_sampler *sampler,
                     const std::function<void(const std::string &)> &onPiece) {
  Tokenizer tok(m.vocab);
  std::vector<int32_t> ids = tok.encode(prompt, m.vocab.addBos);
  if (ids.empty())
    throw model::FormatError("the prompt has no tokens (give a prompt, or a "
                             "model whose vocabulary adds BOS)");
  if (int64_t(ids.size()) + count > engine.context())
    throw model::FormatError("prompt (" + std::to_string(ids.size()) +
                             " tokens) plus " + std::to_string(count) +
                             " new tokens exceed the context of " +
                             std::to_string(engine.context()));
  std::vector<float> logits(m.config.vocab);
  engine.eval(ids.data(), int64_t(ids.size()), 0, logits.data(), false);
  uint64_t state = sampler ? sampler->seed : 0;
  int64_t pos = int64_t(ids.size());
  std::string text;
  for (int64_t i = 0; i < count; ++i) {
    int32_t next = qc_sample(logits.data(), m.config.vocab, sampler, &state);
    if (next == m.vocab.eos)
      break;
    std::string piece = tok.decode(next);
    text += piece;
    if (onPiece)
      onPiece(piece);
    if (i + 1 < count)
      engine.eval(&next, 1, pos++, logits.data(), false);
  }
  return text;
}

PerplexityResult perplexityOf(const model::Model &m, Engine &engine,
                              const std::vector<int32_t> &ids, int64_t ctx,
                              int64_t chunks) {
  return perplexity(ids, ctx, m.config.vocab,
                    m.vocab.addBos ? m.vocab.bos : -1, chunks, [] {},
                    [&](const int32_t *t, int64_t n, int64_t pos, float *l) {
                      engine.eval(t, n, pos, l);
                    });
}

KldResult kldOf(const model::Model &m, Engine &engine, Engine &baseline,
                const std::vector<int32_t> &ids, int64_t ctx, int64_t chunks) {
  if (ctx < 2)
    throw model::FormatError("ctx must be at least 2, got " +
                             std::to_string(ctx));
  int64_t vocab = m.config.vocab;
  KldResult r;
  r.chunks = int64_t(ids.size()) / ctx;
  if (chunks > 0)
    r.chunks = std::min(r.chunks, chunks);
  if (r.chunks == 0)
    throw model::FormatError("the text has " + std::to_string(ids.size()) +
                             " tokens, fewer than one window of " +
                             std::to_string(ctx));
  std::vector<float> lq(ctx * vocab), lb(ctx * vocab);
  for (int64_t c = 0; c < r.chunks; ++c) {
    std::vector<int32_t> window(ids.begin() + c * ctx,
                                ids.begin() + (c + 1) * ctx);
    if (m.vocab.addBos && m.vocab.bos >= 0)
      window[0] = m.vocab.bos;
    engine.eval(window.data(), ctx, 0, lq.data());
    baseline.eval(window.data(), ctx, 0, lb.data());
    int64_t first = ctx / 2, n = ctx - 1 - first;
    Divergence d = divergence(lb.data() + first * vocab,
                              lq.data() + first * vocab, n, vocab);
    r.kld += d.kl * double(n);
    r.top1 += d.top1 * double(n);
    r.maxAbs = std::max(r.maxAbs, d.maxAbs);
    r.minCosine = std::min(r.minCosine, d.minCosine);
    r.positions += n;
  }
  r.kld /= double(r.positions);
  r.top1 /= double(r.positions);
  return r;
}

} // namespace qc
