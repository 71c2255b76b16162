//===- Llama2c.cpp - llama2.c checkpoints and tokenizer.bin ---------------===//
//
// Legacy (v0) files: 7 int32 (dim, hidden, layers, heads, kv heads, vocab —
// negative when the classifier is not shared —, seq len), then f32 weights in
// run.c's order. Versioned files: magic "ak42", int32 version (1: f32,
// 2: int8 groups), the 7 ints, a shared-classifier byte, [group size], a
// 256-byte header, then export.py's order.
//
//===----------------------------------------------------------------------===//
#include "MappedFile.h"
#include "qc/Formats/Half.h"

#include <cmath>

namespace qc::model {

namespace {

constexpr uint32_t kMagic = 0x616b3432; // "ak42"

struct Header {
  int32_t dim, hidden, layers, heads, kvHeads, vocab, seqLen;
  bool shared;
  int version; // 0 legacy, 1 f32, 2 int8
  int32_t group = 0;
  uint64_t weightsOffset;
};

Header readHeader(Cursor &in) {
  Header h{};
  uint32_t first = in.read<uint32_t>("magic or dim");
  if (first == kMagic) {
    h.version = in.read<int32_t>("version");
    if (h.version != 1 && h.version != 2)
      in.fail("unsupported llama2.c version " + std::to_string(h.version) +
                  " (expected 1 or 2)",
              4);
  } else {
    h.version = 0;
    in.seek(0);
  }
  for (int32_t *f : {&h.dim, &h.hidden, &h.layers, &h.heads, &h.kvHeads,
                     &h.vocab, &h.seqLen})
    *f = in.read<int32_t>("header field");
  if (h.version == 0) {
    h.shared = h.vocab > 0;
    if (h.vocab < 0 && h.vocab != INT32_MIN)
      h.vocab = -h.vocab; // a negative size marks an unshared classifier
    h.weightsOffset = in.offset();
  } else {
    h.shared = in.read<uint8_t>("shared classifier flag") != 0;
    if (h.version == 2) {
      h.group = in.read<int32_t>("group size");
      if (h.group <= 0 || h.group > (1 << 20))
        in.fail("group size must be positive, got " + std::to_string(h.group));
    }
    h.weightsOffset = 256;
  }
  auto positive = [&](int32_t v, const char *what) {
    if (v <= 0 || v > (1 << 24))
      in.fail(std::string("header: ") + what + " must be in [1, 2^24], got " +
                  std::to_string(v),
              0);
  };
  positive(h.dim, "dim");
  positive(h.hidden, "hidden_dim");
  positive(h.layers, "n_layers");
  positive(h.heads, "n_heads");
  positive(h.kvHeads, "n_kv_heads");
  positive(h.vocab, "vocab_size");
  positive(h.seqLen, "seq_len");
  if (h.dim % h.heads || h.heads % h.kvHeads)
    in.fail("header: dim must be a multiple of n_heads and n_heads of "
            "n_kv_heads",
            0);
  return h;
}

/// Reads one weight tensor in the file's encoding.
class WeightReader {
public:
  WeightReader(Cursor &in, const Header &h) : in(in), h(h) {}

