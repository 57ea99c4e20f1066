#include "structgrad/experiments/listops.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <tuple>

#include "structgrad/experiments/results_table.h"
#include "structgrad/structures/arborescence.h"

namespace structgrad::experiments {
namespace {

constexpr int64_t kClasses = 10;

int64_t apply_operator(int64_t op, std::vector<int64_t> arguments) {
  switch (op) {
    case kListOpsMin:
      return *std::min_element(arguments.begin(), arguments.end());
    case kListOpsMax:
      return *std::max_element(arguments.begin(), arguments.end());
    case kListOpsFirst:
      return arguments.front();
    case kListOpsLast:
      return arguments.back();
    default: {  // kListOpsMed: ListOps' int(median), the mean of the two middle values rounded down
      std::sort(arguments.begin(), arguments.end());
      const size_t m = arguments.size();
      return m % 2 == 1 ? arguments[m / 2] : (arguments[m / 2 - 1] + arguments[m / 2]) / 2;
    }
  }
}

// The generator's expressions, written token by token with each token's parent.
class ExpressionWriter {
 public:
  ExpressionWriter(const ListOpsDataConfig& config, uint64_t seed) : config_(config), random_(seed) {}

  // One expression within the config's bounds: its value and depth.
  std::pair<int64_t, int64_t> write(std::vector<int64_t>& tokens, std::vector<int64_t>& parents) {
    for (int64_t attempt = 0; attempt < 100000; ++attempt) {
      tokens.clear();
      parents.clear();
      int64_t deepest = 0;
      const int64_t value = write_operator(tokens, parents, -1, 1, deepest);
      if (int64_t(tokens.size()) <= config_.max_length && deepest >= config_.min_depth) return {value, deepest};
    }
    TORCH_CHECK_VALUE(false, "listops_data: no expression of at most max_length = ", config_.max_length,
                      " tokens reached min_depth = ", config_.min_depth, " in 100000 draws; raise max_length, ",
                      "max_arguments or operator_probability, or lower min_depth");
  }

 private:
  // An operator at `depth` whose token's parent is `parent`; its value.
  int64_t write_operator(std::vector<int64_t>& tokens, std::vector<int64_t>& parents, int64_t parent, int64_t depth,
                         int64_t& deepest) {
    deepest = std::max(deepest, depth);
    const int64_t op = kListOpsMin + std::uniform_int_distribution<int64_t>(0, 4)(random_);
    const int64_t self = int64_t(tokens.size());
    tokens.push_back(op);
    parents.push_back(parent);
    const int64_t count = std::uniform_int_distribution<int64_t>(2, config_.max_arguments)(random_);
    std::vector<int64_t> arguments;
    for (int64_t a = 0; a < count; ++a) {
      // Past max_length the expression is rejected anyway: stop growing it.
      if (int64_t(tokens.size()) > config_.max_length) return 0;
      if (depth < config_.max_depth && std::bernoulli_distribution(config_.operator_probability)(random_)) {
        arguments.push_back(write_operator(tokens, parents, self, depth + 1, deepest));
      } else {
        arguments.push_back(std::uniform_int_distribution<int64_t>(0, 9)(random_));
        tokens.push_back(arguments.back());
        parents.push_back(self);
      }
    }
    tokens.push_back(kListOpsClose);
    parents.push_back(self);
    return apply_operator(op, std::move(arguments));
  }

