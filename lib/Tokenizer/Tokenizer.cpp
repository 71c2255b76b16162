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
#include "qc/Model/Utf8.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <functional>
#include <queue>

namespace qc {

namespace {
const std::string kSpace = "\xE2\x96\x81"; // U+2581, SentencePiece's space

enum CodepointFlags {
  Letter = 1, Number = 2, Space = 4, Defined = 8, Punctuation = 16,
  Symbol = 32, Control = 64
};
struct FlagRange {
  uint32_t first;
  uint8_t flags;
};
const FlagRange kFlagRanges[] = {
#include "UnicodeTables.inc"
};

unsigned flagsOf(uint32_t cp) {
  auto it = std::upper_bound(
      std::begin(kFlagRanges), std::end(kFlagRanges), cp,
      [](uint32_t v, const FlagRange &r) { return v < r.first; });
  return it == std::begin(kFlagRanges) ? 0 : (it - 1)->flags;
}

struct CodepointPair {
  uint32_t from, to;
};
const CodepointPair kLowercase[] = {
#define QC_UNICODE_LOWERCASE
#include "UnicodeMaps.inc"
#undef QC_UNICODE_LOWERCASE
};
const CodepointPair kNfdFirst[] = {
#define QC_UNICODE_NFD_FIRST
#include "UnicodeMaps.inc"
#undef QC_UNICODE_NFD_FIRST
};

uint32_t lookup(const CodepointPair *begin, const CodepointPair *end,
                uint32_t cp) {
  auto it = std::lower_bound(begin, end, cp, [](const CodepointPair &p,
                                                uint32_t v) {
    return p.from < v;
  });
  return it != end && it->from == cp ? it->to : cp;
}

/// A code point without its accents: the first code point of its canonical
/// decomposition (llama.cpp's WordPiece normalisation).
uint32_t stripAccents(uint32_t cp) {
  if (cp >= 0xAC00 && cp <= 0xD7A3) // Hangul syllable: its leading jamo
    return 0x1100 + (cp - 0xAC00) / 588;
  return lookup(std::begin(kNfdFirst), std::end(kNfdFirst), cp);
}

uint32_t toLower(uint32_t cp) {
  return lookup(std::begin(kLowercase), std::end(kLowercase), cp);
}

bool isChineseChar(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}


/// Code points of `s` with the byte offset each starts at; a malformed
/// sequence yields its lead byte as a code point of its own.
void decodeUtf8(const std::string &s, std::vector<uint32_t> &cps,
                std::vector<size_t> &offsets) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
               : (c >> 3) == 30 ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; ++k)
      ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 2;
    uint32_t cp = c;
    if (ok && n > 1) {
      cp = c & (0xFF >> (n + 1));
      for (size_t k = 1; k < n; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    offsets.push_back(i);
    cps.push_back(cp);
    i += ok ? n : 1;
  }
  offsets.push_back(s.size());
}

/// GPT-2's pre-tokenizer, by hand: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+|
/// ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ . Returns [begin, end) code
/// point ranges.
std::vector<std::pair<size_t, size_t>>
splitGPT2(const std::vector<uint32_t> &cps) {
  std::vector<std::pair<size_t, size_t>> pieces;
  size_t n = cps.size(), pos = 0;
  auto flags = [&](size_t i) { return i < n ? flagsOf(cps[i]) : 0u; };
  auto at = [&](size_t i) { return i < n ? cps[i] : 0xFFFFFFFFu; };
  while (pos < n) {
    size_t start = pos;
    uint32_t c = cps[pos];
    if (c == '\'' && pos + 1 < n) {
      uint32_t c1 = at(pos + 1), c2 = at(pos + 2);
      if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
        pieces.push_back({pos, pos + 2});
        pos += 2;
        continue;
      }
      if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') ||
          (c1 == 'l' && c2 == 'l')) {
        pieces.push_back({pos, pos + 3});
        pos += 3;
        continue;
      }
    }
    unsigned f2 = c == ' ' ? flags(pos + 1) : flags(pos);
    auto run = [&](auto keep) {
      pos += c == ' ';
      while (pos < n && keep(flags(pos)))
        ++pos;
      pieces.push_back({start, pos});
    };
    if (f2 & Letter) {
      run([](unsigned f) { return (f & Letter) != 0; });
      continue;
    }
    if (f2 & Number) {
      run([](unsigned f) { return (f & Number) != 0; });
      continue;
    }
    auto other = [](unsigned f) {
      return !(f & (Space | Letter | Number)) && f != 0;
    };
    if (other(f2)) {
      run(other);
      continue;
    }
    size_t spaces = 0;
    while (flags(pos + spaces) & Space)
      ++spaces;
    if (spaces > 1 && pos + spaces < n) {
      pos += spaces - 1; // \s+(?!\S): leave one space to lead the next piece
      pieces.push_back({start, pos});
      continue;
    }
    pos += spaces > 0 ? spaces : 1;
    pieces.push_back({start, pos});
  }
  return pieces;
}

