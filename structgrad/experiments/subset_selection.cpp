#include "structgrad/experiments/subset_selection.h"

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
#include "structgrad/structures/registry.h"

namespace structgrad::experiments {
namespace {

constexpr int64_t kAspects = 3;

// Token ids: filler words first, then each aspect's topic words, then the sentiment words, level
// by level.
struct Vocabulary {
  const SubsetDataConfig& c;
  int64_t filler(int64_t i) const { return i; }
  int64_t topic(int64_t aspect, int64_t i) const { return c.filler_words + aspect * c.topic_words + i; }
  int64_t sentiment(int64_t level, int64_t synonym) const {
    return c.filler_words + kAspects * c.topic_words + level * c.sentiment_synonyms + synonym;
  }
};

// One review's sentences, each a list of tokens, the target aspect's marked.
struct Sentence {
  std::vector<int64_t> tokens;
  bool annotated = false;
};

class ReviewWriter {
 public:
  ReviewWriter(const SubsetDataConfig& config, uint64_t seed) : c_(config), words_{config}, random_(seed) {}

  void write(int64_t* tokens, double* annotation, double* rating) {
    const double quality = uniform();
    std::vector<Sentence> sentences;
    int64_t used = 0;
    for (int64_t aspect = 0; aspect < kAspects; ++aspect) {
      const double r = std::clamp(quality + c_.aspect_correlation_noise * normal(), 0.0, 1.0);
      if (aspect == 0) *rating = r;
      sentences.push_back(aspect_sentence(aspect, r));
      sentences.back().annotated = aspect == 0;
      used += int64_t(sentences.back().tokens.size());
    }
    // Filler sentences up to the review's length, the last one cut to fit.
    while (used < c_.length) {
      Sentence s = filler_sentence();
      s.tokens.resize(std::min<size_t>(s.tokens.size(), size_t(c_.length - used)));
      used += int64_t(s.tokens.size());
      sentences.push_back(std::move(s));
    }
    std::shuffle(sentences.begin(), sentences.end(), random_);
    int64_t at = 0;
    for (const Sentence& s : sentences)
      for (int64_t token : s.tokens) {
        tokens[at] = token;
        annotation[at] = s.annotated;
        ++at;
      }
  }

 private:
  double uniform() { return std::uniform_real_distribution<double>(0, 1)(random_); }
  double normal() { return std::normal_distribution<double>(0, 1)(random_); }
  int64_t below(int64_t n) { return std::uniform_int_distribution<int64_t>(0, n - 1)(random_); }
  int64_t sentence_length() { return 6 + below(5); }

  int64_t sentiment_word(int64_t level) {
    return words_.sentiment(std::clamp<int64_t>(level, 0, c_.sentiment_levels - 1), below(c_.sentiment_synonyms));
  }

  // A topic word, then tokens that are, each with probability 1/2, a sentiment word at the level
  // of the rating (give or take a level), else filler.
  Sentence aspect_sentence(int64_t aspect, double rating) {
    Sentence s;
    const int64_t length = sentence_length();
    s.tokens.push_back(words_.topic(aspect, below(c_.topic_words)));
    for (int64_t t = 1; t < length; ++t) {
      if (uniform() < 0.5) {
        const double level = rating * double(c_.sentiment_levels - 1) + 0.7 * normal();
        s.tokens.push_back(sentiment_word(std::lround(level)));
      } else {
        s.tokens.push_back(words_.filler(below(c_.filler_words)));
      }
    }
    return s;
  }

  // Filler words with a sentiment word at a random level now and then.
  Sentence filler_sentence() {
    Sentence s;
    const int64_t length = sentence_length();
    for (int64_t t = 0; t < length; ++t)
      s.tokens.push_back(uniform() < 0.15 ? sentiment_word(below(c_.sentiment_levels))
                                          : words_.filler(below(c_.filler_words)));
    return s;
  }

  const SubsetDataConfig& c_;
  Vocabulary words_;
  std::mt19937_64 random_;
};

// The encoder: embeddings, one or three width-3 convolutions with ReLU, a logit per token and,
// for correlated_topk, a logit per adjacent pair from the two tokens' features.
struct SubsetEncoderImpl : torch::nn::Module {
  SubsetEncoderImpl(int64_t vocabulary, int64_t embedding, int64_t channels, int64_t layers) {
    embed = register_module("embed", torch::nn::Embedding(vocabulary, embedding));
    for (int64_t l = 0; l < layers; ++l) {
      auto options = torch::nn::Conv1dOptions(l == 0 ? embedding : channels, channels, 3).padding(1);
      convolutions.push_back(register_module("conv" + std::to_string(l), torch::nn::Conv1d(options)));
    }
    token_logit = register_module("token_logit", torch::nn::Linear(channels, 1));
    pair_logit = register_module("pair_logit", torch::nn::Linear(2 * channels, 1));
  }

