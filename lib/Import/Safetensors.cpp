//===- Safetensors.cpp - safetensors reader/writer, Hugging Face models ---===//
#include "qc/Model/Json.h"
#include "MappedFile.h"
#include "RopeOrder.h"
#include "qc/Model/Archive.h"
#include "qc/Support/Format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace qc::model {

namespace {

std::string readText(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    throw FormatError(path + ": cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool exists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

struct DType {
  const char *name;
  int size;
};
const DType kDTypes[] = {{"F32", 4}, {"F16", 2}, {"BF16", 2}, {"U8", 1}};

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

/// Reads every tensor of one safetensors file into `out` (by its own name).
/// With `keep`, tensors view the mapped file, which `keep` then holds.
void readSafetensorsFile(const std::string &path,
                         std::map<std::string, Tensor> &out,
                         std::map<std::string, std::string> &metadata,
                         std::shared_ptr<const void> *keep = nullptr) {
  auto mapped = std::make_shared<MappedFile>(path);
  const MappedFile &file = *mapped;
  if (keep)
    *keep = mapped;
  Cursor in(file);
  uint64_t headerLen = in.read<uint64_t>("header length");
  if (headerLen > file.size() - 8 || headerLen > (uint64_t(100) << 20))
    in.fail("header length " + std::to_string(headerLen) +
                " exceeds the file (or 100 MiB)",
            0);
  Json header = parseJson(in.string(headerLen, "header"), path);
  if (header.kind != Json::Object)
    in.fail("header must be a JSON object", 8);
  uint64_t dataStart = 8 + headerLen, dataSize = file.size() - dataStart;
  if (const Json *meta = header.get("__metadata__"))
    for (const auto &[k, v] : meta->fields)
      if (v.kind == Json::String)
        metadata[k] = v.text;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto &field : header.fields) {
    const std::string &name = field.first;
    const Json &info = field.second;
    if (name == "__metadata__")
      continue;
    auto bad = [&](const std::string &why) {
      throw FormatError(path + ": tensor '" + name + "': " + why);
    };
    const Json *dtype = info.get("dtype"), *shape = info.get("shape"),
               *offsets = info.get("data_offsets");
    if (!dtype || dtype->kind != Json::String || !shape ||
        shape->kind != Json::Array || !offsets ||
        offsets->kind != Json::Array || offsets->items.size() != 2)
      bad("needs dtype, shape and two data_offsets");
    const DType *dt = nullptr;
    for (const DType &d : kDTypes)
      if (dtype->text == d.name)
        dt = &d;
    if (!dt)
      bad("unsupported dtype '" + dtype->text + "' (F32, F16, BF16, U8)");
    Tensor t;
    t.name = name;
    int64_t count = 1;
    for (const Json &d : shape->items) {
      if (d.kind != Json::Number || d.number < 0 || d.number > 1e12 ||
          d.number != std::floor(d.number))
        bad("shape entries must be non-negative integers");
      t.shape.push_back(int64_t(d.number));
      count = checkedMul(count, t.shape.back(), path + ": tensor '" + name + "'");
    }
    double b = offsets->items[0].number, e = offsets->items[1].number;
    if (!(b >= 0 && e >= b && e <= double(dataSize)))
      bad("data_offsets [" + number(b) + ", " + number(e) +
          "] fall outside the " + std::to_string(dataSize) + " data bytes");
    uint64_t begin = uint64_t(b), end = uint64_t(e);
    if (end - begin != uint64_t(checkedMul(count, dt->size, path)))
      bad("data_offsets span " + std::to_string(end - begin) +
          " bytes, shape and dtype need " + std::to_string(count * dt->size));
    ranges.push_back({begin, end});
    t.format = dt->name;
    if (keep) {
      t.view = file.data() + dataStart + begin;
      t.viewSize = end - begin;
      t.fileBacked = true;
    } else {
      t.bytes.assign(file.data() + dataStart + begin,
                     file.data() + dataStart + end);
    }
    // A packed blob: its metadata names the format and logical shape.
    auto fmt = metadata.find("format:" + name);
    if (t.format == "U8" && fmt != metadata.end()) {
      Json f = parseJson(fmt->second, path + " metadata format:" + name);
      const Json *format = f.get("format"), *logical = f.get("shape");
      std::unique_ptr<formats::Codec> codec =
          format && format->kind == Json::String
              ? formats::makeCodec(format->text)
              : nullptr;
      if (!codec || !logical || logical->kind != Json::Array ||
          logical->items.empty())
        bad("metadata format entry must name a known format and a shape");
      t.format = format->text;
      t.shape.clear();
      int64_t n = 1;
      for (const Json &d : logical->items) {
        if (d.kind != Json::Number || d.number < 1 || d.number > 1e12)
          bad("metadata format shape entries must be positive integers");
        t.shape.push_back(int64_t(d.number));
        n = checkedMul(n, t.shape.back(), path);
      }
      if (codec->packedBytes(n / t.shape.back(), t.shape.back()) !=
          int64_t(t.size()))
        bad("blob size does not match its format and shape");
    }
    out[name] = std::move(t);
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i - 1].second > ranges[i].first)
      throw FormatError(path + ": tensor data ranges overlap at data offset " +
                        std::to_string(ranges[i].first));
}

std::string ggufName(const std::string &hf) {
  static const std::pair<const char *, const char *> kLayer[] = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.bias", "attn_v.bias"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"}};
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  const std::string prefix = "model.layers.";
  if (hf.compare(0, prefix.size(), prefix) != 0)
    return "";
  size_t dot = hf.find('.', prefix.size());
  if (dot == std::string::npos)
    return "";
  std::string layer = hf.substr(prefix.size(), dot - prefix.size());
  if (layer.empty() || layer.find_first_not_of("0123456789") != std::string::npos)
    return "";
  std::string rest = hf.substr(dot + 1);
  for (auto [from, to] : kLayer)
    if (rest == from)
      return "blk." + layer + "." + to;
  return "";
}

