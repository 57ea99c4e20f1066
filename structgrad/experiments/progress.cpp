#include "structgrad/experiments/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace structgrad::experiments {

ProgressBar::ProgressBar(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)),
      total_(std::max<int64_t>(total, 1)),
      enabled_(enabled),
      terminal_(isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() {
  if (!finished_) finish();
}

double ProgressBar::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::update(int64_t done, const std::string& note) { draw(done, note, false); }

void ProgressBar::finish(const std::string& note) {
  finished_ = true;
  draw(total_, note, true);
}

void ProgressBar::draw(int64_t done, const std::string& note, bool final) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const int percent = int(100 * std::min(done, total_) / total_);
  // Off a terminal a redraw is a new line, so print only every 10%.
  if (!final) {
    if (terminal_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    if (!terminal_ && percent / 10 == last_percent_ / 10) return;
  }
  last_draw_ = now;
  last_percent_ = percent;
  constexpr int width = 30;
  std::string bar(width * percent / 100, '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "%s%-18s [%s] %3d%% %lld/%lld %.1fs %s%s", terminal_ ? "\r\033[K" : "",
               label_.c_str(), bar.c_str(), percent, static_cast<long long>(std::min(done, total_)),
               static_cast<long long>(total_), elapsed_seconds(), note.c_str(),
               final || !terminal_ ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace structgrad::experiments
