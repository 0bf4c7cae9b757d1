// The demo generator's random source: xoshiro256** seeded through splitmix64.
//
// Deterministic on every platform (integer arithmetic only; no std::random_device, no rand(),
// no std::uniform_*_distribution, whose output differs between standard libraries). Each entity
// draws from its own stream, Rng::For(seed, stream, index), so an entity's content does not
// depend on how the generator is chunked or on how many draws other entities made.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace gridmis::demo {

constexpr uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t sm = seed;
    for (auto& w : s_) w = SplitMix64(sm);
  }

  // An independent stream for entity `index` of kind `stream` under `seed`.
  static Rng For(uint64_t seed, uint64_t stream, uint64_t index) {
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
    uint64_t a = SplitMix64(x);
    x = a ^ (index * 0x9e3779b97f4a7c15ULL);
    return Rng(SplitMix64(x));
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n); n > 0. Multiply-high mapping (bias below 2^-40 for the n used here).
  uint64_t Below(uint64_t n) {
    __extension__ using U128 = unsigned __int128;
    return static_cast<uint64_t>((static_cast<U128>(Next()) * n) >> 64);
  }
  // Uniform in [lo, hi], inclusive.
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  // True with probability per_10000 / 10000.
  bool Chance(int64_t per_10000) { return static_cast<int64_t>(Below(10000)) < per_10000; }
  // A decimal digit '0'..'9'.
  char Digit() { return static_cast<char>('0' + Below(10)); }

  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Below(N)];
  }
  template <typename T>
  const T& Pick(std::span<const T> items) {
    return items[Below(items.size())];
  }
  // An index drawn with the given non-negative integer weights (not all zero).
  size_t Weighted(std::span<const int> weights) {
    uint64_t total = 0;
    for (int w : weights) total += static_cast<uint64_t>(w);
    uint64_t r = Below(total);
    for (size_t i = 0; i < weights.size(); ++i) {
      if (r < static_cast<uint64_t>(weights[i])) return i;
      r -= static_cast<uint64_t>(weights[i]);
    }
    return weights.size() - 1;
  }

 private:
  static constexpr uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace gridmis::demo
