// A one-line progress bar on stderr for long runs: "label [#####.....] 45% 450/1000 12.1s note".
// Redraws at most ten times a second; prints plain lines instead when stderr is not a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace structgrad::experiments {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, bool enabled = true);
  ~ProgressBar();

  void update(int64_t done, const std::string& note = "");
  void finish(const std::string& note = "");
  double elapsed_seconds() const;

 private:
  void draw(int64_t done, const std::string& note, bool final);

  std::string label_;
  int64_t total_;
  bool enabled_;
  bool terminal_;
  bool finished_ = false;
  int last_percent_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace structgrad::experiments