  const ListOpsDataConfig& config_;
  std::mt19937_64 random_;
};

// The expressions `index` (all of one length n): tokens (B, n), values (B), and the parse as
// arborescence indicators (B, n, n) with x[i, j] = 1 for the edge i -> j.
struct Batch {
  at::Tensor tokens, values, parse;
};

Batch make_batch(const ListOpsData& data, const at::Tensor& index) {
  const int64_t n = data.lengths[index[0].item<int64_t>()].item<int64_t>();
  Batch batch{data.tokens.index_select(0, index).narrow(1, 0, n), data.values.index_select(0, index), {}};
  at::Tensor parents = data.parents.index_select(0, index).narrow(1, 1, n - 1);  // every token but the root
  batch.parse = at::zeros({index.numel(), n, n}, at::kFloat);
  batch.parse.narrow(2, 1, n - 1).copy_(at::one_hot(parents, n).transpose(1, 2));
  return batch;
}

// The pair of LSTMs (the two directions of a bidirectional LSTM) reading the tokens, with a parent
// and a child projection of each token's state: theta (B, n, n).
struct ListopsEncoderImpl : torch::nn::Module {
  ListopsEncoderImpl(int64_t embedding, int64_t hidden) : hidden(hidden) {
    embed = register_module("embed", torch::nn::Embedding(kListOpsVocabulary, embedding));
    lstm = register_module(
        "lstm", torch::nn::LSTM(torch::nn::LSTMOptions(embedding, hidden).batch_first(true).bidirectional(true)));
    parent_out = register_module("parent_out", torch::nn::Linear(2 * hidden, hidden));
    child_out = register_module("child_out", torch::nn::Linear(2 * hidden, hidden));
  }
  at::Tensor forward(const at::Tensor& tokens) {
    at::Tensor states = std::get<0>(lstm(embed(tokens)));
    return at::matmul(parent_out(states), child_out(states).transpose(1, 2)) / std::sqrt(double(hidden));
  }
  int64_t hidden;
  torch::nn::Embedding embed{nullptr};
  torch::nn::LSTM lstm{nullptr};
  torch::nn::Linear parent_out{nullptr}, child_out{nullptr};
};
TORCH_MODULE(ListopsEncoder);

// The GNN classifier over edge weights z (M, B, n, n): logits (M, B, 10).
struct ClassifierImpl : torch::nn::Module {
  ClassifierImpl(int64_t hidden, int64_t passes) : hidden(hidden), passes(passes) {
    embed = register_module("embed", torch::nn::Embedding(kListOpsVocabulary, hidden));
    local = register_module("local", torch::nn::Conv1d(torch::nn::Conv1dOptions(hidden, hidden, 3).padding(1)));
    from_child = register_module("from_child", torch::nn::Linear(hidden, hidden));
    from_parent = register_module("from_parent", torch::nn::Linear(hidden, hidden));
    update1 = register_module("update1", torch::nn::Linear(3 * hidden, 2 * hidden));
    update2 = register_module("update2", torch::nn::Linear(2 * hidden, hidden));
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})));
    readout1 = register_module("readout1", torch::nn::Linear(hidden, hidden));
    readout2 = register_module("readout2", torch::nn::Linear(hidden, kClasses));
  }
  at::Tensor forward(const at::Tensor& tokens, const at::Tensor& z) {
    const int64_t m = z.size(0), batch = tokens.size(0), n = tokens.size(1);
    // Each token with its two neighbours, once for all M structures.
    at::Tensor h = torch::relu(local(embed(tokens).transpose(1, 2))).transpose(1, 2);
    h = h.unsqueeze(0).expand({m, batch, n, hidden}).reshape({m * batch, n, hidden});
    const at::Tensor a = z.reshape({m * batch, n, n});
    const at::Tensor a_t = a.transpose(1, 2);
    for (int64_t pass = 0; pass < passes; ++pass) {
      // Row i of a sums over i's children j; row j of a^T over j's parent.
      at::Tensor children = at::bmm(a, from_child(h)), parent = at::bmm(a_t, from_parent(h));
      h = norm(h + update2(torch::relu(update1(at::cat({h, children, parent}, -1)))));
    }
    return readout2(torch::relu(readout1(h.select(1, 0)))).view({m, batch, kClasses});
  }
  int64_t hidden, passes;
  torch::nn::Embedding embed{nullptr};
  torch::nn::Conv1d local{nullptr};
  torch::nn::Linear from_child{nullptr}, from_parent{nullptr}, update1{nullptr}, update2{nullptr}, readout1{nullptr},
      readout2{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(Classifier);

// Cross-entropy of logits (M, B, 10) against values (B): (M, B).
at::Tensor cross_entropy(const at::Tensor& logits, const at::Tensor& values) {
  at::Tensor target = values.view({1, -1, 1}).expand({logits.size(0), -1, 1});
  return -at::log_softmax(logits, -1).gather(-1, target).squeeze(-1);
}

struct ListopsEvaluation {
  double accuracy, precision, recall;  // percent
};

// One hard sample per expression from the method's law (the true parse for ground_truth).
ListopsEvaluation evaluate_listops(ListopsEncoder& encoder, Classifier& classifier, const ListOpsMethod& method,
                                   const ListOpsData& data, int64_t batch_size, at::Generator& noise) {
  torch::NoGradGuard no_grad;
  double correct = 0, precision = 0, recall = 0;
  for (const at::Tensor& index : length_batches(data.lengths, batch_size, c10::nullopt)) {
    const Batch batch = make_batch(data, index);
    at::Tensor z = batch.parse;
    if (method.estimator != "ground_truth") {
      at::Tensor theta = encoder->forward(batch.tokens).to(at::kDouble);
      z = arborescence::sample(theta, 0, noise, method.perturbation).to(at::kFloat);
    }
    at::Tensor logits = classifier->forward(batch.tokens, z.unsqueeze(0)).squeeze(0);
    correct += (logits.argmax(-1) == batch.values).sum().item<double>();
    at::Tensor right = (z * batch.parse).sum({1, 2});
    precision += (right / z.sum({1, 2}).clamp_min(1)).sum().item<double>();
    recall += (right / batch.parse.sum({1, 2}).clamp_min(1)).sum().item<double>();
  }
  const double count = double(data.values.size(0));
  return {100 * correct / count, 100 * precision / count, 100 * recall / count};
}

// Seed 002 Table 3 (unsupervised parsing on ListOps) and seed 000's arborescence table: accuracy,
// precision and recall in percent, mean and std over initializations.
nlohmann::json listops_seed_tables() {
  nlohmann::json table = nlohmann::json::array();
  auto add = [&](const char* source, const char* seed_method, const char* ours, std::array<double, 6> v) {
    table.push_back({{"source", source},
                     {"seed_method", seed_method},
                     {"method", ours},
                     {"setting", nlohmann::json::object()},
                     {"metrics", {{"accuracy", v[0]}, {"precision", v[2]}, {"recall", v[4]}}},
                     {"std", {{"accuracy", v[1]}, {"precision", v[3]}, {"recall", v[5]}}}});
  };
  const char* s2 = "seed 002, Table 3 (ListOps)";
  add(s2, "SST (Our Impl.)", "arborescence_exponential_family", {78.42, 8.14, 56.84, 20.08, 30.18, 19.10});
  add(s2, "E-REINFORCE+", "arborescence_e_reinforce_plus", {60.25, 2.29, 40.87, 6.90, 40.74, 6.93});
  add(s2, "T-REINFORCE+", "arborescence_t_reinforce_plus", {87.34, 3.00, 77.93, 7.36, 61.10, 14.11});
  add(s2, "RELAX", "arborescence_relax", {79.60, 9.36, 54.73, 17.48, 53.61, 17.14});
  const char* s0 = "seed 000, arborescence table (ListOps)";
  add(s0, "Arborescence, Neg. Exp.", "arborescence_exponential_family_negative_exponential",
      {71.5, 1.4, 23.2, 10.2, 20.0, 6.0});
  add(s0, "Arborescence, Gaussian", "arborescence_exponential_family_gaussian", {95.0, 2.2, 65.3, 3.7, 60.8, 7.3});
  add(s0, "Arborescence, Gumbel", "arborescence_exponential_family", {95.0, 3.0, 75.5, 7.0, 71.9, 12.4});
  add(s0, "Ground Truth Edges", "ground_truth", {98.1, 0.1, 100, 0, 100, 0});
  return table;
}

}  // namespace

