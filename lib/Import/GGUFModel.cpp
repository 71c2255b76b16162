//===- GGUFModel.cpp - GGUF file to Model ---------------------------------===//
#include "GGUFFile.h"
#include "MappedFile.h"

#include <cmath>

namespace qc::model {

namespace {

class ModelBuilder {
public:
  ModelBuilder(const MappedFile &file, const GGUFFile &g, bool view = false)
      : file(file), g(g), view(view) {}

  Model build() {
    Model m;
    m.source = file.path();
    std::string arch = text("general.architecture");
    if (arch != "llama" && arch != "qwen2")
      fail("general.architecture is '" + arch +
           "', expected 'llama' or 'qwen2'");
    Config &c = m.config;
    c.arch = arch;
    c.dim = integer(arch + ".embedding_length");
    c.hidden = integer(arch + ".feed_forward_length");
    c.layers = integer(arch + ".block_count");
    c.heads = integer(arch + ".attention.head_count");
    c.kvHeads = optInteger(arch + ".attention.head_count_kv", c.heads);
    c.context = optInteger(arch + ".context_length", 2048);
    c.normEps = float(optReal(arch + ".attention.layer_norm_rms_epsilon", 1e-5));
    c.ropeTheta = float(optReal(arch + ".rope.freq_base", 10000.0));
    std::string scaling = optText(arch + ".rope.scaling.type", "none");
    if (scaling == "linear")
      c.ropeFreqScale = float(1.0 / optReal(arch + ".rope.scaling.factor", 1.0));
    else if (scaling != "none")
      fail(arch + ".rope.scaling.type '" + scaling +
           "' is not supported (none or linear)");
    if (c.heads > 0 && c.dim % c.heads == 0 &&
        optInteger(arch + ".rope.dimension_count", c.dim / c.heads) !=
            c.dim / c.heads)
      fail(arch + ".rope.dimension_count must equal the head dimension "
                  "(partial rotary embedding is not supported)");
    c.ropeNeox = arch == "qwen2";
    c.qkvBias = arch == "qwen2";

    for (const GGUFTensorInfo &info : g.tensors) {
      Tensor t;
      t.name = info.name;
      t.shape = info.shape;
      auto type = formats::ggmlTypeInfo(uint32_t(info.type));
      t.format = type->name;
      if (!type->canDequantize)
        fail("tensor '" + t.name + "' has type " + t.format +
             ", which qc cannot read");
      if (view) {
        t.view = file.data() + info.offset;
        t.viewSize = info.size;
        t.fileBacked = true;
      } else {
        t.bytes.assign(file.data() + info.offset,
                       file.data() + info.offset + info.size);
      }
      m.tensors[t.name] = std::move(t);
    }
    c.vocab = m.has("token_embd.weight") ? m.tensor("token_embd.weight").shape[0]
                                         : 0;
    c.tiedOutput = !m.has("output.weight");
    // Keep all metadata (scalars as text, arrays by length).
    for (const auto &[key, v] : g.values)
      m.metadata[key] = describe(v);
    readVocabulary(m.vocab);
    m.validate();
    return m;
  }

private:
  [[noreturn]] void fail(const std::string &why) const {
    throw FormatError(file.path() + ": " + why);
  }
  const GGUFValue *find(const std::string &key) const {
    auto it = g.values.find(key);
    return it == g.values.end() ? nullptr : &it->second;
  }
  const GGUFValue &need(const std::string &key) const {
    const GGUFValue *v = find(key);
    if (!v)
      fail("missing key '" + key + "'");
    return *v;
  }
  std::string text(const std::string &key) const {
    const GGUFValue &v = need(key);
    if (v.type != 8)
      fail("key '" + key + "' must be a string");
    return v.text;
  }
  std::string optText(const std::string &key, const std::string &def) const {
    return find(key) ? text(key) : def;
  }
  int64_t integer(const std::string &key) const {
    const GGUFValue &v = need(key);
    if (v.type == 8 || v.type == 9 || v.type == 6 || v.type == 12)
      fail("key '" + key + "' must be an integer");
    if (v.integer <= 0 || v.integer > (int64_t(1) << 31))
      fail("key '" + key + "' must be in [1, 2^31], got " +
           std::to_string(v.integer));
    return v.integer;
  }
  int64_t optInteger(const std::string &key, int64_t def) const {
    return find(key) ? integer(key) : def;
  }
  double optReal(const std::string &key, double def) const {
    const GGUFValue *v = find(key);
    if (!v)
      return def;
    if (v->type == 8 || v->type == 9 || !std::isfinite(v->real) || v->real <= 0)
      fail("key '" + key + "' must be a positive number");
    return v->real;
  }
  static std::string describe(const GGUFValue &v) {
    if (v.type == 8)
      return v.text;
    if (v.type == 9)
      return "[array of " + std::to_string(v.array.size()) + "]";
    if (v.type == 6 || v.type == 12)
      return std::to_string(v.real);
    return std::to_string(v.integer);
  }
  const std::vector<GGUFValue> &array(const std::string &key,
                                      uint32_t elementType) const {
    const GGUFValue &v = need(key);
    if (v.type != 9 || v.elementType != elementType)
      fail("key '" + key + "' must be an array of type " +
           std::to_string(elementType));
    return v.array;
  }

public:
  void readVocabulary(Vocabulary &vocab) const {
    std::string model = text("tokenizer.ggml.model");
    if (model == "llama")
      vocab.kind = TokenizerKind::SentencePiece;
    else if (model == "gpt2")
      vocab.kind = TokenizerKind::BytePairGPT2;
    else if (model == "bert")
      vocab.kind = TokenizerKind::WordPiece;
    else
      fail("tokenizer.ggml.model '" + model +
           "' is not supported (llama, gpt2, bert)");
    vocab.pretokenizer = optText("tokenizer.ggml.pre", "default");
    for (const GGUFValue &t : array("tokenizer.ggml.tokens", 8)) {
      if (!isValidUtf8(t.text))
        fail("tokenizer.ggml.tokens[" + std::to_string(vocab.tokens.size()) +
             "] is not valid UTF-8");
      vocab.tokens.push_back(t.text);
    }
    size_t n = vocab.tokens.size();
    if (find("tokenizer.ggml.scores")) {
      for (const GGUFValue &s : array("tokenizer.ggml.scores", 6))
        vocab.scores.push_back(float(s.real));
      if (vocab.scores.size() != n)
        fail("tokenizer.ggml.scores has " + std::to_string(vocab.scores.size()) +
             " entries for " + std::to_string(n) + " tokens");
    } else {
      vocab.scores.assign(n, 0.0f);
    }
    if (find("tokenizer.ggml.token_type")) {
      for (const GGUFValue &t : array("tokenizer.ggml.token_type", 5)) {
        if (t.integer < 1 || t.integer > 6)
          fail("tokenizer.ggml.token_type has unknown type " +
               std::to_string(t.integer));
        vocab.types.push_back(TokenType(t.integer));
      }
      if (vocab.types.size() != n)
        fail("tokenizer.ggml.token_type has " +
             std::to_string(vocab.types.size()) + " entries for " +
             std::to_string(n) + " tokens");
    } else {
      vocab.types.assign(n, TokenType::Normal);
    }
    if (find("tokenizer.ggml.merges"))
      for (const GGUFValue &mg : array("tokenizer.ggml.merges", 8))
        vocab.merges.push_back(mg.text);
    auto id = [&](const std::string &key, int32_t def) {
      const GGUFValue *v = find(key);
      if (!v)
        return def;
      if (v->integer < 0 || v->integer >= int64_t(n))
        return int32_t(-1); // llama.cpp: out-of-range special ids are unset
      return int32_t(v->integer);
    };
    bool spm = vocab.kind == TokenizerKind::SentencePiece;
    vocab.bos = id("tokenizer.ggml.bos_token_id", spm ? 1 : -1);
    vocab.eos = id("tokenizer.ggml.eos_token_id", spm ? 2 : -1);
    vocab.unk = id("tokenizer.ggml.unknown_token_id", spm ? 0 : -1);
    const GGUFValue *addBos = find("tokenizer.ggml.add_bos_token");
    vocab.addBos = addBos ? addBos->integer != 0 : spm;
    const GGUFValue *prefix = find("tokenizer.ggml.add_space_prefix");
    vocab.addSpacePrefix = prefix ? prefix->integer != 0 : spm;
  }

private:
  const MappedFile &file;
  const GGUFFile &g;
  bool view;
};

} // namespace

Vocabulary readGGUFVocabulary(const std::string &path) {
  MappedFile file(path);
  GGUFFile g = parseGGUF(file);
  Vocabulary vocab;
  ModelBuilder(file, g).readVocabulary(vocab);
  return vocab;
}

Model readGGUF(const std::string &path, bool mapWeights) {
  auto file = std::make_shared<MappedFile>(path);
  GGUFFile g = parseGGUF(*file);
  Model m = ModelBuilder(*file, g, mapWeights).build();
  if (mapWeights)
    m.mapping = file;
  return m;
}

} // namespace qc::model
