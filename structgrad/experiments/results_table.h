// What the table experiments share (subset-selection, graph-layout, ...): metrics of each method
// and setting over several seeds, reported as the seeds' tables report them (mean and standard
// deviation over seeds), beside the seed's own numbers, in one summary.json shape:
//   {"experiment": NAME, "rows": [{"method", "setting", "metrics", "std", "seeds"}],
//    "seed_table": [...], "notes": {...}}
// scripts/results_md.py turns it into a section of docs/RESULTS.md.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "structgrad/experiments/training.h"

namespace structgrad::experiments {

struct TableRow {
  std::string method;
  nlohmann::json setting;                          // {"encoder": "simple", "k": 5}
  std::vector<std::map<std::string, double>> runs;  // one map of metric -> value per seed
};

// Adds a run's metrics to the row of (method, setting), creating the row in order of first use.
void add_run(std::vector<TableRow>& rows, const std::string& method, const nlohmann::json& setting,
             const std::map<std::string, double>& metrics);

// One row of a seed_table for a seed that prints one figure per cell, without a spread (its std
// is 0): {"source", "seed_method", "method", "setting", "metrics": {metric: value}, "std"}.
nlohmann::json seed_table_row(const std::string& source, const std::string& seed_method, const std::string& method,
                              const nlohmann::json& setting, const std::string& metric, double value);

// The summary.json object: each row's mean and sample standard deviation (0 for one seed).
nlohmann::json table_summary(const std::string& experiment, const std::vector<TableRow>& rows,
                             const nlohmann::json& seed_table, const nlohmann::json& notes);

// summary.json and summary.csv (method, setting keys, then mean and std of every metric) under
// `directory`.
void write_table(const std::string& directory, const nlohmann::json& summary);

// The rows as aligned text, "mean ± std" per metric in `metrics` order, for the terminal.
std::string format_table(const nlohmann::json& summary, const std::vector<std::string>& metrics);

// A number as the notes print it (printf's %g).
std::string format_number(double value);

// One line of a CSV file: the values as an ostream writes them, comma-separated.
template <class... Values>
std::string csv_line(const Values&... values) {
  std::ostringstream line;
  const char* separator = "";
  ((line << separator << values, separator = ","), ...);
  return line.str();
}

// What a table experiment writes as its runs finish, under `directory`: runs.csv (a line per
// run), curves.csv (label, step, seconds, `curve_column`: each run's validation curve),
// summary.json and summary.csv (the rows over seeds, the seeds' table, the notes, and
// "parameter_checksum": the sum of every run's, data_parallel.h). Every file is written again
// after each run, so that a long run stopped early keeps what it finished; only the first
// process of a data-parallel run writes.
class RunLog {
 public:
  RunLog(std::string experiment, const std::string& directory, std::string run_header, std::string curve_column,
         nlohmann::json seed_table, nlohmann::json notes);
  // A run: its metrics join the row of (method, setting); run_line is its line of runs.csv.
  void add(const std::string& method, const nlohmann::json& setting, const std::map<std::string, double>& metrics,
           std::string run_line, const TrainingResult& training);
  const nlohmann::json& summary() const { return summary_; }
  const std::string& directory() const { return directory_; }
  // Plots the curves to <curve_column>.png and prints the table of `metrics`.
  void finish(const std::string& title, const std::string& y_label, const std::vector<std::string>& metrics) const;

 private:
  void write();

  std::string experiment_, directory_, run_header_, curve_column_;
  nlohmann::json seed_table_, notes_, summary_;
  std::vector<TableRow> rows_;
  std::vector<std::string> run_lines_;
  std::vector<TrainingResult> trainings_;
};

// The means of a run's training losses over its first and its last tenth of steps: the smoke
// tests check that the second is lower.
std::pair<double, double> first_and_last_tenth(const std::vector<double>& losses);

}  // namespace structgrad::experiments
