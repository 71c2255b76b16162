//===- Json.cpp -----------------------------------------------------------===//
#include "qc/Model/Json.h"
#include "qc/Model/Model.h"
#include "qc/Model/Utf8.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace qc::model {

namespace {

class JsonParser {
public:
  JsonParser(const std::string &s, const std::string &source)
      : s(s), source(source) {}

  Json document() {
    Json v = value(0);
    space();
    if (i != s.size())
      fail("trailing characters after the JSON value");
    return v;
  }

private:
  [[noreturn]] void fail(const std::string &why) {
    throw FormatError(source + ": JSON offset " + std::to_string(i) + ": " +
                      why);
  }
  void space() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' ||
                            s[i] == '\t'))
      ++i;
  }
  void expect(char c) {
    space();
    if (i >= s.size() || s[i] != c)
      fail(std::string("expected '") + c + "'");
    ++i;
  }
  bool literal(const char *word) {
    size_t n = std::strlen(word);
    if (s.compare(i, n, word) != 0)
      return false;
    i += n;
    return true;
  }

  Json value(int depth) {
    if (depth > 64)
      fail("nesting deeper than 64 levels");
    space();
    if (i >= s.size())
      fail("unexpected end of input");
    Json v;
    char c = s[i];
    if (c == '{') {
      v.kind = Json::Object;
      ++i;
      space();
      if (i < s.size() && s[i] == '}') {
        ++i;
        return v;
      }
      while (true) {
        space();
        if (i >= s.size() || s[i] != '"')
          fail("expected a string key");
        std::string key = string();
        expect(':');
        v.fields[key] = value(depth + 1);
        space();
        if (i < s.size() && s[i] == ',') {
          ++i;
          continue;
        }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      v.kind = Json::Array;
      ++i;
      space();
      if (i < s.size() && s[i] == ']') {
        ++i;
        return v;
      }
      while (true) {
        v.items.push_back(value(depth + 1));
        space();
        if (i < s.size() && s[i] == ',') {
          ++i;
          continue;
        }
        expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.kind = Json::String;
      v.text = string();
      return v;
    }
    if (literal("true") || literal("false")) {
      v.kind = Json::Bool;
      v.boolean = s[i - 1] == 'e' && s[i - 2] == 'u';
      return v;
    }
    if (literal("null"))
      return v;
    if (c == '-' || (c >= '0' && c <= '9')) {
      const char *begin = s.c_str() + i;
      char *end = nullptr;
      v.kind = Json::Number;
      v.number = std::strtod(begin, &end);
      if (end == begin)
        fail("bad number");
      i += size_t(end - begin);
      return v;
    }
    fail(std::string("unexpected character '") + c + "'");
  }

  uint32_t hex4() {
    if (i + 4 > s.size())
      fail("truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s[i++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
      else fail("bad hex digit in \\u escape");
    }
    return v;
  }
  std::string string() {
    ++i; // opening quote
    std::string out;
    while (true) {
      if (i >= s.size())
        fail("unterminated string");
      char c = s[i++];
      if (c == '"')
        return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i >= s.size())
        fail("unterminated escape");
      char e = s[i++];
      switch (e) {
      case '"': case '\\': case '/': out += e; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t cp = hex4();
        if (cp >= 0xD800 && cp < 0xDC00 && s.compare(i, 2, "\\u") == 0) {
          i += 2;
          uint32_t lo = hex4();
          if (lo < 0xDC00 || lo > 0xDFFF)
            fail("bad surrogate pair");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        qc::appendUtf8(out, cp);
        break;
      }
      default: fail(std::string("bad escape \\") + e);
      }
    }
  }

  const std::string &s;
  const std::string &source;
  size_t i = 0;
};

} // namespace

Json parseJson(const std::string &text, const std::string &source) {
  return JsonParser(text, source).document();
}

} // namespace qc::model
