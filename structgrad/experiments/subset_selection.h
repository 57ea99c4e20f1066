// `structgrad subset-selection`: learning to explain by selecting k tokens (L2X), the k-subset
// experiment of seed 000 ("k-subset Selection", its L2X table) and seed 002 (§5.1, Table 1).
//
// Data: the seeds' BeerAdvocate reviews are not available here, so a seeded generator writes
// reviews with the same structure (subset_selection_data): each review has a sentence about each
// of three aspects, in random order among filler sentences. An aspect's sentence opens with one
// of the aspect's topic words and carries sentiment words whose levels follow the aspect's rating;
// filler sentences carry sentiment words at random levels. The three ratings are correlated, as a
// beer's are, so words of the wrong aspect predict the target only in part. The target is the
// first aspect's rating in [0, 1]; the annotation is its sentence.
//
// Model (after L2X's): an encoder of learned embeddings and one ("simple") or three ("complex")
// width-3 convolutions gives a logit per token and, for correlated_topk, a logit per adjacent pair
// (a linear map of the two tokens' features); a k-subset z is drawn and relaxed, or estimated by a
// score-function or direct estimator; the decoder averages the decoder embeddings of the selected
// tokens (sum over z_i e_i, divided by k) into a two-layer MLP with a sigmoid output. Loss: the
// squared error of the predicted rating. Evaluation selects the MAP subset (the top k logits, or
// the correlated family's map), as L2X does: test MSE and subset precision (the share of selected
// tokens inside the annotated sentence), at the step with the lowest validation MSE.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "structgrad/estimators/estimators.h"
#include "structgrad/experiments/training.h"

namespace structgrad::experiments {

struct SubsetSelectionData {
  at::Tensor tokens;      // (N, length) int64 token ids
  at::Tensor annotation;  // (N, length) float64: 1 on the target aspect's sentence
  at::Tensor rating;      // (N) float64 target rating in [0, 1]
};

struct SubsetDataConfig {
  int64_t length = 100;
  int64_t filler_words = 200;      // neutral vocabulary
  int64_t topic_words = 8;         // per aspect
  int64_t sentiment_levels = 10;   // levels 0 .. L - 1 map to ratings level / (L - 1)
  int64_t sentiment_synonyms = 3;  // words per level
  double aspect_correlation_noise = 0.3;  // aspect rating = clip(quality + N(0, this^2), 0, 1)
};

// The vocabulary size of the generator's reviews.
int64_t subset_selection_vocabulary(const SubsetDataConfig& config);

// `count` reviews from the seeded generator.
SubsetSelectionData subset_selection_data(int64_t count, uint64_t seed, const SubsetDataConfig& config = {});

// One row of the table: a family with its estimator (or relaxation) and its options.
struct SubsetMethod {
  std::string label;      // "topk_euclidean", "correlated_topk", "topk_t_reinforce_plus", ...
  std::string family;     // "topk" or "correlated_topk"
  std::string estimator;  // an estimators::estimate name
  estimators::Options options;
};

// The methods of the two seed tables: topk with each SST regularizer, correlated_topk, the score-
// function estimators of seed 002 Table 1 (E-REINFORCE+, T-REINFORCE+, RELAX), direct and Gumbel-Rao.
// direct_eps: the loss augmentation of direct, whose argmax is the flip approximation (seed 003
// §4.1) over the selection's items.
std::vector<SubsetMethod> subset_selection_methods(double tau = 0.5, int64_t num_samples = 4, double direct_eps = 10);

struct SubsetSelectionConfig : TrainingConfig {
  std::vector<int64_t> ks = {5, 10, 15};
  std::vector<std::string> encoders = {"simple", "complex"};
  int64_t seeds = 3;
  int64_t train_examples = 20000, validation_examples = 2000, test_examples = 2000;
  int64_t embedding = 32, channels = 64, hidden = 64;
  double tau = 0.5;
  int64_t num_samples = 4;  // samples per review of the score-function estimators
  double direct_eps = 10;
  SubsetDataConfig data;
  bool quick = false;
  std::string output_directory = "results/subset_selection";
  std::vector<std::string> only;  // method labels to run; empty: all
};

// The settings of --quick: small data, few steps, k = 5, the simple encoder, one seed unless asked.
void make_quick(SubsetSelectionConfig& config);

struct SubsetRunResult {
  std::string method, encoder;
  int64_t k;
  uint64_t seed;
  double mse = 0, precision = 0;  // test, at the best validation step
  int64_t best_step = 0;
  TrainingResult training;        // its curve: validation MSE
  double first_train_loss = 0, last_train_loss = 0;  // means over the first and last tenth of the steps
};

SubsetRunResult train_subset_selection(const SubsetMethod& method, const std::string& encoder, int64_t k,
                                       uint64_t seed, const SubsetSelectionData& train_data,
                                       const SubsetSelectionData& validation, const SubsetSelectionData& test,
                                       const SubsetSelectionConfig& config);

// Every selected method, encoder, k and seed; prints the table and writes summary.json (the rows
// with mean and std over seeds, and the seed tables), summary.csv, runs.csv and curves.csv under
// config.output_directory after every run (a run stopped early keeps what it finished), and the
// validation curves' plot at the end.
std::vector<SubsetRunResult> run_subset_selection(const SubsetSelectionConfig& config);

}  // namespace structgrad::experiments