int64_t configInt(const Json &cfg, const char *key, const std::string &path,
                  int64_t def = -1) {
  const Json *v = cfg.get(key);
  if (!v) {
    if (def >= 0)
      return def;
    throw FormatError(path + ": missing key '" + key + "'");
  }
  if (v->kind != Json::Number || v->number < 1 || v->number > 2147483647.0 ||
      v->number != std::floor(v->number))
    throw FormatError(path + ": key '" + key +
                      "' must be a positive integer");
  return int64_t(v->number);
}

double configReal(const Json &cfg, const char *key, double def,
                  const std::string &path) {
  const Json *v = cfg.get(key);
  if (!v || v->kind == Json::Null)
    return def;
  if (v->kind != Json::Number || !(v->number > 0))
    throw FormatError(path + ": key '" + key + "' must be a positive number");
  return v->number;
}

Model readHuggingFace(const std::string &dir, bool mapWeights) {
  std::string cfgPath = dir + "/config.json";
  Json cfg = parseJson(readText(cfgPath), cfgPath);
  Model m;
  m.source = dir;
  const Json *archs = cfg.get("architectures");
  std::string arch = archs && !archs->items.empty() ? archs->items[0].text : "";
  Config &c = m.config;
  if (arch == "LlamaForCausalLM")
    c.arch = "llama";
  else if (arch == "Qwen2ForCausalLM")
    c.arch = "qwen2";
  else
    throw FormatError(cfgPath + ": architectures[0] is '" + arch +
                      "', expected LlamaForCausalLM or Qwen2ForCausalLM");
  c.dim = configInt(cfg, "hidden_size", cfgPath);
  c.hidden = configInt(cfg, "intermediate_size", cfgPath);
  c.layers = configInt(cfg, "num_hidden_layers", cfgPath);
  c.heads = configInt(cfg, "num_attention_heads", cfgPath);
  c.kvHeads = configInt(cfg, "num_key_value_heads", cfgPath, c.heads);
  c.vocab = configInt(cfg, "vocab_size", cfgPath);
  c.context = configInt(cfg, "max_position_embeddings", cfgPath, 2048);
  c.normEps = float(configReal(cfg, "rms_norm_eps", 1e-6, cfgPath));
  c.ropeTheta = float(configReal(cfg, "rope_theta", 10000.0, cfgPath));
  if (const Json *rs = cfg.get("rope_scaling"); rs && rs->kind == Json::Object) {
    const Json *t = rs->get("type") ? rs->get("type") : rs->get("rope_type");
    if (!t || t->text != "linear")
      throw FormatError(cfgPath + ": rope_scaling type '" +
                        (t ? t->text : "") + "' is not supported (linear)");
    c.ropeFreqScale = float(1.0 / configReal(*rs, "factor", 1.0, cfgPath));
  }
  const Json *tied = cfg.get("tie_word_embeddings");
  c.qkvBias = c.arch == "qwen2";
  c.ropeNeox = c.arch == "qwen2";

  std::vector<std::string> shards;
  std::string index = dir + "/model.safetensors.index.json";
  if (exists(index)) {
    Json idx = parseJson(readText(index), index);
    const Json *map = idx.get("weight_map");
    if (!map || map->kind != Json::Object)
      throw FormatError(index + ": missing weight_map");
    for (const auto &[name, file] : map->fields) {
      if (file.text.find('/') != std::string::npos || file.text.empty())
        throw FormatError(index + ": shard name '" + file.text +
                          "' must be a plain file name");
      if (std::find(shards.begin(), shards.end(), file.text) == shards.end())
        shards.push_back(file.text);
    }
  } else {
    shards.push_back("model.safetensors");
  }
  // Mapped, every shard stays open for the model's lifetime.
  auto mappings = std::make_shared<std::vector<std::shared_ptr<const void>>>();
  for (const std::string &shard : shards) {
    std::map<std::string, Tensor> raw;
    mappings->emplace_back();
    readSafetensorsFile(dir + "/" + shard, raw, m.metadata,
                        mapWeights ? &mappings->back() : nullptr);
    for (auto &[name, t] : raw) {
      std::string gguf = ggufName(name);
      if (gguf.empty())
        continue; // rotary tables and the like
      t.name = gguf;
      if (m.tensors.count(gguf))
        throw FormatError(dir + ": tensor '" + name + "' appears twice");
      m.tensors[gguf] = std::move(t);
    }
  }
  if (mapWeights)
    m.mapping = mappings;
  c.tiedOutput = (tied && tied->boolean) || !m.has("output.weight");
  if (c.arch == "llama")
    for (auto &[name, t] : m.tensors) {
      bool q = name.find(".attn_q.weight") != std::string::npos;
      bool k = name.find(".attn_k.weight") != std::string::npos;
      if ((q || k) && t.shape.size() == 2)
        permuteForRope(t, q ? c.heads : c.kvHeads);
    }
  if (exists(dir + "/tokenizer.json"))
    m.vocab = readTokenizerJson(dir + "/tokenizer.json", c.vocab);
  m.metadata["general.architecture"] = c.arch;
  m.validate();
  return m;
}

