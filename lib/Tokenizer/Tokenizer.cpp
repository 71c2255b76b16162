//===- Tokenizer.cpp - SentencePiece-style BPE ----------------------------===//
//
// The algorithm of llama.cpp's SPM tokenizer: the text (with a leading space
// when the vocabulary asks for one, spaces written U+2581) is split into
// UTF-8 characters; adjacent pairs whose concatenation is a token are merged
// highest score first (leftmost on ties); a final piece that is no token is
// re-split along the merges that built it, then into byte tokens.
//
//===----------------------------------------------------------------------===//
#include "qc/Tokenizer/Tokenizer.h"

#include <cstdio>
#include <functional>
#include <queue>

namespace qc {

namespace {
const std::string kSpace = "\xE2\x96\x81"; // U+2581, SentencePiece's space

size_t utf8Length(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c >> 5) == 6) return 2;
  if ((c >> 4) == 14) return 3;
  if ((c >> 3) == 30) return 4;
  return 1; // stray continuation byte: a piece of its own
}
} // namespace

Tokenizer::Tokenizer(const model::Vocabulary &v) : vocab(v) {
  for (size_t i = 0; i < vocab.tokens.size(); ++i)
    ids.emplace(vocab.tokens[i], int32_t(i)); // first id wins on duplicates
}

int32_t Tokenizer::find(const std::string &text) const {
  auto it = ids.find(text);
  return it == ids.end() ? -1 : it->second;
}

std::vector<int32_t> Tokenizer::encode(const std::string &text,
                                       bool addBos) const {
  std::vector<int32_t> out;
  if (addBos && vocab.bos >= 0)
    out.push_back(vocab.bos);
  if (text.empty())
    return out;
  encodeSentencePiece(text, out);
  return out;
}

void Tokenizer::encodeSentencePiece(const std::string &raw,
                                    std::vector<int32_t> &out) const {
  std::string text = vocab.addSpacePrefix ? " " + raw : raw;
  std::string escaped;
  for (char c : text)
    escaped += c == ' ' ? kSpace : std::string(1, c);

  struct Symbol {
    size_t start, length;
    int prev, next;
  };
  std::vector<Symbol> symbols;
  for (size_t i = 0; i < escaped.size();) {
    size_t n = std::min(utf8Length(escaped[i]), escaped.size() - i);
    symbols.push_back({i, n, int(symbols.size()) - 1, int(symbols.size()) + 1});
    i += n;
  }
  symbols.back().next = -1;

  struct Bigram {
    int left, right;
    float score;
    size_t length;
    bool operator<(const Bigram &o) const {
      return score < o.score || (score == o.score && left > o.left);
    }
  };
  std::priority_queue<Bigram> queue;
  auto tryAdd = [&](int left, int right) {
    if (left < 0 || right < 0)
      return;
    std::string piece = escaped.substr(
        symbols[left].start, symbols[left].length + symbols[right].length);
    int32_t id = find(piece);
    if (id < 0)
      return;
    queue.push({left, right, vocab.scores[id], piece.size()});
  };
  for (size_t i = 1; i < symbols.size(); ++i)
    tryAdd(int(i) - 1, int(i));

  std::unordered_map<std::string, std::pair<std::string, std::string>> merges;
  while (!queue.empty()) {
    Bigram b = queue.top();
    queue.pop();
    Symbol &l = symbols[b.left], &r = symbols[b.right];
    if (l.length == 0 || r.length == 0 || l.length + r.length != b.length)
      continue; // stale: one side was merged since
    merges[escaped.substr(l.start, b.length)] = {
        escaped.substr(l.start, l.length), escaped.substr(r.start, r.length)};
    l.length += r.length;
    r.length = 0;
    l.next = r.next;
    if (r.next >= 0)
      symbols[r.next].prev = b.left;
    tryAdd(l.prev, b.left);
    tryAdd(b.left, l.next);
  }

  // Resegment along the merges that built each piece, then bytes.
  std::function<void(const std::string &)> emit = [&](const std::string &p) {
    int32_t id = find(p);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
    auto it = merges.find(p);
    if (it != merges.end()) {
      emit(it->second.first);
      emit(it->second.second);
      return;
    }
    for (unsigned char c : p) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", c);
      int32_t byteId = find(name);
      out.push_back(byteId >= 0 ? byteId : vocab.unk);
    }
  };
  for (int i = 0; i >= 0; i = symbols[i].next)
    emit(escaped.substr(symbols[i].start, symbols[i].length));
}

std::string Tokenizer::decode(int32_t id) const {
  if (id < 0 || size_t(id) >= vocab.tokens.size())
    return "";
  const std::string &t = vocab.tokens[id];
  if (vocab.types[id] == model::TokenType::Byte && t.size() == 6)
    return std::string(1, char(std::stoi(t.substr(3, 2), nullptr, 16)));
  if (vocab.types[id] == model::TokenType::Control)
    return "";
  std::string s;
  for (size_t i = 0; i < t.size();) {
    if (t.compare(i, 3, kSpace) == 0) {
      s += ' ';
      i += 3;
    } else {
      s += t[i++];
    }
  }
  return s;
}

} // namespace qc
