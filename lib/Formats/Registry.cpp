//===- Registry.cpp - The format registry ---------------------------------===//
#include "qc/Formats/Registry.h"

#include <algorithm>
#include <mutex>

namespace qc::formats {

namespace {

struct Registry {
  std::mutex lock;
  std::vector<FormatFamily> families;
};

/// Constructed on first use: registrations run during static
/// initialisation, in no particular order across files.
Registry &registry() {
  static Registry r;
  return r;
}

} // namespace

void registerFormat(FormatFamily family) {
  Registry &r = registry();
  std::lock_guard<std::mutex> guard(r.lock);
  for (const FormatFamily &f : r.families)
    if (f.name == family.name)
      return;
  r.families.push_back(std::move(family));
}

std::vector<FormatFamily> formatFamilies() {
  Registry &r = registry();
  std::vector<FormatFamily> families;
  {
    std::lock_guard<std::mutex> guard(r.lock);
    families = r.families;
  }
  // Registration order is link order: list by name instead.
  std::sort(families.begin(), families.end(),
            [](const FormatFamily &a, const FormatFamily &b) { return a.name < b.name; });
  return families;
}

std::unique_ptr<Codec> makeCodec(const std::string &name, std::string &why) {
  std::string family = name, params;
  size_t open = name.find('<');
  if (open != std::string::npos) {
    if (name.back() != '>') {
      why = "format '" + name + "' must end with '>'";
      return nullptr;
    }
    family = name.substr(0, open);
    params = name.substr(open + 1, name.size() - open - 2);
  }
  for (const FormatFamily &f : formatFamilies())
    if (f.name == family) {
      std::unique_ptr<Codec> codec = f.make(params, why);
      if (codec && codec->name() != name) {
        // One spelling per format: names round-trip through Codec::name().
        why = "format '" + name + "' is spelled '" + codec->name() + "'";
        return nullptr;
      }
      return codec;
    }
  why = "unknown format '" + name + "'";
  return nullptr;
}

} // namespace qc::formats