/// Reads back an archive qc wrote: config and vocabulary from __metadata__.
Model readQcArchive(const std::string &path, bool mapWeights) {
  Model m;
  m.source = path;
  readSafetensorsFile(path, m.tensors, m.metadata,
                      mapWeights ? &m.mapping : nullptr);
  if (!m.metadata.count("qc.config"))
    throw FormatError(path + ": no qc.config in __metadata__ (not a qc "
                             "archive) and no config.json beside it");
  Json cfg = parseJson(m.metadata["qc.config"], path + " metadata qc.config");
  Config &c = m.config;
  c.arch = cfg.get("arch") ? cfg.get("arch")->text : "llama";
  c.dim = configInt(cfg, "dim", path);
  c.hidden = configInt(cfg, "hidden", path);
  c.layers = configInt(cfg, "layers", path);
  c.heads = configInt(cfg, "heads", path);
  c.kvHeads = configInt(cfg, "kv_heads", path);
  c.vocab = configInt(cfg, "vocab", path);
  c.context = configInt(cfg, "context", path);
  c.normEps = float(configReal(cfg, "norm_eps", 1e-5, path));
  c.ropeTheta = float(configReal(cfg, "rope_theta", 10000, path));
  c.ropeFreqScale = float(configReal(cfg, "rope_freq_scale", 1, path));
  auto flag = [&](const char *k) {
    const Json *v = cfg.get(k);
    return v && v->boolean;
  };
  c.ropeNeox = flag("rope_neox");
  c.tiedOutput = flag("tied_output");
  c.qkvBias = flag("qkv_bias");
  if (m.metadata.count("qc.vocab")) {
    Json v = parseJson(m.metadata["qc.vocab"], path + " metadata qc.vocab");
    Vocabulary &vocab = m.vocab;
    const Json *kind = v.get("kind");
    vocab.kind = !kind || kind->text == "spm" ? TokenizerKind::SentencePiece
                 : kind->text == "bpe"        ? TokenizerKind::BytePairGPT2
                                              : TokenizerKind::WordPiece;
    const Json *tokens = v.get("tokens"), *scores = v.get("scores"),
               *types = v.get("types");
    if (!tokens || !scores || !types ||
        tokens->items.size() != scores->items.size() ||
        tokens->items.size() != types->items.size())
      throw FormatError(path + ": metadata qc.vocab needs tokens, scores and "
                               "types of equal length");
    for (size_t i = 0; i < tokens->items.size(); ++i) {
      vocab.tokens.push_back(tokens->items[i].text);
      vocab.scores.push_back(float(scores->items[i].number));
      int t = int(types->items[i].number);
      if (t < 1 || t > 6)
        throw FormatError(path + ": metadata qc.vocab: bad token type");
      vocab.types.push_back(TokenType(t));
    }
    if (const Json *mg = v.get("merges"))
      for (const Json &x : mg->items)
        vocab.merges.push_back(x.text);
    vocab.bos = int32_t(v.get("bos") ? v.get("bos")->number : -1);
    vocab.eos = int32_t(v.get("eos") ? v.get("eos")->number : -1);
    vocab.unk = int32_t(v.get("unk") ? v.get("unk")->number : -1);
    vocab.addBos = v.get("add_bos") && v.get("add_bos")->boolean;
    vocab.addSpacePrefix = v.get("add_space_prefix") &&
                           v.get("add_space_prefix")->boolean;
  }
  m.validate();
  return m;
}

} // namespace

