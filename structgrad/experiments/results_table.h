// What the table experiments share (subset-selection, graph-layout, ...): metrics of each method
// and setting over several seeds, reported as the seeds' tables report them (mean and standard
// deviation over seeds), beside the seed's own numbers, in one summary.json shape:
//   {"experiment": NAME, "rows": [{"method", "setting", "metrics", "std", "seeds"}],
//    "seed_table": [...], "notes": {...}}
// scripts/results_md.py turns it into a section of docs/RESULTS.md.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace structgrad::experiments {

struct TableRow {
  std::string method;
  nlohmann::json setting;                          // {"encoder": "simple", "k": 5}
  std::vector<std::map<std::string, double>> runs;  // one map of metric -> value per seed
};

// Adds a run's metrics to the row of (method, setting), creating the row in order of first use.
void add_run(std::vector<TableRow>& rows, const std::string& method, const nlohmann::json& setting,
             const std::map<std::string, double>& metrics);

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

// The means of a run's training losses over its first and its last tenth of steps: the smoke
// tests check that the second is lower.
std::pair<double, double> first_and_last_tenth(const std::vector<double>& losses);

}  // namespace structgrad::experiments
