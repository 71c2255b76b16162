//===- GGUFWriter.cpp - GGUF v3 writer ------------------------------------===//
#include "qc/Export/GGUFWriter.h"
#include "qc/Formats/GGML.h"
#include "qc/Model/Archive.h"

#include <cstring>

namespace qc {

namespace {

enum : uint32_t { U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STRING = 8, ARRAY = 9 };
constexpr uint64_t kAlignment = 32;

class Writer {
public:
  template <typename T> void pod(T v) {
    out.append(reinterpret_cast<const char *>(&v), sizeof v);
  }
  void str(const std::string &s) {
    pod<uint64_t>(s.size());
    out += s;
  }
  void key(const std::string &k, uint32_t type) {
    str(k);
    pod(type);
    ++count;
  }
  void u32(const std::string &k, uint32_t v) { key(k, U32); pod(v); }
  void f32(const std::string &k, float v) { key(k, F32); pod(v); }
  void boolean(const std::string &k, bool v) { key(k, BOOL); pod<uint8_t>(v); }
  void text(const std::string &k, const std::string &v) { key(k, STRING); str(v); }
  void strings(const std::string &k, const std::vector<std::string> &v) {
    key(k, ARRAY);
    pod(STRING);
    pod<uint64_t>(v.size());
    for (const std::string &s : v)
      str(s);
  }
  template <typename T>
  void array(const std::string &k, uint32_t type, const std::vector<T> &v) {
    key(k, ARRAY);
    pod(type);
    pod<uint64_t>(v.size());
    for (const T &x : v)
      pod(x);
  }
  void pad() {
    while (out.size() % kAlignment)
      out += '\0';
  }

  std::string out;
  uint64_t count = 0;
};

} // namespace

void writeGGUF(const model::Model &m, const std::string &path) {
  const model::Config &c = m.config;
  const model::Vocabulary &v = m.vocab;
  if (v.tokens.empty())
    throw model::FormatError(path + ": the model has no tokenizer to write");
  Writer kv;
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
  kv.text("tokenizer.ggml.model", spm ? "llama" : "gpt2");
  if (!spm)
    kv.text("tokenizer.ggml.pre", v.pretokenizer);
  kv.strings("tokenizer.ggml.tokens", v.tokens);
  kv.array("tokenizer.ggml.scores", F32, v.scores);
  std::vector<int32_t> types;
  for (model::TokenType t : v.types)
    types.push_back(int32_t(t));
  kv.array("tokenizer.ggml.token_type", I32, types);
  if (!v.merges.empty())
    kv.strings("tokenizer.ggml.merges", v.merges);
  if (v.bos >= 0) kv.u32("tokenizer.ggml.bos_token_id", uint32_t(v.bos));
  if (v.eos >= 0) kv.u32("tokenizer.ggml.eos_token_id", uint32_t(v.eos));
  if (v.unk >= 0) kv.u32("tokenizer.ggml.unknown_token_id", uint32_t(v.unk));
  kv.boolean("tokenizer.ggml.add_bos_token", v.addBos);
  kv.boolean("tokenizer.ggml.add_space_prefix", v.addSpacePrefix);

  Writer infos;
  uint64_t offset = 0;
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
    infos.str(name);
    infos.pod<uint32_t>(t.shape.size());
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it)
      infos.pod<uint64_t>(*it);
    infos.pod<uint32_t>(uint32_t(info->type));
    infos.pod<uint64_t>(offset);
    offset += (t.bytes.size() + kAlignment - 1) / kAlignment * kAlignment;
  }
  Writer file;
  file.out = "GGUF";
  file.pod<uint32_t>(3);
  file.pod<uint64_t>(m.tensors.size());
  file.pod<uint64_t>(kv.count);
  file.out += kv.out;
  file.out += infos.out;
  file.pad();
  for (const auto &[name, t] : m.tensors) {
    file.out.append(reinterpret_cast<const char *>(t.bytes.data()),
                    t.bytes.size());
    file.pad();
  }
  model::writeFileAtomically(path, file.out);
}

} // namespace qc