void permuteForRope(Tensor &t, int64_t heads) {
  int64_t rows = t.shape[0], hd = rows / heads;
  uint64_t rowBytes = t.size() / uint64_t(rows);
  std::vector<uint8_t> out(t.size());
  const uint8_t *in = t.data();
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < hd / 2; ++i)
      for (int64_t half = 0; half < 2; ++half)
        std::memcpy(&out[(h * hd + 2 * i + half) * rowBytes],
                    in + (h * hd + half * hd / 2 + i) * rowBytes, rowBytes);
  releasePages(t);
  t.view = nullptr;
  t.viewSize = 0;
  t.fileBacked = false;
  t.bytes = std::move(out);
}

/// A Hugging Face tokenizer.json of type BPE: vocabulary and merges. Byte-
/// level vocabularies (GPT-2, Qwen2) read as such; byte-fallback ones (Llama)
/// as SentencePiece with scores from merge ranks.
Vocabulary readTokenizerJson(const std::string &path, int64_t vocabSize) {
  std::string text = readText(path);
  Json j = parseJson(text, path);
  const Json *model = j.get("model");
  const Json *vocab = model ? model->get("vocab") : nullptr;
  const Json *merges = model ? model->get("merges") : nullptr;
  const Json *type = model ? model->get("type") : nullptr;
  if (!vocab || vocab->kind != Json::Object || !type || type->text != "BPE")
    throw FormatError(path + ": expected a BPE model with a vocab object");
  Vocabulary v;
  const Json *fallback = model->get("byte_fallback");
  bool spm = fallback && fallback->kind == Json::Bool && fallback->boolean;
  v.kind = spm ? TokenizerKind::SentencePiece : TokenizerKind::BytePairGPT2;
  v.tokens.assign(vocabSize, "");
  v.types.assign(vocabSize, TokenType::Unused);
  v.scores.assign(vocabSize, 0.0f);
  auto place = [&](const std::string &text, double idNum, TokenType t) {
    if (idNum < 0 || idNum >= double(vocabSize) || idNum != std::floor(idNum))
      throw FormatError(path + ": token '" + text + "' has id " +
                        shortNumber(idNum) + " outside the vocabulary of " +
                        std::to_string(vocabSize));
    size_t id = size_t(idNum);
    v.tokens[id] = text;
    v.types[id] = t;
  };
  for (const auto &[text, id] : vocab->fields) {
    bool isByte = text.size() == 6 && text.compare(0, 3, "<0x") == 0;
    place(text, id.number, isByte ? TokenType::Byte : TokenType::Normal);
  }
  if (const Json *added = j.get("added_tokens"))
    for (const Json &a : added->items) {
      const Json *content = a.get("content"), *id = a.get("id");
      if (content && id)
        place(content->text, id->number, TokenType::Control);
    }
  if (merges && merges->kind == Json::Array) {
    for (size_t rank = 0; rank < merges->items.size(); ++rank) {
      const Json &mg = merges->items[rank];
      std::string text = mg.kind == Json::String ? mg.text
                         : mg.items.size() == 2
                             ? mg.items[0].text + " " + mg.items[1].text
                             : "";
      v.merges.push_back(text);
      if (spm) {
        size_t space = text.find(' ');
        auto it = vocab->fields.find(text.substr(0, space) +
                                     text.substr(space + 1));
        if (space != std::string::npos && it != vocab->fields.end())
          v.scores[size_t(it->second.number)] = -float(rank);
      }
    }
  }
  v.addSpacePrefix = spm;
  v.addBos = spm;
  // The pre-tokenizer by its split regex (as JSON-escaped in the file).
  if (text.find("\\\\p{N}{1,3}") != std::string::npos)
    v.pretokenizer = "llama3";
  else if (text.find("[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+") != std::string::npos)
    v.pretokenizer = "qwen2";
  else
    v.pretokenizer = "gpt-2";
  return v;
}

Model readSafetensorsModel(const std::string &path, bool mapWeights) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return readHuggingFace(path, mapWeights);
  if (path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0)
    return readHuggingFace(directoryOf(path), mapWeights);
  if (exists(directoryOf(path) + "/config.json"))
    return readHuggingFace(directoryOf(path), mapWeights);
  return readQcArchive(path, mapWeights);
}

} // namespace qc::model
