//===- Flags.h - The command-line convention of qc's programs ---*- C++ -*-===//
//
// The programs that parse their own arguments (quant-run, quant-export-gguf,
// the executable quant-compile builds) take '--flag value' and '--flag=value'
// alike, answer -h/--help with their usage and --version with qc's version.
// Header-only: the runtime's main links no qc library.
//
//===----------------------------------------------------------------------===//
#ifndef QC_SUPPORT_FLAGS_H
#define QC_SUPPORT_FLAGS_H

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

namespace qc::flags {

/// One argument: its flag and, for '--flag=value', the inline value.
struct Arg {
  std::string name, value;
  bool inlineValue = false;
};

inline Arg split(const std::string &text) {
  Arg a{text, "", false};
  size_t eq = text.find('=');
  if (text.rfind("--", 0) == 0 && eq != std::string::npos) {
    a.value = text.substr(eq + 1);
    a.name = text.substr(0, eq);
    a.inlineValue = true;
  }
  return a;
}

/// The value of `a`: inline, or argv[i + 1] (advancing i); none when the
/// arguments end.
inline std::optional<std::string> value(const Arg &a, int &i, int argc, char **argv) {
  if (a.inlineValue)
    return a.value;
  if (i + 1 >= argc)
    return std::nullopt;
  return std::string(argv[++i]);
}

/// -h/--help prints `usage`, --version "<program> (qc) <version>"; both exit 0.
inline void answerHelpAndVersion(int argc, char **argv, const char *program,
                                 const char *usage) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::printf("%s", usage);
      std::exit(0);
    }
    if (a == "--version") {
      std::printf("%s (qc) %s\n", program, QC_VERSION);
      std::exit(0);
    }
  }
}

} // namespace qc::flags

#endif // QC_SUPPORT_FLAGS_H
