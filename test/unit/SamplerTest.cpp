//===- SamplerTest.cpp - The runtime's sampler -----------------------------===//
#include "qc/runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

TEST(Sampler, GreedyAndTopKOneTakeTheArgmax) {
  std::vector<float> logits = {0.1f, 2.5f, -1.0f, 2.4f};
  uint64_t state = 1;
  EXPECT_EQ(qc_sample(logits.data(), 4, nullptr, &state), 1);
  qc_sampler s{1.5f, 1, 1.0f, 1};
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(qc_sample(logits.data(), 4, &s, &state), 1);
}

TEST(Sampler, SameSeedSameTokens) {
  std::vector<float> logits(50);
  for (int i = 0; i < 50; ++i)
    logits[i] = std::sin(float(i));
  qc_sampler s{0.9f, 20, 0.95f, 42};
  uint64_t a = s.seed, b = s.seed;
  for (int i = 0; i < 200; ++i)
    EXPECT_EQ(qc_sample(logits.data(), 50, &s, &a),
              qc_sample(logits.data(), 50, &s, &b));
}

TEST(Sampler, FrequenciesFollowTheSoftmax) {
  // p = 1/4 and 3/4 at temperature 1.
  std::vector<float> logits = {0.0f, std::log(3.0f)};
  qc_sampler s{1.0f, 0, 1.0f, 7};
  uint64_t state = s.seed;
  int ones = 0, n = 40000;
  for (int i = 0; i < n; ++i)
    ones += qc_sample(logits.data(), 2, &s, &state);
  EXPECT_NEAR(double(ones) / n, 0.75, 0.01);
}

TEST(Sampler, TopPKeepsTheNucleus) {
  // The top token alone holds 0.9 of the mass: top_p 0.5 keeps only it.
  std::vector<float> logits = {std::log(9.0f), 0.0f};
  qc_sampler s{1.0f, 0, 0.5f, 3};
  uint64_t state = s.seed;
  for (int i = 0; i < 1000; ++i)
    EXPECT_EQ(qc_sample(logits.data(), 2, &s, &state), 0);
}