  std::vector<float> f32(int64_t n, const std::string &what) {
    // Bounds first: a hostile header must not make us allocate its lie.
    const uint8_t *p =
        in.take(uint64_t(checkedMul(n, 4, what)), what.c_str());
    std::vector<float> v(n);
    std::memcpy(v.data(), p, v.size() * 4);
    return v;
  }
  /// Matrices: f32, or in version 2 int8 codes then one f32 scale per group.
  std::vector<float> matrix(int64_t n, const std::string &what) {
    if (h.version != 2)
      return f32(n, what);
    if (n % h.group != 0)
      in.fail(what + ": " + std::to_string(n) +
              " weights are not a whole number of groups of " +
              std::to_string(h.group));
    const int8_t *q = reinterpret_cast<const int8_t *>(in.take(n, what.c_str()));
    std::vector<float> s = f32(n / h.group, what + " scales");
    if (s.empty())
      return {};
    std::vector<float> v(n);
    for (int64_t i = 0; i < n; ++i)
      v[i] = float(q[i]) * s[i / h.group];
    return v;
  }

private:
  Cursor &in;
  const Header &h;
};

} // namespace

Model readLlama2c(const std::string &path, const std::string &tokenizerPath) {
  MappedFile file(path);
  Cursor in(file);
  Header h = readHeader(in);
  in.seek(h.weightsOffset);

  Model m;
  m.source = path;
  Config &c = m.config;
  c.arch = "llama";
  c.dim = h.dim;
  c.hidden = h.hidden;
  c.layers = h.layers;
  c.heads = h.heads;
  c.kvHeads = h.kvHeads;
  c.vocab = h.vocab;
  c.context = h.seqLen;
  c.tiedOutput = h.shared;
  int64_t dim = h.dim, hidden = h.hidden, L = h.layers;
  int64_t kvDim = dim / h.heads * h.kvHeads;
  WeightReader w(in, h);

  auto perLayer = [&](const char *suffix, std::vector<int64_t> shape,
                      bool isMatrix) {
    int64_t n = 1;
    for (int64_t d : shape)
      n = checkedMul(n, d, path);
    std::vector<float> all = isMatrix
                                 ? w.matrix(checkedMul(n, L, path), suffix)
                                 : w.f32(checkedMul(n, L, path), suffix);
    for (int64_t l = 0; l < L; ++l) {
      std::string name = "blk." + std::to_string(l) + "." + suffix;
      m.tensors[name] = Tensor::fromFloats(name, shape, all.data() + l * n);
    }
  };
  auto single = [&](const char *name, std::vector<int64_t> shape,
                    bool isMatrix) {
    int64_t n = 1;
    for (int64_t d : shape)
      n = checkedMul(n, d, path);
    std::vector<float> v = isMatrix ? w.matrix(n, name) : w.f32(n, name);
    m.tensors[name] = Tensor::fromFloats(name, shape, v.data());
  };

  if (h.version == 0) {
    single("token_embd.weight", {h.vocab, dim}, true);
    perLayer("attn_norm.weight", {dim}, false);
    perLayer("attn_q.weight", {dim, dim}, true);
    perLayer("attn_k.weight", {kvDim, dim}, true);
    perLayer("attn_v.weight", {kvDim, dim}, true);
    perLayer("attn_output.weight", {dim, dim}, true);
    perLayer("ffn_norm.weight", {dim}, false);
    perLayer("ffn_gate.weight", {hidden, dim}, true);
    perLayer("ffn_down.weight", {dim, hidden}, true);
    perLayer("ffn_up.weight", {hidden, dim}, true);
    single("output_norm.weight", {dim}, false);
    // RoPE tables (freq_cis_real / imag), recomputed at run time.
    int64_t ropeFloats = checkedMul(h.seqLen, dim / h.heads, path);
    in.take(uint64_t(checkedMul(ropeFloats, 4, path)), "RoPE tables");
  } else {
    perLayer("attn_norm.weight", {dim}, false);
    perLayer("ffn_norm.weight", {dim}, false);
    single("output_norm.weight", {dim}, false);
    single("token_embd.weight", {h.vocab, dim}, true);
    perLayer("attn_q.weight", {dim, dim}, true);
    perLayer("attn_k.weight", {kvDim, dim}, true);
    perLayer("attn_v.weight", {kvDim, dim}, true);
    perLayer("attn_output.weight", {dim, dim}, true);
    perLayer("ffn_gate.weight", {hidden, dim}, true);
    perLayer("ffn_down.weight", {dim, hidden}, true);
    perLayer("ffn_up.weight", {hidden, dim}, true);
  }
  if (!h.shared)
    single("output.weight", {h.vocab, dim}, true);
  if (!in.atEnd() && h.version != 0)
    in.fail("unexpected " + std::to_string(file.size() - in.offset()) +
            " bytes after the last tensor");
  for (auto &[name, t] : m.tensors)
    for (float v : t.toFloats())
      if (!std::isfinite(v))
        throw FormatError(path + ": tensor '" + name +
                          "' holds a NaN or infinite weight");

  m.vocab = readLlama2cTokenizer(tokenizerPath, h.vocab);
  m.metadata["general.architecture"] = "llama";
  m.metadata["llama2c.version"] = std::to_string(h.version);
  m.validate();
  return m;
}

Vocabulary readLlama2cTokenizer(const std::string &path, int64_t vocabSize) {
  MappedFile file(path);
  Cursor in(file);
  Vocabulary v;
  v.kind = TokenizerKind::SentencePiece;
  uint32_t maxLen = in.read<uint32_t>("max token length");
  if (maxLen == 0 || maxLen > 4096)
    in.fail("max token length must be in [1, 4096], got " +
                std::to_string(maxLen),
            0);
  auto mismatch = [&](const std::string &pieces) {
    in.fail("the tokenizer has " + pieces + " pieces, the model a vocabulary of " +
            std::to_string(vocabSize) + ": they were made for different models");
  };
  for (int64_t id = 0; id < vocabSize; ++id) {
    if (in.atEnd())
      mismatch(std::to_string(id));
    float score = in.read<float>("token score");
    uint32_t len = in.read<uint32_t>("token length");
    if (len > maxLen)
      in.fail("token " + std::to_string(id) + " is " + std::to_string(len) +
              " bytes, longer than the declared maximum " +
              std::to_string(maxLen));
    std::string text = in.string(len, "token text");
    TokenType type = TokenType::Normal;
    unsigned byte;
    char tail;
    if (id == 0) {
      text = "<unk>";
      type = TokenType::Unknown;
    } else if (id == 1 || id == 2) {
      text = id == 1 ? "<s>" : "</s>";
      type = TokenType::Control;
    } else if (text.size() == 6 &&
               std::sscanf(text.c_str(), "<0x%2X%c", &byte, &tail) == 2 &&
               tail == '>') {
      type = TokenType::Byte;
    } else if (text.empty()) {
      type = TokenType::Control;
    }
    // SentencePiece writes spaces as U+2581; llama2.c exported them as ' '.
    std::string escaped;
    for (char ch : text)
      escaped += ch == ' ' ? std::string("\xE2\x96\x81") : std::string(1, ch);
    v.tokens.push_back(escaped);
    v.scores.push_back(score);
    v.types.push_back(type);
  }
  if (!in.atEnd()) {
    int64_t more = 0;
    for (; !in.atEnd(); ++more) {
      in.read<float>("token score");
      in.take(in.read<uint32_t>("token length"), "token text");
    }
    mismatch(std::to_string(vocabSize + more));
  }
  v.bos = 1;
  v.eos = 2;
  v.unk = 0;
  return v;
}

} // namespace qc::model
