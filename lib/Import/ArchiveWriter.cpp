//===- ArchiveWriter.cpp - The weights archive, written tensor by tensor --===//
#include "qc/Model/Archive.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace qc::model {

namespace {

std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

std::string jsonFloat(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

/// Bytes per element of a stored format; 1 for packed blobs.
int elementBytes(const std::string &format) {
  return format == "F32" ? 4 : format == "F16" || format == "BF16" ? 2 : 1;
}

std::string configJson(const Config &c) {
  return "{\"arch\":" + jsonString(c.arch) + ",\"dim\":" +
         std::to_string(c.dim) + ",\"hidden\":" + std::to_string(c.hidden) +
         ",\"layers\":" + std::to_string(c.layers) +
         ",\"heads\":" + std::to_string(c.heads) +
         ",\"kv_heads\":" + std::to_string(c.kvHeads) +
         ",\"vocab\":" + std::to_string(c.vocab) +
         ",\"context\":" + std::to_string(c.context) +
         ",\"norm_eps\":" + jsonFloat(c.normEps) +
         ",\"rope_theta\":" + jsonFloat(c.ropeTheta) +
         ",\"rope_freq_scale\":" + jsonFloat(c.ropeFreqScale) +
         ",\"rope_neox\":" + (c.ropeNeox ? "true" : "false") +
         ",\"tied_output\":" + (c.tiedOutput ? "true" : "false") +
         ",\"qkv_bias\":" + (c.qkvBias ? "true" : "false") + "}";
}

std::string vocabJson(const Vocabulary &v) {
  std::string tokens, scores, types, merges;
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    tokens += (i ? "," : "") + jsonString(v.tokens[i]);
    scores += (i ? "," : "") + jsonFloat(v.scores[i]);
    types += (i ? "," : "") + std::to_string(int(v.types[i]));
  }
  for (size_t i = 0; i < v.merges.size(); ++i)
    merges += (i ? "," : "") + jsonString(v.merges[i]);
  const char *kind = v.kind == TokenizerKind::SentencePiece  ? "spm"
                     : v.kind == TokenizerKind::BytePairGPT2 ? "bpe"
                                                             : "wordpiece";
  return std::string("{\"kind\":\"") + kind + "\",\"tokens\":[" + tokens +
         "],\"scores\":[" + scores + "],\"types\":[" + types +
         "],\"merges\":[" + merges + "],\"bos\":" + std::to_string(v.bos) +
         ",\"eos\":" + std::to_string(v.eos) +
         ",\"unk\":" + std::to_string(v.unk) +
         ",\"add_bos\":" + (v.addBos ? "true" : "false") +
         ",\"add_space_prefix\":" + (v.addSpacePrefix ? "true" : "false") +
         "}";
}

std::string joined(const std::vector<int64_t> &v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

/// pwrite of all `n` bytes, or FormatError naming the file and offset.
void writeAt(int fd, const std::string &path, const uint8_t *p, uint64_t n,
             uint64_t offset) {
  while (n > 0) {
    ssize_t done = ::pwrite(fd, p, std::min<uint64_t>(n, 1u << 30), off_t(offset));
    if (done < 0 && errno == EINTR)
      continue;
    if (done <= 0)
      throw FormatError(path + ": write failed at offset " +
                        std::to_string(offset) + ": " +
                        (done < 0 ? std::strerror(errno) : "no progress"));
    p += done;
    n -= uint64_t(done);
    offset += uint64_t(done);
  }
}

} // namespace

TensorSpec specOf(const Tensor &t) {
  return {t.name, t.shape, t.format, t.size()};
}

ArchiveWriter::ArchiveWriter(const std::string &path, const Config &config,
                             const Vocabulary &vocab,
                             std::vector<TensorSpec> specs, bool resumable)
    : path(path), tmp(resumable ? path + ".partial"
                                : path + ".tmp." + std::to_string(::getpid())) {
  std::map<std::string, std::string> meta;
  meta["qc.config"] = configJson(config);
  meta["qc.vocab"] = vocabJson(vocab);
  // Widest elements first, ties in name order: with no holes between them
  // every tensor stays aligned to its element size.
  auto width = [](const TensorSpec &t) { return elementBytes(t.format); };
  std::sort(specs.begin(), specs.end(), [&](auto &a, auto &b) {
    return width(a) != width(b) ? width(a) > width(b) : a.name < b.name;
  });
  std::string header = "{";
  uint64_t offset = 0;
  for (const TensorSpec &t : specs) {
    if (!slots.emplace(t.name, Slot{offset, t.bytes}).second)
      throw FormatError(path + ": tensor '" + t.name + "' given twice");
    std::string dtype = t.format, shape = joined(t.shape);
    if (width(t) == 1) {
      // A packed blob: U8 bytes, its format and logical shape in metadata.
      dtype = "U8";
      meta["format:" + t.name] = "{\"format\":" + jsonString(t.format) +
                                 ",\"shape\":[" + shape + "]}";
      shape = std::to_string(t.bytes);
    }
    header += jsonString(t.name) + ":{\"dtype\":\"" + dtype +
              "\",\"shape\":[" + shape + "],\"data_offsets\":[" +
              std::to_string(offset) + "," + std::to_string(offset + t.bytes) +
              "]},";
    offset += t.bytes;
  }
  header += "\"__metadata__\":{";
  bool first = true;
  for (const auto &[k, val] : meta) {
    header += (first ? "" : ",") + jsonString(k) + ":" + jsonString(val);
    first = false;
  }
  header += "}}";
  // The data starts 64-byte aligned, so the file maps straight into memory.
  while ((8 + header.size()) % 64 != 0)
    header += ' ';
  uint64_t len = header.size();
  std::string head(reinterpret_cast<const char *>(&len), 8);
  head += header;
  for (auto &[name, slot] : slots)
    slot.offset += head.size();
  // A partial archive of the same tensors is kept as it is.
  if (resumable) {
    std::string old(head.size(), '\0');
    int in = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
    bool same = in >= 0 && ::pread(in, old.data(), old.size(), 0) ==
                               ssize_t(old.size()) && old == head;
    if (in >= 0)
      ::close(in);
    if (same) {
      fd = ::open(tmp.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd >= 0)
        return;
    }
  }
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw FormatError(path + ": cannot create " + tmp + ": " +
                      std::strerror(errno));
  writeAt(fd, path, reinterpret_cast<const uint8_t *>(head.data()),
          head.size(), 0);
}

void ArchiveWriter::keep(const std::string &name) {
  auto it = slots.find(name);
  if (it == slots.end())
    throw FormatError(path + ": tensor '" + name + "' is not in the archive");
  it->second.written = true;
}

void ArchiveWriter::leaveForResume() {
  if (fd >= 0)
    ::close(fd);
  fd = -1;
}

ArchiveWriter::~ArchiveWriter() {
  if (fd >= 0) {
    ::close(fd);
    ::unlink(tmp.c_str());
  }
}

void ArchiveWriter::write(const std::string &name, const uint8_t *data,
                          uint64_t size) {
  auto it = slots.find(name);
  if (it == slots.end())
    throw FormatError(path + ": tensor '" + name + "' is not in the archive");
  Slot &slot = it->second;
  if (slot.written || size != slot.size)
    throw FormatError(path + ": tensor '" + name + "' has " +
                      std::to_string(size) + " bytes, its spec " +
                      std::to_string(slot.size) +
                      (slot.written ? " (written twice)" : ""));
  writeAt(fd, path, data, size, slot.offset);
  slot.written = true;
}

void ArchiveWriter::commit() {
  for (const auto &[name, slot] : slots)
    if (!slot.written)
      throw FormatError(path + ": tensor '" + name + "' was never written");
  // The data must be on disk before the name points at it.
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    fd = -1;
    ::unlink(tmp.c_str());
    throw FormatError(path + ": write failed: " + std::strerror(err));
  }
  fd = -1;
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw FormatError(path + ": cannot rename " + tmp + " into place");
  }
}

