#include "structgrad/experiments/parentheses.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <tuple>

#include "structgrad/estimators/estimators.h"
#include "structgrad/experiments/results_table.h"
#include "structgrad/structures/binary_tree.h"

namespace structgrad::experiments {
namespace {

// The children of every node of a binary_tree structure (n, n) in float64, and its root.
struct Children {
  std::vector<int64_t> left, right;
  int64_t root = -1;
};

Children children_of(const double* x, int64_t n) {
  Children c{std::vector<int64_t>(n, -1), std::vector<int64_t>(n, -1), -1};
  std::vector<bool> has_parent(n, false);
  for (int64_t p = 0; p < n; ++p)
    for (int64_t child = 0; child < n; ++child)
      if (x[p * n + child] > 0.5) {
        (child < p ? c.left : c.right)[p] = child;
        has_parent[child] = true;
      }
  for (int64_t v = 0; v < n; ++v)
    if (!has_parent[v]) c.root = v;
  return c;
}

// The decoder: a single-layer LSTM over the pre-order tokens (input ids: the 2 types brackets,
// <end> = 2 types, <bos> = 2 types + 1), predicting the next of the 2 types + 1 outputs.
struct ParenthesesDecoderImpl : torch::nn::Module {
  ParenthesesDecoderImpl(int64_t types, int64_t embedding, int64_t hidden)
      : end_token(2 * types), bos_token(2 * types + 1) {
    embed = register_module("embed", torch::nn::Embedding(2 * types + 2, embedding));
    lstm = register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(embedding, hidden).batch_first(true)));
    out = register_module("out", torch::nn::Linear(hidden, 2 * types + 1));
  }
  // -log p of each target sequence (N, L) -> (N).
  at::Tensor nll(const at::Tensor& targets) {
    at::Tensor inputs = at::cat({at::full({targets.size(0), 1}, bos_token, targets.options()),
                                 targets.narrow(1, 0, targets.size(1) - 1)}, 1);
    at::Tensor logits = out(std::get<0>(lstm(embed(inputs))));
    return -at::log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1).sum(-1);
  }
  // `count` sequences sampled in pre-order; an empty vector {-1} marks one that outgrew max_length.
  std::vector<std::vector<int64_t>> generate(int64_t count, int64_t max_length, at::Generator& generator) {
    torch::NoGradGuard no_grad;
    struct Node {
      int64_t token, left = -1, right = -1;
    };
    struct Slot {
      int64_t parent, side;  // side 0: left child, 1: right child; parent -1: the root
    };
    std::vector<std::vector<Node>> nodes(count);
    std::vector<std::vector<Slot>> open(count, std::vector<Slot>{{-1, 0}});
    std::vector<bool> too_long(count, false);
    at::Tensor previous = at::full({count, 1}, bos_token, at::kLong);
    std::tuple<at::Tensor, at::Tensor> state;
    bool started = false;
    for (int64_t step = 0; step <= 2 * max_length + 1; ++step) {
      auto [output, next_state] = started ? lstm(embed(previous), state) : lstm(embed(previous));
      state = next_state;
      started = true;
      at::Tensor drawn = at::multinomial(at::softmax(out(output.squeeze(1)), -1), 1, false, generator);
      const int64_t* token = drawn.data_ptr<int64_t>();
      bool any_open = false;
      for (int64_t s = 0; s < count; ++s) {
        if (open[s].empty()) continue;
        const Slot slot = open[s].back();
        open[s].pop_back();
        if (token[s] != end_token) {
          const int64_t id = int64_t(nodes[s].size());
          nodes[s].push_back({token[s]});
          if (slot.parent >= 0) (slot.side == 0 ? nodes[s][slot.parent].left : nodes[s][slot.parent].right) = id;
          if (id + 1 > max_length) {
            too_long[s] = true;
            open[s].clear();
          } else {
            open[s].push_back({id, 1});  // the right subtree after the left one
            open[s].push_back({id, 0});
          }
        }
        any_open = any_open || !open[s].empty();
      }
      if (!any_open) break;
      previous = drawn;
    }
    std::vector<std::vector<int64_t>> sequences(count);
    for (int64_t s = 0; s < count; ++s) {
      if (too_long[s] || !open[s].empty()) {
        sequences[s] = {-1};
        continue;
      }
      // In-order traversal from the root (node 0, the first drawn).
      std::vector<int64_t> stack;
      int64_t v = nodes[s].empty() ? -1 : 0;
      while (v >= 0 || !stack.empty()) {
        while (v >= 0) {
          stack.push_back(v);
          v = nodes[s][v].left;
        }
        v = stack.back();
        stack.pop_back();
        sequences[s].push_back(nodes[s][v].token);
        v = nodes[s][v].right;
      }
    }
    return sequences;
  }
  int64_t end_token, bos_token;
  torch::nn::Embedding embed{nullptr};
  torch::nn::LSTM lstm{nullptr};
  torch::nn::Linear out{nullptr};
};
TORCH_MODULE(ParenthesesDecoder);