int64_t listops_value(const std::vector<int64_t>& tokens) {
  // Each open operator with the values of its arguments so far.
  std::vector<std::pair<int64_t, std::vector<int64_t>>> open;
  int64_t result = -1;
  for (size_t t = 0; t < tokens.size(); ++t) {
    const int64_t token = tokens[t];
    TORCH_CHECK_VALUE(result < 0, "listops_value: tokens after the expression's end, at ", t);
    TORCH_CHECK_VALUE(token >= 0 && token < kListOpsVocabulary, "listops_value: unknown token ", token, " at ", t);
    TORCH_CHECK_VALUE(!open.empty() || (token >= kListOpsMin && token <= kListOpsLast),
                      "listops_value: an expression opens with an operator, got token ", token, " at ", t);
    if (token >= kListOpsMin && token <= kListOpsLast) {
      open.push_back({token, {}});
    } else if (token < kListOpsMin) {
      open.back().second.push_back(token);
    } else {  // kListOpsClose
      TORCH_CHECK_VALUE(!open.back().second.empty(), "listops_value: an operator without arguments, closed at ", t);
      const int64_t value = apply_operator(open.back().first, std::move(open.back().second));
      open.pop_back();
      if (open.empty())
        result = value;
      else
        open.back().second.push_back(value);
    }
  }
  TORCH_CHECK_VALUE(result >= 0, "listops_value: the expression is not closed");
  return result;
}

