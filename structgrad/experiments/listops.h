// `structgrad listops`: unsupervised parsing of simplified ListOps with a latent arborescence, the
// experiment of seed 002 (§5.3, Table 3) and of seed 000's arborescence table ("Unsupervised
// Parsing", its perturbation rows).
//
// Data (listops_data): prefix expressions over MIN, MAX, MED, FIRST, LAST and the digits 0-9 (no
// SUM_MOD), as token sequences "[OP" arg ... "]" with their value in 0-9 and their parse: the
// arborescence over the tokens rooted at the first one, in which every operator is the parent of
// its arguments and of its closing bracket. A seeded generator draws each operator's 2 to
// max_arguments arguments, each an operator with operator_probability (above max_depth never),
// else a digit, and keeps the expressions of at most max_length tokens whose depth (operators
// along the deepest path) lies in [min_depth, max_depth]. MED is the median, rounded down between
// the two middle values (ListOps' int(median)).
//
// Model (seed 002 §5.3):
//  * encoder: token embeddings into the seed's pair of LSTMs, here the two directions of one
//    bidirectional LSTM, whose state s_i of each token is projected as a parent (P s_i) and as a
//    child (C s_i); theta[i, j] = <P s_i, C s_j> / sqrt(hidden) scores the edge i -> j.
//  * latent: an arborescence rooted at the first token, relaxed (SST, exponential-family
//    regularizer, under a Gumbel, Gaussian or negative exponential perturbation: seed 000's rows)
//    or estimated by E-REINFORCE+, T-REINFORCE+ or RELAX (seed 002 Table 3).
//  * classifier: a GNN over the tokens, each token's first state from its own embedding and its
//    two neighbours' (a width-3 convolution: a first argument follows its operator, the last one's
//    closing bracket precedes its parent's), passing `message_passes` rounds of messages along
//    the edges, weighted by z: each token sums transformed states from its children and from its
//    parent, then a shared residual update (a two-layer MLP: an operator's value is a function of
//    the histogram of its children's values, which one layer computes poorly) with layer norm; the
//    first token's state goes through an MLP to 10 logits. Loss: cross-entropy. Beyond its
//    neighbours a token sees the expression only through the edges, so the classifier needs the
//    parse (with a sequence model in the classifier, as a bidirectional LSTM was in a first
//    version, it classifies without it and the encoder's edges stay at chance).
// Batches hold expressions of one length, so neither the LSTMs nor the arborescences need padding.
// Evaluation: one hard sample per expression from the law the method trains (the relaxation's
// perturbation; the trace's law, which is the negative exponential one, for the score-function
// estimators): test accuracy, and the precision and recall of the sampled edges against the parse
// (per expression, averaged). Both structures are arborescences on the same tokens, with n - 1
// edges each, so precision equals recall here. Model selection: the step with the best validation
// accuracy (seed 002 Table 3).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "structgrad/estimators/estimators.h"
#include "structgrad/experiments/training.h"

namespace structgrad::experiments {

// Token ids: the digits are 0-9 themselves, then the operators and the closing bracket.
enum ListOpsToken : int64_t { kListOpsMin = 10, kListOpsMax, kListOpsMed, kListOpsFirst, kListOpsLast, kListOpsClose };
constexpr int64_t kListOpsVocabulary = 16;

struct ListOpsDataConfig {
  int64_t max_length = 50;
  int64_t min_depth = 3, max_depth = 5;  // operators along the deepest path, the root's counted
  int64_t max_arguments = 5;             // per operator, at least 2
  double operator_probability = 0.3;     // that an argument above max_depth is an operator
};

struct ListOpsData {
  at::Tensor tokens;   // (N, max_length) int64, padded with -1
  at::Tensor parents;  // (N, max_length) int64: each token's parent token, -1 at the root and the padding
  at::Tensor lengths;  // (N) int64
  at::Tensor values;   // (N) int64 in [0, 9]
  at::Tensor depths;   // (N) int64
};

// `count` expressions from the seeded generator.
ListOpsData listops_data(int64_t count, uint64_t seed, const ListOpsDataConfig& config = {});

// The value of a prefix expression of tokens, by a stack evaluation independent of the
// generator's; error on a malformed one.
int64_t listops_value(const std::vector<int64_t>& tokens);

// One row of the tables: an estimator of the arborescence latent ("ground_truth": the classifier
// on the true parse, seed 000's upper row).
struct ListOpsMethod {
  std::string label;         // "arborescence_exponential_family", "arborescence_t_reinforce_plus", ...
  std::string estimator;     // an estimators::estimate name, or "ground_truth"
  std::string perturbation;  // the relaxation's and the evaluation samples' (graph::perturb_edges)
  estimators::Options options;
};

// Seed 002 Table 3's SST, E-REINFORCE+, T-REINFORCE+ (num_samples per expression) and RELAX (one),
// seed 000's SST under the Gaussian and negative exponential perturbations, and the ground truth.
std::vector<ListOpsMethod> listops_methods(double tau = 0.5, int64_t num_samples = 4);

struct ListOpsConfig : TrainingConfig {
  int64_t seeds = 3;
  int64_t train_examples = 20000, validation_examples = 2000, test_examples = 2000;
  int64_t embedding = 64, hidden = 64;
  int64_t message_passes = 5;  // max_depth: a leaf's digit reaches the root
  double tau = 0.5;
  int64_t num_samples = 4;
  ListOpsDataConfig data;
  bool quick = false;
  std::string output_directory = "results/listops";
  std::vector<std::string> only;  // method labels to run; empty: all
};

// --quick: small data, few steps, one seed.
void make_quick(ListOpsConfig& config);

struct ListOpsRunResult {
  std::string method;
  uint64_t seed;
  double accuracy = 0, precision = 0, recall = 0;  // test percent, at the best validation accuracy
  int64_t best_step = 0;
  TrainingResult training;  // its curve: validation error (100 - accuracy)
  double first_train_loss = 0, last_train_loss = 0;  // means over the first and last tenth of the steps
};

ListOpsRunResult train_listops(const ListOpsMethod& method, uint64_t seed, const ListOpsData& train_data,
                               const ListOpsData& validation, const ListOpsData& test, const ListOpsConfig& config);

// Every selected method and seed; prints the table and writes summary.json (rows with mean and std
// over seeds, the seeds' tables), summary.csv, runs.csv and curves.csv under
// config.output_directory after every run, and the validation curves' plot at the end.
std::vector<ListOpsRunResult> run_listops(const ListOpsConfig& config);

}  // namespace structgrad::experiments
