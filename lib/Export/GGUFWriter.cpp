//===- GGUFWriter.cpp - GGUF v3 writer ------------------------------------===//
#include "qc/Export/GGUFWriter.h"
#include "qc/Formats/GGML.h"
#include "qc/Model/Archive.h"

#include <cstring>

namespace qc {

namespace {
enum : uint32_t { U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STRING = 8, ARRAY = 9 };
constexpr uint64_t kAlignment = 32;
} // namespace

template <typename T> void GGUFBuilder::Bytes::pod(T v) {
  out.append(reinterpret_cast<const char *>(&v), sizeof v);
}
void GGUFBuilder::Bytes::str(const std::string &s) {
  pod<uint64_t>(s.size());
  out += s;
}
void GGUFBuilder::Bytes::pad() {
  while (out.size() % kAlignment)
    out += '\0';
}

void GGUFBuilder::key(const std::string &k, uint32_t type) {
  kv.str(k);
  kv.pod(type);
  ++keys;
}
void GGUFBuilder::u32(const std::string &k, uint32_t v) {
  key(k, U32);
  kv.pod(v);
}
void GGUFBuilder::f32(const std::string &k, float v) {
  key(k, F32);
  kv.pod(v);
}
void GGUFBuilder::boolean(const std::string &k, bool v) {
  key(k, BOOL);
  kv.pod<uint8_t>(v);
}
void GGUFBuilder::text(const std::string &k, const std::string &v) {
  key(k, STRING);
  kv.str(v);
}
void GGUFBuilder::strings(const std::string &k,
                          const std::vector<std::string> &v) {
  key(k, ARRAY);
  kv.pod(STRING);
  kv.pod<uint64_t>(v.size());
  for (const std::string &s : v)
    kv.str(s);
}
void GGUFBuilder::floats(const std::string &k, const std::vector<float> &v) {
  key(k, ARRAY);
  kv.pod(F32);
  kv.pod<uint64_t>(v.size());
  for (float x : v)
    kv.pod(x);
}
void GGUFBuilder::ints(const std::string &k, const std::vector<int32_t> &v) {
  key(k, ARRAY);
  kv.pod(I32);
  kv.pod<uint64_t>(v.size());
  for (int32_t x : v)
    kv.pod(x);
}

void GGUFBuilder::tensor(const std::string &name,
                         const std::vector<int64_t> &shape, uint32_t type,
                         const uint8_t *bytes, size_t size) {
  infos.str(name);
  infos.pod<uint32_t>(uint32_t(shape.size()));
  for (auto it = shape.rbegin(); it != shape.rend(); ++it)
    infos.pod<uint64_t>(uint64_t(*it));
  infos.pod<uint32_t>(type);
  infos.pod<uint64_t>(data.out.size());
  data.out.append(reinterpret_cast<const char *>(bytes), size);
  data.pad();
  ++tensors;
}

void GGUFBuilder::write(const std::string &path) {
  Bytes file;
  file.out = "GGUF";
  file.pod<uint32_t>(3);
  file.pod<uint64_t>(tensors);
  file.pod<uint64_t>(keys);
  file.out += kv.out;
  file.out += infos.out;
  file.pad();
  file.out += data.out;
  model::writeFileAtomically(path, file.out);
}

void writeGGUF(const model::Model &m, const std::string &path) {
  const model::Config &c = m.config;
  const model::Vocabulary &v = m.vocab;
  if (v.tokens.empty())
    throw model::FormatError(path + ": the model has no tokenizer to write");
  GGUFBuilder kv;
  std::string a = c.arch;
  kv.text("general.architecture", a);
  kv.text("general.name", m.source);
  kv.u32("general.alignment", kAlignment);
  kv.u32(a + ".context_length", uint32_t(c.context));
  kv.u32(a + ".embedding_length", uint32_t(c.dim));
  kv.u32(a + ".feed_forward_length", uint32_t(c.hidden));
  kv.u32(a + ".block_count", uint32_t(c.layers));
  kv.u32(a + ".attention.head_count", uint32_t(c.heads));
  kv.u32(a + ".attention.head_count_kv", uint32_t(c.kvHeads));
  kv.f32(a + ".attention.layer_norm_rms_epsilon", c.normEps);
  kv.f32(a + ".rope.freq_base", c.ropeTheta);
  kv.u32(a + ".rope.dimension_count", uint32_t(c.headDim()));
  if (c.ropeFreqScale != 1.0f) {
    kv.text(a + ".rope.scaling.type", "linear");
    kv.f32(a + ".rope.scaling.factor", 1.0f / c.ropeFreqScale);
  }
  bool spm = v.kind == model::TokenizerKind::SentencePiece;
  kv.text("tokenizer.ggml.model", spm ? "llama"
                                  : v.kind == model::TokenizerKind::WordPiece
                                      ? "bert"
                                      : "gpt2");
  if (v.kind == model::TokenizerKind::BytePairGPT2)
    kv.text("tokenizer.ggml.pre", v.pretokenizer);
  kv.strings("tokenizer.ggml.tokens", v.tokens);
  kv.floats("tokenizer.ggml.scores", v.scores);
  std::vector<int32_t> types;
  for (model::TokenType t : v.types)
    types.push_back(int32_t(t));
  kv.ints("tokenizer.ggml.token_type", types);
  if (!v.merges.empty())
    kv.strings("tokenizer.ggml.merges", v.merges);
  if (v.bos >= 0) kv.u32("tokenizer.ggml.bos_token_id", uint32_t(v.bos));
  if (v.eos >= 0) kv.u32("tokenizer.ggml.eos_token_id", uint32_t(v.eos));
  if (v.unk >= 0) kv.u32("tokenizer.ggml.unknown_token_id", uint32_t(v.unk));
  kv.boolean("tokenizer.ggml.add_bos_token", v.addBos);
  kv.boolean("tokenizer.ggml.add_space_prefix", v.addSpacePrefix);

  for (const auto &[name, t] : m.tensors) {
    auto info = formats::ggmlTypeByName(t.format);
    if (!info)
      throw model::FormatError(path + ": tensor '" + name + "' is stored as " +
                               t.format +
                               ", which has no GGUF type (quantize it to a "
                               "#qc.gguf format to export)");
    if (t.shape.empty() || t.shape.size() > 4)
      throw model::FormatError(path + ": tensor '" + name +
                               "' has a rank GGUF cannot hold");
    kv.tensor(name, t.shape, uint32_t(info->type), t.bytes.data(),
              t.bytes.size());
  }
  kv.write(path);
}

} // namespace qc