ListOpsData listops_data(int64_t count, uint64_t seed, const ListOpsDataConfig& config) {
  TORCH_CHECK_VALUE(count >= 1, "listops_data: count must be positive, got ", count);
  TORCH_CHECK_VALUE(config.min_depth >= 1 && config.max_depth >= config.min_depth,
                    "listops_data: need 1 <= min_depth <= max_depth, got ", config.min_depth, " and ", config.max_depth);
  TORCH_CHECK_VALUE(config.max_arguments >= 2, "listops_data: max_arguments must be at least 2, got ",
                    config.max_arguments);
  TORCH_CHECK_VALUE(config.max_length >= 4, "listops_data: max_length must be at least 4 (\"[OP d d ]\"), got ",
                    config.max_length);
  TORCH_CHECK_VALUE(config.operator_probability >= 0 && config.operator_probability <= 1,
                    "listops_data: operator_probability must be in [0, 1], got ", config.operator_probability);
  ListOpsData data{at::full({count, config.max_length}, -1, at::kLong), at::full({count, config.max_length}, -1, at::kLong),
                   at::empty({count}, at::kLong), at::empty({count}, at::kLong), at::empty({count}, at::kLong)};
  ExpressionWriter writer(config, seed);
  std::vector<int64_t> tokens, parents;
  for (int64_t i = 0; i < count; ++i) {
    const auto [value, depth] = writer.write(tokens, parents);
    const int64_t n = int64_t(tokens.size());
    std::copy(tokens.begin(), tokens.end(), data.tokens[i].data_ptr<int64_t>());
    std::copy(parents.begin(), parents.end(), data.parents[i].data_ptr<int64_t>());
    data.lengths[i] = n;
    data.values[i] = value;
    data.depths[i] = depth;
  }
  return data;
}