// A bidirectional LSTM's state per position: (B, n, hidden).
struct ContextImpl : torch::nn::Module {
  ContextImpl(int64_t types, int64_t embedding, int64_t hidden) {
    embed = register_module("embed", torch::nn::Embedding(2 * types, embedding));
    lstm = register_module(
        "lstm", torch::nn::LSTM(torch::nn::LSTMOptions(embedding, hidden / 2).batch_first(true).bidirectional(true)));
  }
  at::Tensor forward(const at::Tensor& tokens) { return std::get<0>(lstm(embed(tokens))); }
  torch::nn::Embedding embed{nullptr};
  torch::nn::LSTM lstm{nullptr};
};
TORCH_MODULE(Context);

// q(t | x): a score per position, theta (B, n), of the binary_tree family.
struct ParenthesesEncoderImpl : torch::nn::Module {
  ParenthesesEncoderImpl(int64_t types, int64_t embedding, int64_t hidden) {
    context = register_module("context", Context(types, embedding, hidden));
    score = register_module("score", torch::nn::Linear(hidden, 1));
  }
  at::Tensor forward(const at::Tensor& tokens) { return score(context(tokens)).squeeze(-1); }
  Context context{nullptr};
  torch::nn::Linear score{nullptr};
};
TORCH_MODULE(ParenthesesEncoder);

// RELAX's control variate c(e) = sum over positions of an MLP of (e_i, the position's state).
struct CriticImpl : torch::nn::Module {
  CriticImpl(int64_t types, int64_t embedding, int64_t hidden) {
    context = register_module("context", Context(types, embedding, hidden));
    fc1 = register_module("fc1", torch::nn::Linear(hidden + 1, hidden));
    fc2 = register_module("fc2", torch::nn::Linear(hidden, 1));
  }
  // states (B, n, H), perturbed (S, B, n) -> (S, B).
  at::Tensor forward(const at::Tensor& states, const at::Tensor& perturbed) {
    at::Tensor e = perturbed.to(states.scalar_type()).unsqueeze(-1);
    at::Tensor s = states.unsqueeze(0).expand({e.size(0), -1, -1, -1});
    return fc2(torch::relu(fc1(at::cat({s, e}, -1)))).squeeze(-1).sum(-1).to(perturbed.scalar_type());
  }
  Context context{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Critic);

std::vector<int64_t> row(const ParenthesesData& data, int64_t i) {
  const int64_t n = data.lengths[i].item<int64_t>();
  const int64_t* t = data.tokens[i].data_ptr<int64_t>();
  return {t, t + n};
}

// Copies of the parameters (the best step's), and their restoration.
std::vector<at::Tensor> snapshot(const std::vector<at::Tensor>& parameters) {
  std::vector<at::Tensor> copies;
  for (const auto& p : parameters) copies.push_back(p.detach().clone());
  return copies;
}

void restore(const std::vector<at::Tensor>& parameters, const std::vector<at::Tensor>& copies) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < parameters.size(); ++i) parameters[i].copy_(copies[i]);
}

}  // namespace