/// Llama 3's and Qwen2's pre-tokenizer, by hand (digits in runs of at most
/// `maxDigits`: 3 for Llama 3, 1 for Qwen2):
/// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,n}|
///  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
std::vector<std::pair<size_t, size_t>>
splitLlama3(const std::vector<uint32_t> &cps, size_t maxDigits) {
  std::vector<std::pair<size_t, size_t>> pieces;
  size_t n = cps.size(), pos = 0;
  auto flags = [&](size_t i) { return i < n ? flagsOf(cps[i]) : 0u; };
  auto at = [&](size_t i) { return i < n ? cps[i] : 0xFFFFFFFFu; };
  auto lower = [](uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; };
  auto newline = [](uint32_t c) { return c == '\r' || c == '\n'; };
  while (pos < n) {
    size_t start = pos;
    uint32_t c = cps[pos];
    unsigned f = flags(pos);
    auto emit = [&] { pieces.push_back({start, pos}); };
    if (c == '\'' && pos + 1 < n) {
      uint32_t c1 = lower(at(pos + 1)), c2 = lower(at(pos + 2));
      if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
        pos += 2;
        emit();
        continue;
      }
      if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') ||
          (c1 == 'l' && c2 == 'l')) {
        pos += 3;
        emit();
        continue;
      }
    }
    if (!newline(c) && !(f & Number) &&
        ((f & Letter) || (flags(pos + 1) & Letter))) {
      ++pos;
      while (flags(pos) & Letter)
        ++pos;
      emit();
      continue;
    }
    if (f & Number) {
      while ((flags(pos) & Number) && pos - start < maxDigits)
        ++pos;
      emit();
      continue;
    }
    unsigned f2 = c == ' ' ? flags(pos + 1) : f;
    if (!(f2 & (Space | Letter | Number)) && f != 0) {
      pos += c == ' ';
      while (pos < n && !(flags(pos) & (Space | Letter | Number)) &&
             flags(pos) != 0)
        ++pos;
      while (pos < n && newline(cps[pos]))
        ++pos;
      emit();
      continue;
    }
    size_t spaces = 0, lastNewline = 0;
    while (flags(pos + spaces) & Space) {
      if (newline(cps[pos + spaces]))
        lastNewline = pos + spaces + 1;
      ++spaces;
    }
    if (lastNewline > 0) { // \s*[\r\n]+
      pos = lastNewline;
    } else if (spaces > 1 && pos + spaces < n) { // \s+(?!\S)
      pos += spaces - 1;
    } else {
      pos += spaces > 0 ? spaces : 1;
    }
    emit();
  }
  return pieces;
}

std::vector<std::pair<size_t, size_t>> split(const std::vector<uint32_t> &cps,
                                             PreTokenizer style) {
  switch (style) {
  case PreTokenizer::GPT2: return splitGPT2(cps);
  case PreTokenizer::Llama3: return splitLlama3(cps, 3);
  case PreTokenizer::Qwen2: return splitLlama3(cps, 1);
  }
  return {};
}

/// GPT-2's byte-to-unicode map: printable bytes stand for themselves, the
/// rest are shifted to code points from 256 on.
const std::vector<std::string> &byteSymbols() {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> t(256);
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
                       (b >= 0xAE && b <= 0xFF);
      appendUtf8(t[b], printable ? b : next++);
    }
    return t;
  }();
  return table;
}

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
  for (size_t i = 0; i < vocab.merges.size(); ++i)
    mergeRanks.emplace(vocab.merges[i], int32_t(i));
  for (const std::string &t : vocab.tokens)
    maxTokenLength = std::max(maxTokenLength, t.size());
  if (vocab.kind == model::TokenizerKind::BytePairGPT2)
    style = preTokenizerStyle(vocab.pretokenizer);
}

PreTokenizer preTokenizerStyle(const std::string &name) {
  if (name == "default" || name == "gpt-2" || name == "gpt2")
    return PreTokenizer::GPT2;
  if (name == "llama3" || name == "llama-bpe")
    return PreTokenizer::Llama3;
  if (name == "qwen2")
    return PreTokenizer::Qwen2;
  throw model::FormatError("byte-level BPE pre-tokenizer '" + name +
                           "' is not supported (gpt-2, llama-bpe, qwen2)");
}