std::vector<ListOpsMethod> listops_methods(double tau, int64_t num_samples) {
  std::vector<ListOpsMethod> methods;
  auto add = [&](std::string label, std::string estimator, std::string perturbation) {
    estimators::Options options;
    options.relax.tau = tau;
    options.num_samples = num_samples;
    methods.push_back({std::move(label), std::move(estimator), std::move(perturbation), options});
  };
  add("arborescence_exponential_family", "relaxed", "gumbel");
  add("arborescence_exponential_family_gaussian", "relaxed", "gaussian");
  add("arborescence_exponential_family_negative_exponential", "relaxed", "negative_exponential");
  // The trace estimators' samples follow the minimum arborescence under E ~ Exp(exp(theta)): the
  // maximum under the negative exponential perturbation.
  add("arborescence_e_reinforce_plus", "e_reinforce_plus", "negative_exponential");
  add("arborescence_t_reinforce_plus", "t_reinforce_plus", "negative_exponential");
  // RELAX's control variate (the SST relaxation at the trace's conditional perturbation) is its
  // baseline: one sample per expression.
  add("arborescence_relax", "relax", "negative_exponential");
  methods.back().options.num_samples = 1;
  add("ground_truth", "ground_truth", "gumbel");
  return methods;
}

void make_quick(ListOpsConfig& config) {
  config.quick = true;
  config.train_examples = 1000;
  config.validation_examples = config.test_examples = 200;
  config.steps = 60;
  config.eval_every = 30;
  config.seeds = 1;
}

ListOpsRunResult train_listops(const ListOpsMethod& method, uint64_t seed, const ListOpsData& train_data,
                               const ListOpsData& validation, const ListOpsData& test, const ListOpsConfig& config) {
  TORCH_CHECK_VALUE(config.message_passes >= 1, "listops: message_passes must be positive, got ",
                    config.message_passes);
  torch::manual_seed(seed);
  ListopsEncoder encoder(config.embedding, config.hidden);
  Classifier classifier(config.hidden, config.message_passes);
  const Family family = arborescence::family_with_perturbation(0, method.perturbation);
  const bool ground_truth = method.estimator == "ground_truth";

  std::vector<at::Tensor> parameters = classifier->parameters();
  if (!ground_truth)
    for (const auto& p : encoder->parameters()) parameters.push_back(p);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Generator noise = at::make_generator<at::CPUGeneratorImpl>(seed + 1);
  at::Generator evaluation_noise = at::make_generator<at::CPUGeneratorImpl>(seed + 2);
  LengthBatches batches(train_data.lengths, config.batch_size, generator);

  ListOpsRunResult result;
  result.method = method.label;
  result.seed = seed;
  std::vector<double> train_losses;
  auto step_objective = [&](int64_t) {
    const Batch batch = make_batch(train_data, batches.next());
    auto f = [&](const at::Tensor& z) {
      return cross_entropy(classifier->forward(batch.tokens, z.to(at::kFloat)), batch.values).to(at::kDouble);
    };
    const double size = double(batch.tokens.size(0));
    if (ground_truth) {
      at::Tensor loss = f(batch.parse.unsqueeze(0)).squeeze(0);
      train_losses.push_back(loss.mean().item<double>());
      return loss.sum() / size;
    }
    // theta in float64: the solvers, the matrix-tree theorem and the trace log-probabilities are exact there.
    at::Tensor theta = encoder->forward(batch.tokens).to(at::kDouble);
    estimators::Estimate e = estimators::estimate(method.estimator, family, theta, f, method.options, noise);
    train_losses.push_back(e.loss.mean().item<double>());
    return e.surrogate / size;
  };
  double best_validation = -1;
  auto validation_error = [&](const at::Tensor&) {
    const ListopsEvaluation v =
        evaluate_listops(encoder, classifier, method, validation, config.batch_size, evaluation_noise);
    if (v.accuracy > best_validation) {
      best_validation = v.accuracy;
      const ListopsEvaluation t =
          evaluate_listops(encoder, classifier, method, test, config.batch_size, evaluation_noise);
      result.accuracy = t.accuracy;
      result.precision = t.precision;
      result.recall = t.recall;
      result.best_step = int64_t(train_losses.size());
    }
    return 100 - v.accuracy;
  };
  TrainingConfig training = config;
  training.eval_images = validation.tokens.size(0);
  const std::string label = method.label + " seed " + std::to_string(seed);
  result.training = train_steps(label, validation.tokens, training, parameters, step_objective, validation_error);
  std::tie(result.first_train_loss, result.last_train_loss) = first_and_last_tenth(train_losses);
  return result;
}

