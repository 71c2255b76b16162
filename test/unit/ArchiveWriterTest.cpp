//===- ArchiveWriterTest.cpp - The archive written tensor by tensor -------===//
#include "qc/Analysis/Quantize.h"
#include "qc/Model/Archive.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace qc;
using namespace qc::model;

namespace {

std::string slurp(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool exists(const std::string &path) { return ::access(path.c_str(), F_OK) == 0; }

std::string tempPath(const char *name) {
  return ::testing::TempDir() + "/qc-archive-" + std::to_string(::getpid()) +
         "-" + name;
}

Model smallModel() {
  Model m;
  m.config.dim = 4;
  std::vector<float> a(64), b(4);
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = 0.01f * float(i) - 0.3f;
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = 1.0f + float(i);
  m.tensors["a.weight"] = Tensor::fromFloats("a.weight", {2, 32}, a.data());
  m.tensors["b.weight"] = Tensor::fromFloats("b.weight", {4}, b.data());
  // A packed tensor: a U8 blob with its format in the metadata.
  m.tensors["c.weight"] = quantizeTensor(m.tensors["a.weight"], "Q8_0",
                                         QuantMethod::RTN, nullptr, nullptr);
  m.tensors["c.weight"].name = "c.weight";
  return m;
}

} // namespace

TEST(ArchiveWriter, AnyWriteOrderGivesTheSameFileAsWriteArchive) {
  Model m = smallModel();
  std::string whole = tempPath("whole"), streamed = tempPath("streamed");
  writeArchive(m, whole);
  std::vector<TensorSpec> specs;
  for (const auto &[name, t] : m.tensors)
    specs.push_back(specOf(t));
  ArchiveWriter w(streamed, m.config, m.vocab, specs);
  for (const char *name : {"c.weight", "a.weight", "b.weight"})
    w.write(name, m.tensors[name].data(), m.tensors[name].size());
  EXPECT_FALSE(exists(streamed)); // only the temporary exists until commit
  w.commit();
  EXPECT_EQ(slurp(whole), slurp(streamed));
  // The packed tensor is a U8 blob whose format the metadata names.
  EXPECT_NE(slurp(streamed).find("format:c.weight"), std::string::npos);
  std::remove(whole.c_str());
  std::remove(streamed.c_str());
}

TEST(ArchiveWriter, RejectsUnknownMisSizedRepeatedAndMissingTensors) {
  Model m = smallModel();
  std::string path = tempPath("bad");
  std::vector<TensorSpec> specs;
  for (const auto &[name, t] : m.tensors)
    specs.push_back(specOf(t));
  {
    ArchiveWriter w(path, m.config, m.vocab, specs);
    const Tensor &a = m.tensor("a.weight");
    EXPECT_THROW(w.write("nope", a.data(), a.size()), FormatError);
    EXPECT_THROW(w.write("a.weight", a.data(), a.size() - 1), FormatError);
    w.write("a.weight", a.data(), a.size());
    EXPECT_THROW(w.write("a.weight", a.data(), a.size()), FormatError);
    try {
      w.commit();
      FAIL() << "commit with unwritten tensors succeeded";
    } catch (const FormatError &e) {
      EXPECT_NE(std::string(e.what()).find("was never written"),
                std::string::npos);
    }
  }
  // Destroyed without a commit: neither the archive nor a temporary stays.
  EXPECT_FALSE(exists(path));
  EXPECT_FALSE(exists(path + ".tmp." + std::to_string(::getpid())));
}

TEST(ArchiveWriter, SpecsNamingOneTensorTwiceAreRefused) {
  Model m = smallModel();
  TensorSpec s = specOf(m.tensor("b.weight"));
  EXPECT_THROW(ArchiveWriter(tempPath("twice"), m.config, m.vocab, {s, s}),
               FormatError);
}