  // theta: (B, L) token logits, with pairs: (B, 2L - 1).
  at::Tensor forward(const at::Tensor& tokens, bool pairs) {
    at::Tensor h = embed(tokens).transpose(1, 2);  // (B, E, L)
    for (auto& conv : convolutions) h = torch::relu(conv(h));
    h = h.transpose(1, 2);  // (B, L, C)
    at::Tensor items = token_logit(h).squeeze(-1);
    if (!pairs) return items;
    const int64_t length = h.size(1);
    at::Tensor adjacent = at::cat({h.narrow(1, 0, length - 1), h.narrow(1, 1, length - 1)}, -1);
    return at::cat({items, pair_logit(adjacent).squeeze(-1)}, -1);
  }

  torch::nn::Embedding embed{nullptr};
  std::vector<torch::nn::Conv1d> convolutions;
  torch::nn::Linear token_logit{nullptr}, pair_logit{nullptr};
};
TORCH_MODULE(SubsetEncoder);

// The decoder: the mean of the selected tokens' embeddings, then an MLP to a rating in (0, 1).
struct SubsetDecoderImpl : torch::nn::Module {
  SubsetDecoderImpl(int64_t vocabulary, int64_t embedding, int64_t hidden) {
    embed = register_module("embed", torch::nn::Embedding(vocabulary, embedding));
    fc1 = register_module("fc1", torch::nn::Linear(embedding, hidden));
    fc2 = register_module("fc2", torch::nn::Linear(hidden, 1));
  }

  // selected: (S, B, L) weights of the tokens (B, L): (S, B) ratings.
  at::Tensor forward(const at::Tensor& selected, const at::Tensor& tokens, int64_t k) {
    at::Tensor pooled = at::einsum("sbl,ble->sbe", {selected, embed(tokens)}) / double(k);
    return torch::sigmoid(fc2(torch::relu(fc1(pooled)))).squeeze(-1);
  }