std::vector<ListOpsRunResult> run_listops(const ListOpsConfig& config) {
  TORCH_CHECK_VALUE(config.seeds >= 1, "listops: seeds must be positive, got ", config.seeds);
  const auto methods = listops_methods(config.tau, config.num_samples);
  for (const auto& label : config.only)
    TORCH_CHECK_VALUE(
        std::any_of(methods.begin(), methods.end(), [&](const ListOpsMethod& m) { return m.label == label; }),
        "listops: unknown method '", label, "' in --only");
  // One data set for every run, as the seeds' tables vary the model's initialization over seeds.
  const ListOpsData train_data = listops_data(config.train_examples, config.seed, config.data);
  const ListOpsData validation = listops_data(config.validation_examples, config.seed + 1, config.data);
  const ListOpsData test = listops_data(config.test_examples, config.seed + 2, config.data);

  const ListOpsDataConfig& d = config.data;
  const nlohmann::json notes = {
      {"protocol", config.quick ? "--quick: a smoke run, not comparable with the seeds' tables"
                                : "full run of this CPU budget (see data and budget)"},
      {"data", "seeded simplified ListOps (structgrad/experiments/listops.h): MIN, MAX, MED, FIRST, LAST, no SUM_MOD, "
               "at most " + std::to_string(d.max_length) + " tokens, depth " + std::to_string(d.min_depth) + " to " +
                   std::to_string(d.max_depth) + ", 2 to " + std::to_string(d.max_arguments) +
                   " arguments per operator; " + std::to_string(config.train_examples) + " train, " +
                   std::to_string(config.validation_examples) + " validation, " +
                   std::to_string(config.test_examples) + " test expressions"},
      {"budget", std::to_string(config.steps) + " steps of up to " + std::to_string(config.batch_size) +
                     " expressions of one length, Adam " + format_number(config.learning_rate) + ", embedding " +
                     std::to_string(config.embedding) + ", hidden " + std::to_string(config.hidden) + ", " +
                     std::to_string(config.message_passes) + " message passes, tau " + format_number(config.tau) +
                     ", " + std::to_string(config.num_samples) +
                     " samples per expression for E- and T-REINFORCE+, one for RELAX"},
      {"units", "percent; precision and recall of the sampled edges against the parse, per expression, averaged "
                "(two arborescences on the same tokens: precision equals recall)"},
      {"selection", "test metrics at the step of the best validation accuracy; one hard sample per expression from "
                    "the method's law at evaluation"},
      {"display",
       {{"accuracy", {"accuracy (%)", 1}}, {"precision", {"precision (%)", 1}}, {"recall", {"recall (%)", 1}}}}};

  std::vector<ListOpsRunResult> results;
  RunLog log("listops", config.output_directory,
             "method,seed,accuracy,precision,recall,best_step,train_seconds,first_train_loss,last_train_loss",
             "validation_error", listops_seed_tables(), notes);
  for (const ListOpsMethod& method : methods) {
    if (!selected(config.only, method.label)) continue;
    for (int64_t s = 0; s < config.seeds; ++s) {
      results.push_back(train_listops(method, config.seed + 1000 * uint64_t(s + 1), train_data, validation, test, config));
      const ListOpsRunResult& r = results.back();
      log.add(r.method, nlohmann::json::object(),
              {{"accuracy", r.accuracy}, {"precision", r.precision}, {"recall", r.recall}},
              csv_line(r.method, r.seed, r.accuracy, r.precision, r.recall, r.best_step, r.training.train_seconds,
                       r.first_train_loss, r.last_train_loss),
              r.training);
    }
  }
  log.finish("ListOps", "validation error (%), one sample per expression", {"accuracy", "precision", "recall"});
  return results;
}

}  // namespace structgrad::experiments