bool is_balanced(const std::vector<int64_t>& tokens, int64_t types) {
  if (tokens.empty()) return false;
  std::vector<int64_t> open;
  for (int64_t token : tokens) {
    if (token < 0 || token >= 2 * types) return false;
    if (token % 2 == 0) {
      open.push_back(token / 2);
    } else {
      if (open.empty() || open.back() != token / 2) return false;
      open.pop_back();
    }
  }
  return open.empty();
}

ParenthesesData parentheses_data(int64_t count, int64_t types, int64_t max_pairs, uint64_t seed) {
  TORCH_CHECK_VALUE(count >= 1, "parentheses_data: count must be positive, got ", count);
  TORCH_CHECK_VALUE(types >= 1, "parentheses_data: types must be positive, got ", types);
  TORCH_CHECK_VALUE(max_pairs >= 1, "parentheses_data: max_pairs must be positive, got ", max_pairs);
  ParenthesesData data{at::full({count, 2 * max_pairs}, -1, at::kLong), at::empty({count}, at::kLong)};
  std::mt19937_64 random(seed);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t pairs = std::uniform_int_distribution<int64_t>(1, max_pairs)(random);
    // The cycle lemma: of the 2m + 1 rotations of m up-steps and m + 1 down-steps exactly one
    // keeps every proper prefix sum >= 0, the one starting after the first minimum prefix sum; its
    // first 2m steps are a Dyck word, uniform over the Dyck words of m pairs.
    std::vector<int64_t> steps(2 * pairs + 1, -1);
    std::fill(steps.begin(), steps.begin() + pairs, 1);
    std::shuffle(steps.begin(), steps.end(), random);
    int64_t sum = 0, lowest = 1, start = 0;
    for (int64_t k = 0; k < int64_t(steps.size()); ++k) {
      sum += steps[k];
      if (sum < lowest) {
        lowest = sum;
        start = k + 1;
      }
    }
    std::rotate(steps.begin(), steps.begin() + (start % int64_t(steps.size())), steps.end());
    std::vector<int64_t> open;
    int64_t* out = data.tokens[i].data_ptr<int64_t>();
    for (int64_t k = 0; k < 2 * pairs; ++k) {
      if (steps[k] == 1) {
        open.push_back(std::uniform_int_distribution<int64_t>(0, types - 1)(random));
        out[k] = 2 * open.back();
      } else {
        out[k] = 2 * open.back() + 1;
        open.pop_back();
      }
    }
    data.lengths[i] = 2 * pairs;
  }
  return data;
}

at::Tensor left_to_right_order(int64_t batch, int64_t n) {
  TORCH_CHECK_VALUE(n >= 1 && batch >= 0, "left_to_right_order: need n >= 1 and batch >= 0, got ", n, " and ", batch);
  // x[p, p + 1] = 1: every node's successor is its right child.
  return at::diag(at::ones({n - 1}, at::kDouble), 1).expand({batch, n, n}).contiguous();
}