std::vector<std::string> preTokenize(const std::string &text,
                                     PreTokenizer style) {
  std::vector<uint32_t> cps;
  std::vector<size_t> offsets;
  decodeUtf8(text, cps, offsets);
  std::vector<std::string> out;
  for (auto [begin, end] : split(cps, style))
    out.push_back(text.substr(offsets[begin], offsets[end] - offsets[begin]));
  return out;
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
  if (vocab.kind == model::TokenizerKind::BytePairGPT2)
    encodeBytePair(text, out);
  else if (vocab.kind == model::TokenizerKind::WordPiece)
    encodeWordPiece(text, out);
  else
    encodeSentencePiece(text, out);
  return out;
}

void Tokenizer::encodeWordPiece(const std::string &text,
                                std::vector<int32_t> &out) const {
  // Words: lower-cased, accents stripped, split at whitespace; punctuation,
  // ASCII symbols and CJK ideographs stand alone; controls dropped.
  std::vector<uint32_t> cps;
  std::vector<size_t> offsets;
  decodeUtf8(text, cps, offsets);
  std::vector<std::string> words(1);
  for (uint32_t raw : cps) {
    uint32_t cp = stripAccents(raw);
    unsigned f = flagsOf(cp);
    if (f & Space) {
      if (!words.back().empty())
        words.emplace_back();
      continue;
    }
    if (cp == 0 || cp == 0xFFFD || (f & Control))
      continue;
    std::string s;
    appendUtf8(s, toLower(cp));
    if ((f & Punctuation) || (cp < 0x7F && (f & Symbol)) || isChineseChar(cp)) {
      if (!words.back().empty())
        words.emplace_back();
      words.back() = s;
      words.emplace_back();
    } else {
      words.back() += s;
    }
  }
  // Each word, after a phantom space: longest vocabulary match first; a
  // word with any part that matches nothing is <unk> as a whole.
  for (const std::string &word : words) {
    if (word.empty())
      continue;
    std::string w = kSpace + word;
    size_t before = out.size();
    for (size_t i = 0; i < w.size();) {
      size_t j = std::min(w.size(), i + maxTokenLength + 1);
      int32_t id = -1;
      for (; j > i; --j)
        if ((id = find(w.substr(i, j - i))) >= 0)
          break;
      if (id < 0) {
        out.resize(before);
        break;
      }
      out.push_back(id);
      i = j;
    }
    if (out.size() == before)
      out.push_back(vocab.unk);
  }
}

void Tokenizer::encodeBytePair(const std::string &text,
                               std::vector<int32_t> &out) const {
  std::vector<uint32_t> cps;
  std::vector<size_t> offsets;
  decodeUtf8(text, cps, offsets);
  const std::vector<std::string> &bytes = byteSymbols();
  for (auto [begin, end] : split(cps, style)) {
    std::vector<std::string> symbols;
    for (size_t i = offsets[begin]; i < offsets[end]; ++i)
      symbols.push_back(bytes[static_cast<unsigned char>(text[i])]);
    // Merge the adjacent pair of lowest rank (leftmost on ties) until none.
    while (symbols.size() > 1) {
      int32_t best = INT32_MAX;
      size_t at = 0;
      for (size_t i = 0; i + 1 < symbols.size(); ++i) {
        auto it = mergeRanks.find(symbols[i] + " " + symbols[i + 1]);
        if (it != mergeRanks.end() && it->second < best) {
          best = it->second;
          at = i;
        }
      }
      if (best == INT32_MAX)
        break;
      symbols[at] += symbols[at + 1];
      symbols.erase(symbols.begin() + long(at) + 1);
    }
    for (const std::string &sym : symbols) {
      int32_t id = find(sym);
      if (id >= 0) {
        out.push_back(id);
        continue;
      }
      for (size_t i = 0; i < sym.size();) { // per byte symbol
        size_t n = utf8Length(sym[i]);
        int32_t byteId = find(sym.substr(i, n));
        out.push_back(byteId >= 0 ? byteId : vocab.unk);
        i += n;
      }
    }
  }
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
  if (vocab.kind == model::TokenizerKind::BytePairGPT2) {
    static const std::unordered_map<std::string, char> fromSymbol = [] {
      std::unordered_map<std::string, char> m;
      for (int b = 0; b < 256; ++b)
        m[byteSymbols()[b]] = char(b);
      return m;
    }();
    std::string s;
    for (size_t i = 0; i < t.size();) {
      size_t n = utf8Length(t[i]);
      auto it = fromSymbol.find(t.substr(i, n));
      s += it != fromSymbol.end() ? std::string(1, it->second) : t.substr(i, n);
      i += n;
    }
    return s;
  }
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
