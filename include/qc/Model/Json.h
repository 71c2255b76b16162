//===- Json.h - A small strict JSON reader ----------------------*- C++ -*-===//
#ifndef QC_LIB_IMPORT_JSON_H
#define QC_LIB_IMPORT_JSON_H

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace qc::model {

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool boolean = false;
  double number = 0;
  std::string text;
  std::vector<Json> items;
  std::map<std::string, Json> fields;

  const Json *get(const std::string &key) const {
    auto it = fields.find(key);
    return it == fields.end() ? nullptr : &it->second;
  }
};

/// Parses `text`; throws FormatError naming `source` and the byte offset.
/// Nesting is limited to 64 levels.
Json parseJson(const std::string &text, const std::string &source);

} // namespace qc::model

#endif // QC_LIB_IMPORT_JSON_H