at::Tensor smart_order(const at::Tensor& tokens) {
  TORCH_CHECK_VALUE(tokens.dim() == 2 && tokens.size(1) >= 1, "smart_order: tokens must be (B, n), got ",
                    tokens.sizes());
  const int64_t batch = tokens.size(0), n = tokens.size(1);
  at::Tensor out = at::zeros({batch, n, n}, at::kDouble);
  const at::Tensor t = tokens.contiguous();
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t* x = t.data_ptr<int64_t>() + b * n;
    double* tree = out.data_ptr<double>() + b * n * n;
    // The partner of every opening bracket.
    std::vector<int64_t> partner(n, -1), open;
    for (int64_t i = 0; i < n; ++i) {
      if (x[i] % 2 == 0) {
        open.push_back(i);
      } else {
        TORCH_CHECK_VALUE(!open.empty() && x[open.back()] + 1 == x[i], "smart_order: sequence ", b,
                          " is not balanced at position ", i);
        partner[open.back()] = i;
        open.pop_back();
      }
    }
    TORCH_CHECK_VALUE(open.empty(), "smart_order: sequence ", b, " leaves a bracket open");
    // The root of segment [begin, end): its first opening bracket; -1 when empty.
    std::function<int64_t(int64_t, int64_t)> build = [&](int64_t begin, int64_t end) -> int64_t {
      if (begin >= end) return -1;
      const int64_t close = partner[begin];
      tree[begin * n + close] = 1;
      const int64_t inside = build(begin + 1, close), rest = build(close + 1, end);
      if (inside >= 0) tree[close * n + inside] = 1;
      if (rest >= 0) tree[close * n + rest] = 1;
      return begin;
    };
    build(0, n);
  }
  return out;
}

at::Tensor preorder_targets(const at::Tensor& tokens, const at::Tensor& trees, int64_t end_token) {
  const int64_t batch = tokens.size(0), n = tokens.size(1);
  TORCH_CHECK_VALUE(trees.dim() == 4 && trees.size(1) == batch && trees.size(2) == n && trees.size(3) == n,
                    "preorder_targets: trees must be (M, B, n, n) for tokens (B, n), got ", trees.sizes());
  const int64_t m = trees.size(0);
  const at::Tensor x = trees.detach().to(at::kDouble).contiguous();
  const at::Tensor t = tokens.contiguous();
  at::Tensor out = at::empty({m * batch, 2 * n + 1}, at::kLong);
  for (int64_t s = 0; s < m * batch; ++s) {
    const Children c = children_of(x.data_ptr<double>() + s * n * n, n);
    const int64_t* token = t.data_ptr<int64_t>() + (s % batch) * n;
    int64_t* target = out.data_ptr<int64_t>() + s * (2 * n + 1);
    std::vector<int64_t> stack{c.root};
    int64_t written = 0;
    while (!stack.empty()) {
      const int64_t v = stack.back();
      stack.pop_back();
      if (v < 0) {
        target[written++] = end_token;
        continue;
      }
      target[written++] = token[v];
      stack.push_back(c.right[v]);
      stack.push_back(c.left[v]);
    }
    TORCH_CHECK_VALUE(written == 2 * n + 1, "preorder_targets: tree ", s, " is not a binary tree over the positions");
  }
  return out;
}

std::vector<std::string> parentheses_methods() { return {"left_to_right", "smart", "ss_relax"}; }

void make_quick(ParenthesesConfig& config) {
  config.quick = true;
  config.types = {10, 20};
  config.train_examples = 500;
  config.validation_examples = 100;
  config.generated = 2000;
  config.steps = 40;
  config.eval_every = 20;
  config.seeds = 1;
}

