#include "structgrad/solvers/enumerate.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace structgrad::solvers {

std::vector<std::vector<int64_t>> k_subsets(int64_t n, int64_t k) {
  if (n < 0 || k < 0 || k > n) throw std::invalid_argument("k_subsets: need 0 <= k <= n");
  std::vector<std::vector<int64_t>> out;
  std::vector<int64_t> current(k);
  std::iota(current.begin(), current.end(), 0);
  while (true) {
    out.push_back(current);
    // Advance the rightmost index that still has room.
    int64_t i = k - 1;
    while (i >= 0 && current[i] == n - k + i) --i;
    if (i < 0) return out;
    ++current[i];
    for (int64_t j = i + 1; j < k; ++j) current[j] = current[j - 1] + 1;
  }
}

std::vector<std::vector<int64_t>> permutations(int64_t n) {
  if (n < 0) throw std::invalid_argument("permutations: need n >= 0");
  std::vector<std::vector<int64_t>> out;
  std::vector<int64_t> current(n);
  std::iota(current.begin(), current.end(), 0);
  do out.push_back(current);
  while (std::next_permutation(current.begin(), current.end()));
  return out;
}

}  // namespace structgrad::solvers