void writeArchive(const Model &m, const std::string &path) {
  std::vector<TensorSpec> specs;
  for (const auto &[name, t] : m.tensors)
    specs.push_back(specOf(t));
  ArchiveWriter writer(path, m.config, m.vocab, std::move(specs));
  for (const auto &[name, t] : m.tensors) {
    writer.write(name, t.data(), t.size());
    releasePages(t);
  }
  writer.commit();
}

void releasePages(const Tensor &t) { releasePages(t, 0, t.viewSize); }

void releasePages(const Tensor &t, uint64_t offset, uint64_t size) {
  if (!t.fileBacked || !t.view || offset >= t.viewSize)
    return;
  size = std::min(size, t.viewSize - offset);
  // Whole pages inside the range only: its neighbours may still be in use.
  uintptr_t page = uintptr_t(::sysconf(_SC_PAGESIZE));
  uintptr_t begin = (uintptr_t(t.view + offset) + page - 1) / page * page;
  uintptr_t end = (uintptr_t(t.view + offset + size)) / page * page;
  if (end > begin)
    ::madvise(reinterpret_cast<void *>(begin), end - begin, MADV_DONTNEED);
}

void writeFileAtomically(const std::string &path, const std::string &bytes) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw FormatError(path + ": cannot create " + tmp + ": " +
                      std::strerror(errno));
  try {
    writeAt(fd, path, reinterpret_cast<const uint8_t *>(bytes.data()),
            bytes.size(), 0);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw FormatError(path + ": cannot write " + tmp + " and rename it into "
                      "place: " + std::strerror(errno));
  }
}

} // namespace qc::model
