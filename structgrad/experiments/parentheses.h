// `structgrad parentheses`: non-monotonic generation of balanced parentheses along a latent binary
// tree, the experiment of seed 002 (§5.4, Fig. 2), after Welleck et al. 2019.
//
// Data (parentheses_data): balanced sequences of 1 to max_pairs pairs over `types` parenthesis
// types, token 2t opening and 2t + 1 closing type t: the bracket structure uniform over the Dyck
// words of its length (the cycle lemma), each pair's type uniform. A fixed training set per number
// of types, from a seeded generator.
//
// Generation order: a binary tree over the positions whose in-order traversal is the sequence (the
// binary_tree family's structures). The decoder emits the tree's tokens in pre-order, an <end>
// token for every empty subtree (2n + 1 tokens for n), so p(x, t) is the product of the next-token
// probabilities of a single-layer LSTM over that order (teacher forcing). Orders:
//  * left_to_right: the right-only chain 0 -> 1 -> ... -> n - 1.
//  * smart (smart_order): a segment's first opening bracket is its root, that bracket's closing
//    partner its right child, whose left subtree is the segment inside the pair and whose right
//    subtree the rest of the segment; so every pair is opened and closed at once, then filled.
//  * ss_relax: an encoder (a bidirectional LSTM giving a score per position) gives q(t | x) as the
//    binary_tree family's perturb-and-MAP law; a fixed 10% of the training sequences come with
//    the smart order (loss -log p(x, t) - log q(t | x)), the rest train the ELBO
//    E_q[log p(x, t) - log q(t | x)], the encoder's gradient by RELAX with a learned control
//    variate c(e) (a sum over positions of an MLP of the perturbation and the position's state in
//    a critic LSTM), trained to lower the estimator's variance: the loss has no relaxation.
// Evaluation: the model with the best validation perplexity (per token of the 2n + 1, along the
// fixed order, or for ss_relax the ELBO's with one sample of q) generates `generated` sequences
// (pre-order sampling until every subtree is closed, at most 2 max_pairs tokens, longer ones
// counted as incorrect); among the distinct ones, the share already in the training set (`old`)
// and the share balanced and not in it (`new_correct`), in percent.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "structgrad/experiments/training.h"

namespace structgrad::experiments {

struct ParenthesesData {
  at::Tensor tokens;   // (N, 2 max_pairs) int64, padded with -1
  at::Tensor lengths;  // (N) int64, even
};

// `count` balanced sequences of 1 to max_pairs pairs over `types` types.
ParenthesesData parentheses_data(int64_t count, int64_t types, int64_t max_pairs, uint64_t seed);

// Whether tokens (2t open, 2t + 1 close) are balanced: every closing bracket closes the innermost
// open pair, of its type, and none stays open. The empty sequence is not a sequence of the data.
bool is_balanced(const std::vector<int64_t>& tokens, int64_t types);

// The generation orders of a batch of sequences of one length n, as binary_tree structures
// (B, n, n), x[p, c] = 1 when p is c's parent (c < p: a left child).
at::Tensor left_to_right_order(int64_t batch, int64_t n);
at::Tensor smart_order(const at::Tensor& tokens);  // tokens (B, n), balanced

// The decoder's targets along the orders: tokens (B, n) and trees (M, B, n, n) -> (M B, 2n + 1),
// the pre-order traversal with `end_token` for every empty subtree.
at::Tensor preorder_targets(const at::Tensor& tokens, const at::Tensor& trees, int64_t end_token);

struct ParenthesesConfig : TrainingConfig {
  std::vector<int64_t> types = {10, 20, 30, 40, 50};
  int64_t max_pairs = 8;
  int64_t seeds = 3;
  int64_t train_examples = 5000, validation_examples = 500;
  int64_t generated = 200000;     // sequences generated for the metrics (the seed's 200,000)
  double supervised_share = 0.1;  // of ss_relax's training sequences, given the smart order
  int64_t embedding = 32, hidden = 128;
  bool quick = false;
  std::string output_directory = "results/parentheses";
  std::vector<std::string> only;  // method labels to run; empty: all
};

// The methods: "left_to_right", "smart", "ss_relax".
std::vector<std::string> parentheses_methods();

// --quick: small data, few steps, 10 and 20 types, 2,000 generated sequences, one seed.
void make_quick(ParenthesesConfig& config);

struct ParenthesesRunResult {
  std::string method;
  int64_t types;
  uint64_t seed;
  double old = 0, new_correct = 0;  // percent of the distinct generated sequences
  int64_t distinct = 0;
  double validation_perplexity = 0;  // at the best step
  int64_t best_step = 0;
  TrainingResult training;  // its curve: validation perplexity
  double first_train_loss = 0, last_train_loss = 0;  // means over the first and last tenth of the steps
};

ParenthesesRunResult train_parentheses(const std::string& method, int64_t types, uint64_t seed,
                                       const ParenthesesData& train_data, const ParenthesesData& validation,
                                       const ParenthesesConfig& config);

// Every selected method, number of types and seed; writes summary.json, summary.csv, runs.csv and
// curves.csv under config.output_directory after every run, and at the end the plot of old and
// new_correct against the number of types (as the seed's Fig. 2).
std::vector<ParenthesesRunResult> run_parentheses(const ParenthesesConfig& config);

}  // namespace structgrad::experiments