ParenthesesRunResult train_parentheses(const std::string& method, int64_t types, uint64_t seed,
                                       const ParenthesesData& train_data, const ParenthesesData& validation,
                                       const ParenthesesConfig& config) {
  const auto methods = parentheses_methods();
  TORCH_CHECK_VALUE(std::find(methods.begin(), methods.end(), method) != methods.end(),
                    "parentheses: unknown method '", method, "'");
  TORCH_CHECK_VALUE(config.hidden >= 2 && config.hidden % 2 == 0,
                    "parentheses: hidden must be even (two LSTM directions), got ", config.hidden);
  torch::manual_seed(seed);
  ParenthesesDecoder decoder(types, config.embedding, config.hidden);
  ParenthesesEncoder encoder(types, config.embedding, config.hidden);
  Critic critic(types, config.embedding, config.hidden);
  const bool learned = method == "ss_relax";
  const Family family = binary_tree::family();
  const int64_t end_token = 2 * types;

  std::vector<at::Tensor> parameters = decoder->parameters();
  if (learned)
    for (const auto& module : {encoder->parameters(), critic->parameters()})
      for (const auto& p : module) parameters.push_back(p);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Generator noise = at::make_generator<at::CPUGeneratorImpl>(seed + 1);
  at::Generator evaluation_noise = at::make_generator<at::CPUGeneratorImpl>(seed + 2);
  LengthBatches batches(train_data.lengths, config.batch_size, generator);
  // The fixed share of the training sequences that come with the smart order (ss_relax).
  const int64_t count = train_data.lengths.size(0);
  at::Tensor supervised = at::zeros({count}, at::kBool);
  supervised.index_fill_(0, at::randperm(count, generator).narrow(0, 0, int64_t(std::llround(config.supervised_share * double(count)))),
                         true);

  auto fixed_order = [&](const at::Tensor& tokens) {
    return method == "smart" ? smart_order(tokens) : left_to_right_order(tokens.size(0), tokens.size(1));
  };
  // -log p(x, t) - log q(t | x) for trees (M, B, n, n): (M, B); q's part only for ss_relax, where
  // theta is given (detached in the ELBO's loss, whose gradient in theta RELAX gives).
  auto negative_elbo = [&](const at::Tensor& tokens, const at::Tensor& trees, const at::Tensor& theta) {
    at::Tensor nll = decoder->nll(preorder_targets(tokens, trees, end_token)).view({trees.size(0), -1});
    return theta.defined() ? nll.to(at::kDouble) + binary_tree::log_prob(theta, trees) : nll.to(at::kDouble);
  };

  ParenthesesRunResult result;
  result.method = method;
  result.types = types;
  result.seed = seed;
  std::vector<double> train_losses;  // per token of the 2n + 1, so that batches of any length compare
  auto step_objective = [&](int64_t) {
    const at::Tensor index = batches.next();
    const int64_t n = train_data.lengths[index[0].item<int64_t>()].item<int64_t>();
    const at::Tensor tokens = train_data.tokens.index_select(0, index).narrow(1, 0, n);
    const double size = double(index.numel());
    if (!learned) {
      at::Tensor loss = negative_elbo(tokens, fixed_order(tokens).unsqueeze(0), at::Tensor()).squeeze(0);
      train_losses.push_back(loss.mean().item<double>() / double(2 * n + 1));
      return loss.sum() / size;
    }
    at::Tensor theta = encoder->forward(tokens).to(at::kDouble);
    const at::Tensor labelled = supervised.index_select(0, index);
    at::Tensor total = at::zeros({}, at::kDouble), recorded = at::zeros({}, at::kDouble);
    if (labelled.any().item<bool>()) {
      const at::Tensor rows = labelled.nonzero().flatten();
      const at::Tensor x = tokens.index_select(0, rows);
      at::Tensor loss = negative_elbo(x, smart_order(x).unsqueeze(0), theta.index_select(0, rows)).squeeze(0);
      total = total + loss.sum();
      recorded = recorded + loss.detach().sum();
    }
    if (!labelled.all().item<bool>()) {
      const at::Tensor rows = labelled.logical_not().nonzero().flatten();
      const at::Tensor x = tokens.index_select(0, rows);
      const at::Tensor theta_u = theta.index_select(0, rows);
      const at::Tensor states = critic->context(x);
      auto f = [&](const at::Tensor& trees) { return negative_elbo(x, trees, theta_u.detach()); };
      auto c = [&](const at::Tensor& perturbed) { return critic->forward(states, perturbed); };
      RelaxOptions relax;
      estimators::Estimate e = estimators::relax(family, theta_u, f, c, relax, 1, noise);
      total = total + e.surrogate;
      recorded = recorded + e.loss.sum();
    }
    train_losses.push_back(recorded.item<double>() / size / double(2 * n + 1));
    return total / size;
  };
  // Validation perplexity per token of the 2n + 1, along the fixed order or one sample of q.
  auto validation_perplexity = [&]() {
    torch::NoGradGuard no_grad;
    double loss = 0, tokens_seen = 0;
    for (const at::Tensor& index : length_batches(validation.lengths, 500, c10::nullopt)) {
      const int64_t n = validation.lengths[index[0].item<int64_t>()].item<int64_t>();
      const at::Tensor tokens = validation.tokens.index_select(0, index).narrow(1, 0, n);
      at::Tensor value;
      if (learned) {
        at::Tensor theta = encoder->forward(tokens).to(at::kDouble);
        value = negative_elbo(tokens, family.sample(theta, evaluation_noise).unsqueeze(0), theta);
      } else {
        value = negative_elbo(tokens, fixed_order(tokens).unsqueeze(0), at::Tensor());
      }
      loss += value.sum().item<double>();
      tokens_seen += double(index.numel() * (2 * n + 1));
    }
    return std::exp(loss / tokens_seen);
  };
  double best = INFINITY;
  std::vector<at::Tensor> best_parameters = snapshot(parameters);
  auto validation_loss = [&](const at::Tensor&) {
    const double perplexity = validation_perplexity();
    if (perplexity < best) {
      best = perplexity;
      best_parameters = snapshot(parameters);
      result.best_step = int64_t(train_losses.size());
    }
    return perplexity;
  };
  TrainingConfig training = config;
  training.eval_images = validation.tokens.size(0);
  const std::string label = method + " types=" + std::to_string(types) + " seed " + std::to_string(seed);
  result.training = train_steps(label, validation.tokens, training, parameters, step_objective, validation_loss);
  std::tie(result.first_train_loss, result.last_train_loss) = first_and_last_tenth(train_losses);
  result.validation_perplexity = best;

  // The best step's decoder generates; the metrics over the distinct sequences.
  restore(parameters, best_parameters);
  std::set<std::vector<int64_t>> train_set;
  for (int64_t i = 0; i < count; ++i) train_set.insert(row(train_data, i));
  std::set<std::vector<int64_t>> distinct;
  int64_t too_long = 0;
  const int64_t max_length = train_data.tokens.size(1);
  for (int64_t done = 0; done < config.generated; done += 10000) {
    for (auto& sequence : decoder->generate(std::min<int64_t>(10000, config.generated - done), max_length,
                                            evaluation_noise)) {
      if (sequence == std::vector<int64_t>{-1})
        ++too_long;
      else
        distinct.insert(std::move(sequence));
    }
  }
  double old = 0, new_correct = 0;
  for (const auto& sequence : distinct) {
    if (train_set.count(sequence))
      old += 1;
    else if (is_balanced(sequence, types))
      new_correct += 1;
  }
  // Each sequence that outgrew the longest training one counts as a distinct incorrect one.
  result.distinct = int64_t(distinct.size()) + too_long;
  result.old = 100 * old / double(std::max<int64_t>(result.distinct, 1));
  result.new_correct = 100 * new_correct / double(std::max<int64_t>(result.distinct, 1));
  return result;
}