  torch::nn::Embedding embed{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(SubsetDecoder);

SubsetSelectionData rows(const SubsetSelectionData& data, const at::Tensor& index) {
  return {data.tokens.index_select(0, index), data.annotation.index_select(0, index),
          data.rating.index_select(0, index)};
}

struct SubsetEvaluation {
  double mse, precision;
};

// MAP selection: test MSE and the percentage of selected tokens inside the annotation.
SubsetEvaluation evaluate_subset(SubsetEncoder& encoder, SubsetDecoder& decoder, const Family& family, bool pairs,
                                 int64_t k, const SubsetSelectionData& data) {
  torch::NoGradGuard no_grad;
  const int64_t length = data.tokens.size(1);
  at::Tensor theta = encoder->forward(data.tokens, pairs).to(at::kDouble);
  at::Tensor selected = family.map(theta).narrow(-1, 0, length).to(at::kFloat);
  at::Tensor prediction = decoder->forward(selected.unsqueeze(0), data.tokens, k).squeeze(0).to(at::kDouble);
  const double mse = (prediction - data.rating).pow(2).mean().item<double>();
  const double inside = (selected.to(at::kDouble) * data.annotation).sum().item<double>();
  return {mse, 100.0 * inside / double(k * data.tokens.size(0))};
}

// The seeds' tables: seed 000's L2X table (its model column names "Simple" for the four topk
// rows and is blank for the correlated one) and seed 002's Table 1 (Aroma). MSE as the seeds
// print it, in units of 1e-2; precision in percent.
nlohmann::json subset_seed_tables() {
  nlohmann::json table = nlohmann::json::array();
  auto add = [&](const char* source, const char* seed_method, const char* ours, const char* encoder,
                 std::vector<std::array<double, 4>> by_k) {
    const int64_t ks[3] = {5, 10, 15};
    for (int i = 0; i < 3; ++i)
      table.push_back({{"source", source},
                       {"seed_method", seed_method},
                       {"method", ours},
                       {"setting", {{"encoder", encoder}, {"k", ks[i]}}},
                       {"metrics", {{"mse", by_k[i][0] / 100}, {"precision", by_k[i][2]}}},
                       {"std", {{"mse", by_k[i][1] / 100}, {"precision", by_k[i][3]}}}});
  };
  const char* s0 = "seed 000, L2X table (BeerAdvocate Aroma)";
  add(s0, "Euclid. Top k", "topk_euclidean", "simple", {{3.5, 0.1, 25.8, 0.8}, {2.8, 0.1, 32.9, 1.2}, {2.5, 0.1, 29.0, 0.3}});
  add(s0, "Cat. Ent. Top k", "topk_categorical_entropy", "simple",
      {{3.5, 0.1, 26.4, 2.0}, {2.9, 0.1, 32.1, 0.4}, {2.6, 0.1, 28.7, 0.5}});
  add(s0, "Bin. Ent. Top k", "topk_binary_entropy", "simple",
      {{3.5, 0.1, 29.2, 2.0}, {2.7, 0.1, 33.6, 0.6}, {2.5, 0.1, 28.8, 0.4}});
  add(s0, "E.F. Ent. Top k", "topk_exponential_family", "simple",
      {{3.5, 0.1, 28.8, 1.7}, {2.7, 0.1, 32.8, 0.5}, {2.5, 0.1, 29.2, 0.8}});
  add(s0, "Corr. Top k", "correlated_topk", "unstated",
      {{2.9, 0.1, 63.1, 5.3}, {2.5, 0.1, 53.1, 0.9}, {2.4, 0.1, 45.5, 2.7}});
  const char* s2 = "seed 002, Table 1 (BeerAdvocate Aroma)";
  add(s2, "SST (their impl.)", "topk_exponential_family", "simple",
      {{3.6, 0.1, 28, 1.4}, {3.21, 0.12, 29.5, 1.7}, {2.77, 0.09, 28.1, 1.2}});
  add(s2, "E-REINFORCE+", "topk_e_reinforce_plus", "simple",
      {{3.89, 0.2, 25, 1.4}, {3.77, 0.23, 26.7, 3.4}, {3.16, 0.16, 25.3, 1.3}});
  add(s2, "T-REINFORCE+", "topk_t_reinforce_plus", "simple",
      {{3.79, 0.13, 30.5, 2.2}, {3.14, 0.16, 31, 2.9}, {2.69, 0.11, 27.6, 0.9}});
  add(s2, "RELAX", "topk_relax", "simple", {{3.76, 0.11, 24, 1.9}, {3.5, 0.13, 28.9, 1.9}, {2.95, 0.15, 26.1, 1.9}});
  add(s2, "SST (their impl.)", "topk_exponential_family", "complex",
      {{2.93, 0.09, 56, 2.1}, {2.55, 0.08, 49.4, 3.1}, {2.51, 0.05, 40.3, 0.9}});
  add(s2, "E-REINFORCE+", "topk_e_reinforce_plus", "complex",
      {{3.03, 0.2, 49.4, 3.3}, {2.92, 0.12, 45, 2.3}, {2.76, 0.22, 42, 2.2}});
  add(s2, "T-REINFORCE+", "topk_t_reinforce_plus", "complex",
      {{2.75, 0.08, 55.8, 3.4}, {2.48, 0.05, 48.6, 2.4}, {2.4, 0.03, 44.2, 1.3}});
  add(s2, "RELAX", "topk_relax", "complex", {{2.8, 0.08, 54.4, 2.1}, {2.58, 0.09, 47.6, 1.6}, {2.46, 0.08, 42.1, 1.5}});
  return table;
}

}  // namespace

int64_t subset_selection_vocabulary(const SubsetDataConfig& config) {
  return config.filler_words + kAspects * config.topic_words + config.sentiment_levels * config.sentiment_synonyms;
}

SubsetSelectionData subset_selection_data(int64_t count, uint64_t seed, const SubsetDataConfig& config) {
  TORCH_CHECK_VALUE(count >= 1, "subset_selection_data: count must be positive, got ", count);
  TORCH_CHECK_VALUE(config.length >= 40, "subset_selection_data: length must be at least 40 (three aspect sentences "
                    "of up to 10 tokens and filler), got ", config.length);
  TORCH_CHECK_VALUE(config.filler_words >= 1 && config.topic_words >= 1 && config.sentiment_levels >= 2 &&
                        config.sentiment_synonyms >= 1,
                    "subset_selection_data: the vocabulary needs filler and topic words, two sentiment levels and a "
                    "synonym per level");
  SubsetSelectionData data{at::empty({count, config.length}, at::kLong),
                           at::empty({count, config.length}, at::kDouble), at::empty({count}, at::kDouble)};
  ReviewWriter writer(config, seed);
  for (int64_t i = 0; i < count; ++i)
    writer.write(data.tokens[i].data_ptr<int64_t>(), data.annotation[i].data_ptr<double>(),
                 data.rating.data_ptr<double>() + i);
  return data;
}

std::vector<SubsetMethod> subset_selection_methods(double tau, int64_t num_samples, double direct_eps) {
  std::vector<SubsetMethod> methods;
  auto add = [&](std::string label, std::string family, std::string estimator, std::string regularizer = "") {
    estimators::Options options;
    options.relax.tau = tau;
    options.relax.regularizer = std::move(regularizer);
    options.num_samples = num_samples;
    options.direct.argmax = "flip";
    options.direct.eps = direct_eps;
    methods.push_back({std::move(label), std::move(family), std::move(estimator), options});
  };
  for (const char* regularizer : {"euclidean", "categorical_entropy", "binary_entropy", "exponential_family"})
    add(std::string("topk_") + regularizer, "topk", "relaxed", regularizer);
  add("correlated_topk", "correlated_topk", "relaxed");
  add("topk_e_reinforce_plus", "topk", "e_reinforce_plus");
  add("topk_t_reinforce_plus", "topk", "t_reinforce_plus");
  add("topk_relax", "topk", "relax");
  add("topk_direct", "topk", "direct");
  add("topk_gumbel_rao", "topk", "gumbel_rao");
  return methods;
}

void make_quick(SubsetSelectionConfig& config) {
  config.quick = true;
  config.train_examples = 1000;
  config.validation_examples = config.test_examples = 300;
  config.steps = 150;
  config.eval_every = 50;
  config.ks = {5};
  config.encoders = {"simple"};
  config.seeds = 1;
}

SubsetRunResult train_subset_selection(const SubsetMethod& method, const std::string& encoder_kind, int64_t k,
                                       uint64_t seed, const SubsetSelectionData& train_data,
                                       const SubsetSelectionData& validation, const SubsetSelectionData& test,
                                       const SubsetSelectionConfig& config) {
  TORCH_CHECK_VALUE(encoder_kind == "simple" || encoder_kind == "complex",
                    "subset-selection: encoder must be \"simple\" or \"complex\", got \"", encoder_kind, "\"");
  TORCH_CHECK_VALUE(k >= 1 && k <= train_data.tokens.size(1), "subset-selection: k must be in [1, ",
                    train_data.tokens.size(1), "], got ", k);
  torch::manual_seed(seed);
  const int64_t vocabulary = subset_selection_vocabulary(config.data);
  SubsetEncoder encoder(vocabulary, config.embedding, config.channels, encoder_kind == "simple" ? 1 : 3);
  SubsetDecoder decoder(vocabulary, config.embedding, config.hidden);
  const Family family = structgrad::family(method.family, {{"k", k}});
  const bool pairs = method.family == "correlated_topk";
  const int64_t length = train_data.tokens.size(1);

  std::vector<at::Tensor> parameters = encoder->parameters();
  for (const auto& p : decoder->parameters()) parameters.push_back(p);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Generator noise = at::make_generator<at::CPUGeneratorImpl>(seed + 1);
  ShuffledBatches batches(train_data.tokens.size(0), config.batch_size, generator);

  SubsetRunResult result;
  result.method = method.label;
  result.encoder = encoder_kind;
  result.k = k;
  result.seed = seed;
  std::vector<double> train_losses;
  auto step_objective = [&](int64_t) {
    const SubsetSelectionData batch = rows(train_data, batches.next());
    at::Tensor target = batch.rating.to(at::kFloat);
    // theta in float64: the families' solvers and the estimators' log-probabilities are exact there.
    at::Tensor theta = encoder->forward(batch.tokens, pairs).to(at::kDouble);
    auto f = [&](const at::Tensor& z) {
      at::Tensor prediction = decoder->forward(z.narrow(-1, 0, length).to(at::kFloat), batch.tokens, k);
      return (prediction - target).pow(2).to(at::kDouble);
    };
    estimators::Estimate e = estimators::estimate(method.estimator, family, theta, f, method.options, noise);
    train_losses.push_back(e.loss.mean().item<double>());
    return e.surrogate / double(batch.tokens.size(0));
  };
  double best_validation = INFINITY;
  auto validation_mse = [&](const at::Tensor&) {
    const SubsetEvaluation v = evaluate_subset(encoder, decoder, family, pairs, k, validation);
    if (v.mse < best_validation) {
      best_validation = v.mse;
      const SubsetEvaluation t = evaluate_subset(encoder, decoder, family, pairs, k, test);
      result.mse = t.mse;
      result.precision = t.precision;
      result.best_step = int64_t(train_losses.size());
    }
    return v.mse;
  };
  TrainingConfig training = config;
  training.eval_images = validation.tokens.size(0);
  const std::string label = method.label + " " + encoder_kind + " k=" + std::to_string(k) + " seed " +
                            std::to_string(seed);
  result.training = train_steps(label, validation.tokens, training, parameters, step_objective, validation_mse);
  std::tie(result.first_train_loss, result.last_train_loss) = first_and_last_tenth(train_losses);
  return result;
}

std::vector<SubsetRunResult> run_subset_selection(const SubsetSelectionConfig& config) {
  TORCH_CHECK_VALUE(config.seeds >= 1, "subset-selection: seeds must be positive, got ", config.seeds);
  const auto methods = subset_selection_methods(config.tau, config.num_samples, config.direct_eps);
  for (const auto& label : config.only)
    TORCH_CHECK_VALUE(std::any_of(methods.begin(), methods.end(), [&](const SubsetMethod& m) { return m.label == label; }),
                      "subset-selection: unknown method '", label, "' in --only");
  // One data set for every run, as the seeds' tables vary the model's initialization over seeds.
  const SubsetSelectionData train_data = subset_selection_data(config.train_examples, config.seed, config.data);
  const SubsetSelectionData validation = subset_selection_data(config.validation_examples, config.seed + 1, config.data);
  const SubsetSelectionData test = subset_selection_data(config.test_examples, config.seed + 2, config.data);

  const nlohmann::json notes = {
      {"protocol", config.quick ? "--quick: a smoke run, not comparable with the seeds' tables"
                                : "full run of this CPU budget (see data and budget)"},
      {"data", "seeded synthetic reviews (structgrad/experiments/subset_selection.h), not BeerAdvocate: " +
                   std::to_string(config.train_examples) + " train, " + std::to_string(config.validation_examples) +
                   " validation, " + std::to_string(config.test_examples) + " test reviews of " +
                   std::to_string(config.data.length) + " tokens, vocabulary " +
                   std::to_string(subset_selection_vocabulary(config.data))},
      {"budget", std::to_string(config.steps) + " steps of " + std::to_string(config.batch_size) + " reviews, Adam " +
                     format_number(config.learning_rate) + ", tau " + format_number(config.tau) + ", " +
                     std::to_string(config.num_samples) + " samples for the score-function estimators, direct eps " +
                     format_number(config.direct_eps)},
      {"units", "mse: squared error of ratings in [0, 1] (the seeds print it x 100); precision: percent"},
      {"selection", "test metrics at the step of the lowest validation MSE; MAP subsets at evaluation"},
      {"display", {{"mse", {"MSE (x 1e-2)", 100}}, {"precision", {"precision (%)", 1}}}}};

  std::vector<SubsetRunResult> results;
  RunLog log("subset-selection", config.output_directory,
             "method,encoder,k,seed,mse,precision,best_step,train_seconds,first_train_loss,last_train_loss",
             "validation_mse", subset_seed_tables(), notes);
  for (const std::string& encoder : config.encoders)
    for (int64_t k : config.ks)
      for (const SubsetMethod& method : methods) {
        if (!selected(config.only, method.label)) continue;
        for (int64_t s = 0; s < config.seeds; ++s) {
          results.push_back(train_subset_selection(method, encoder, k, config.seed + 1000 * uint64_t(s + 1),
                                                   train_data, validation, test, config));
          const SubsetRunResult& r = results.back();
          log.add(r.method, {{"encoder", encoder}, {"k", k}}, {{"mse", r.mse}, {"precision", r.precision}},
                  csv_line(r.method, r.encoder, r.k, r.seed, r.mse, r.precision, r.best_step, r.training.train_seconds,
                           r.first_train_loss, r.last_train_loss),
                  r.training);
        }
      }
  log.finish("subset selection", "validation MSE (MAP subsets)", {"mse", "precision"});
  return results;
}

}  // namespace structgrad::experiments
