#include "structgrad/experiments/results_table.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "structgrad/experiments/data_parallel.h"

namespace structgrad::experiments {

void add_run(std::vector<TableRow>& rows, const std::string& method, const nlohmann::json& setting,
             const std::map<std::string, double>& metrics) {
  auto row = std::find_if(rows.begin(), rows.end(),
                          [&](const TableRow& r) { return r.method == method && r.setting == setting; });
  if (row == rows.end()) row = rows.insert(rows.end(), TableRow{method, setting, {}});
  row->runs.push_back(metrics);
}

nlohmann::json seed_table_row(const std::string& source, const std::string& seed_method, const std::string& method,
                              const nlohmann::json& setting, const std::string& metric, double value) {
  return {{"source", source},
          {"seed_method", seed_method},
          {"method", method},
          {"setting", setting},
          {"metrics", {{metric, value}}},
          {"std", {{metric, 0.0}}}};
}

nlohmann::json table_summary(const std::string& experiment, const std::vector<TableRow>& rows,
                             const nlohmann::json& seed_table, const nlohmann::json& notes) {
  nlohmann::json out = {{"experiment", experiment}, {"rows", nlohmann::json::array()},
                        {"seed_table", seed_table}, {"notes", notes}};
  for (const TableRow& row : rows) {
    nlohmann::json mean = nlohmann::json::object(), std = nlohmann::json::object();
    for (const auto& [metric, unused] : row.runs.front()) {
      double sum = 0;
      for (const auto& run : row.runs) sum += run.at(metric);
      const double m = sum / double(row.runs.size());
      double squares = 0;
      for (const auto& run : row.runs) squares += (run.at(metric) - m) * (run.at(metric) - m);
      mean[metric] = m;
      std[metric] = row.runs.size() > 1 ? std::sqrt(squares / double(row.runs.size() - 1)) : 0.0;
    }
    out["rows"].push_back({{"method", row.method},
                           {"setting", row.setting},
                           {"metrics", mean},
                           {"std", std},
                           {"seeds", row.runs.size()}});
  }
  return out;
}

void write_table(const std::string& directory, const nlohmann::json& summary) {
  const std::filesystem::path dir = directory;
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "summary.json") << summary.dump(2) << '\n';
  std::ofstream csv(dir / "summary.csv");
  const auto& rows = summary.at("rows");
  if (rows.empty()) return;
  std::vector<std::string> keys, metrics;
  // Every row's setting keys, in order of first appearance (rows may vary different settings:
  // eps for one method, tau for another).
  for (const auto& row : rows)
    for (const auto& [key, unused] : row.at("setting").items())
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  for (const auto& [metric, unused] : rows.front().at("metrics").items()) metrics.push_back(metric);
  csv << "method";
  for (const auto& key : keys) csv << ',' << key;
  for (const auto& metric : metrics) csv << ',' << metric << ',' << metric << "_std";
  csv << ",seeds\n";
  for (const auto& row : rows) {
    csv << row.at("method").get<std::string>();
    for (const auto& key : keys) csv << ',' << row.at("setting").value(key, nlohmann::json()).dump();
    for (const auto& metric : metrics)
      csv << ',' << row.at("metrics").at(metric).get<double>() << ',' << row.at("std").at(metric).get<double>();
    csv << ',' << row.at("seeds").get<int64_t>() << '\n';
  }
}

std::string format_table(const nlohmann::json& summary, const std::vector<std::string>& metrics) {
  std::string out;
  char buffer[256];
  for (const auto& row : summary.at("rows")) {
    std::string setting;
    for (const auto& [key, value] : row.at("setting").items()) setting += " " + key + "=" + value.dump();
    std::snprintf(buffer, sizeof buffer, "%-28s%-26s", row.at("method").get<std::string>().c_str(), setting.c_str());
    out += buffer;
    for (const auto& metric : metrics) {
      std::snprintf(buffer, sizeof buffer, "  %s %.4g ± %.2g", metric.c_str(), row.at("metrics").at(metric).get<double>(),
                    row.at("std").at(metric).get<double>());
      out += buffer;
    }
    out += "  (" + std::to_string(row.at("seeds").get<int64_t>()) + " seeds)\n";
  }
  return out;
}

std::string format_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

std::pair<double, double> first_and_last_tenth(const std::vector<double>& losses) {
  TORCH_CHECK_VALUE(!losses.empty(), "first_and_last_tenth: no losses");
  const size_t tenth = std::max<size_t>(1, losses.size() / 10);
  double first = 0, last = 0;
  for (size_t i = 0; i < tenth; ++i) {
    first += losses[i] / double(tenth);
    last += losses[losses.size() - 1 - i] / double(tenth);
  }
  return {first, last};
}

RunLog::RunLog(std::string experiment, const std::string& directory, std::string run_header, std::string curve_column,
               nlohmann::json seed_table, nlohmann::json notes)
    : experiment_(std::move(experiment)),
      directory_(directory),
      run_header_(std::move(run_header)),
      curve_column_(std::move(curve_column)),
      seed_table_(std::move(seed_table)),
      notes_(std::move(notes)) {
  write();
}

void RunLog::add(const std::string& method, const nlohmann::json& setting, const std::map<std::string, double>& metrics,
                 std::string run_line, const TrainingResult& training) {
  add_run(rows_, method, setting, metrics);
  run_lines_.push_back(std::move(run_line));
  trainings_.push_back(training);
  write();
}

void RunLog::write() {
  summary_ = table_summary(experiment_, rows_, seed_table_, notes_);
  double checksum = 0;
  for (const auto& t : trainings_) checksum += t.parameter_checksum;
  summary_["parameter_checksum"] = checksum;
  if (!DataParallel::process().writes_results()) return;
  write_table(directory_, summary_);
  const std::filesystem::path dir = directory_;
  std::ofstream runs(dir / "runs.csv");
  runs << run_header_ << '\n';
  for (const auto& line : run_lines_) runs << line << '\n';
  std::ofstream curves(dir / "curves.csv");
  curves << "label,step,seconds," << curve_column_ << '\n';
  for (const auto& t : trainings_)
    for (const auto& p : t.curve) curves << csv_line(t.label, p.step, p.seconds, p.test_loss) << '\n';
}

void RunLog::finish(const std::string& title, const std::string& y_label, const std::vector<std::string>& metrics) const {
  if (!DataParallel::process().writes_results()) return;
  const std::filesystem::path dir = directory_;
  PlotAxes axes;
  axes.y = curve_column_;
  axes.y_label = y_label;
  plot_curves((dir / "curves.csv").string(), (dir / (curve_column_ + ".png")).string(), title, axes);
  std::printf("%s", format_table(summary_, metrics).c_str());
}

}  // namespace structgrad::experiments