std::vector<ParenthesesRunResult> run_parentheses(const ParenthesesConfig& config) {
  TORCH_CHECK_VALUE(config.seeds >= 1, "parentheses: seeds must be positive, got ", config.seeds);
  TORCH_CHECK_VALUE(config.generated >= 1, "parentheses: generated must be positive, got ", config.generated);
  TORCH_CHECK_VALUE(config.supervised_share > 0 && config.supervised_share <= 1,
                    "parentheses: supervised_share must be in (0, 1], got ", config.supervised_share);
  const auto methods = parentheses_methods();
  for (const auto& label : config.only)
    TORCH_CHECK_VALUE(std::find(methods.begin(), methods.end(), label) != methods.end(), "parentheses: unknown method '",
                      label, "' in --only");
  for (int64_t t : config.types) TORCH_CHECK_VALUE(t >= 1, "parentheses: types must be positive, got ", t);

  const nlohmann::json notes = {
      {"protocol", config.quick ? "--quick: a smoke run, not comparable with the seed's figure"
                                : "full run of this CPU budget (see data and budget)"},
      {"data", "seeded balanced sequences (structgrad/experiments/parentheses.h): 1 to " +
                   std::to_string(config.max_pairs) + " pairs, uniform Dyck words, types uniform; " +
                   std::to_string(config.train_examples) + " train, " + std::to_string(config.validation_examples) +
                   " validation sequences per number of types"},
      {"budget", std::to_string(config.steps) + " steps of up to " + std::to_string(config.batch_size) +
                     " sequences of one length, Adam " + format_number(config.learning_rate) + ", LSTM hidden " +
                     std::to_string(config.hidden) + ", " + std::to_string(config.generated) +
                     " sequences generated; ss_relax: " + format_number(100 * config.supervised_share) +
                     "% of the sequences with the smart order, RELAX with a learned control variate, one sample"},
      {"units", "percent of the distinct generated sequences: old = in the training set, new_correct = balanced "
                "and not in it"},
      {"selection", "the decoder of the step with the best validation perplexity generates"},
      {"display", {{"old", {"Old (%)", 1}}, {"new_correct", {"New and Correct (%)", 1}}}}};

  std::vector<ParenthesesRunResult> results;
  // Seed 002 prints Fig. 2 as a plot only: no numbers to set beside ours.
  RunLog log("parentheses", config.output_directory,
             "method,types,seed,old,new_correct,distinct,validation_perplexity,best_step,train_seconds,"
             "first_train_loss,last_train_loss",
             "validation_perplexity", nlohmann::json::array(), notes);
  const std::filesystem::path figure_path = std::filesystem::path(config.output_directory) / "figure.csv";
  // The figure's points: old and new_correct (means over seeds) against the number of types.
  auto write_figure = [&] {
    std::ofstream figure(figure_path);
    figure << "label,types,percent\n";
    for (const auto& r : log.summary()["rows"])
      for (const char* metric : {"old", "new_correct"})
        figure << csv_line(std::string(r["method"]) + " " + metric, r["setting"]["types"], double(r["metrics"][metric]))
               << '\n';
  };
  write_figure();
  for (int64_t types : config.types) {
    // One data set per number of types for every run, as the seeds vary the initialization.
    const ParenthesesData train_data = parentheses_data(config.train_examples, types, config.max_pairs, config.seed);
    const ParenthesesData validation =
        parentheses_data(config.validation_examples, types, config.max_pairs, config.seed + 1);
    for (const std::string& method : methods) {
      if (!selected(config.only, method)) continue;
      for (int64_t s = 0; s < config.seeds; ++s) {
        results.push_back(
            train_parentheses(method, types, config.seed + 1000 * uint64_t(s + 1), train_data, validation, config));
        const ParenthesesRunResult& r = results.back();
        log.add(r.method, {{"types", types}}, {{"old", r.old}, {"new_correct", r.new_correct}},
                csv_line(r.method, r.types, r.seed, r.old, r.new_correct, r.distinct, r.validation_perplexity,
                         r.best_step, r.training.train_seconds, r.first_train_loss, r.last_train_loss),
                r.training);
        write_figure();
      }
    }
  }
  PlotAxes axes;
  axes.x = "types";
  axes.y = "percent";
  axes.x_label = "parenthesis types";
  axes.y_label = "percent of the distinct generated sequences";
  plot_curves(figure_path.string(), (std::filesystem::path(config.output_directory) / "generation.png").string(),
              "balanced parentheses", axes);
  std::printf("%s", format_table(log.summary(), {"old", "new_correct"}).c_str());
  return results;
}

}  // namespace structgrad::experiments
