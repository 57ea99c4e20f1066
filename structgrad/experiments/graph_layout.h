// `structgrad graph-layout`: neural relational inference of a latent spanning tree from the
// frames of a spring layout, the graph-layout experiment of seed 000 (its NRI table, "Latent
// Spanning Trees") and seed 002 (§5.2, Table 2).
//
// Data (graph_layout_data), as the seeds' generator writes it: a tree over n vertices drawn by
// Kruskal on Gumbel noise over zero logits (not uniform over trees), random 2-D starts N(0, I),
// then T frames, each one iteration of networkx's spring_layout (Fruchterman-Reingold along the
// tree's edges) followed by its rescaling (mean 0, largest coordinate 1 in absolute value).
//
// Model (NRI's MLP encoder and decoder, Kipf et al. 2018, as seed 000's code uses them):
//  * encoder: a node MLP over each vertex's trajectory, node -> edge (sender, receiver), an edge
//    MLP, edge -> node (the mean of incoming edges), a node MLP, node -> edge with a skip from the
//    first edge features, an edge MLP and a linear map to a logit per directed pair. Each MLP is
//    two ELU layers and a batch norm.
//  * latent: the directed logits (B, n, n) give the method's theta: symmetrized edge scores for
//    spanning_tree (seed 000's "Spanning Tree") and for topk with k = n - 1 over the n (n - 1) / 2
//    undirected edges ("E.F. Ent. Top |V| - 1"); one independent bernoulli per directed pair
//    ("Indep. Directed Edges", binary Concrete).
//  * decoder: one message MLP per edge type, (1 - z_ij) for "no edge" and z_ij for "edge", summed
//    at the receiver, then an output MLP predicting each vertex's change of position. Training rolls
//    out prediction_steps frames from every prediction_steps-th frame; evaluation predicts each frame
//    from the true previous one (teacher forcing), with one hard sample of the latent.
//  * ELBO, as the seed code: -(NLL + KL) with NLL = sum over frames, vertices and coordinates of
//    (prediction - frame)^2 / (2 * 5e-5), divided by n, and KL that of the perturbed utilities,
//    Gumbel(u) against Gumbel(0), u + exp(-u) - 1 summed over the directed logits and divided by n.
// Metrics: test ELBO, edge precision and recall of an encoder sample against the true tree over the
// directed pairs, per graph, averaged; for independent edges, as seed 000's code, the better of
// reading the sample's ones or its zeros as the edges (a decoder may give either edge type the
// meaning of "edge"; a tree or a top-(n-1) has n - 1 edges, so its ones are read). Model
// selection: the step with the best validation ELBO (seed 002 Table 2).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "structgrad/estimators/estimators.h"
#include "structgrad/experiments/training.h"

namespace structgrad::experiments {

struct GraphLayoutData {
  at::Tensor positions;  // (N, T, n, 2) float32 frames, each rescaled into [-1, 1]
  at::Tensor edges;      // (N, n, n) float32 symmetric 0/1 adjacency of the true tree
};

// One iteration of networkx's spring_layout on positions xy (n x 2, row-major) with the 0/1
// adjacency (n x n), then its rescaling: Fruchterman-Reingold with k = sqrt(1 / n), distances
// clipped at 0.01, each vertex moved by t = 0.1 * (the layout's larger side) along its displacement.
void spring_layout_iteration(std::vector<double>& xy, const std::vector<uint8_t>& adjacency, int64_t n);

// `count` graphs of `vertices` vertices with `timesteps` frames from the seeded generator.
GraphLayoutData graph_layout_data(int64_t count, int64_t vertices, int64_t timesteps, uint64_t seed);

// One row of the tables: a family (spanning_tree, topk with k = n - 1, bernoulli) with its estimator.
struct GraphLayoutMethod {
  std::string label;      // "spanning_tree_exponential_family", "spanning_tree_t_reinforce_plus", ...
  std::string family;     // "spanning_tree", "topk" or "bernoulli"
  std::string estimator;  // an estimators::estimate name
  estimators::Options options;
};

// Seed 000's three edge distributions (relaxed) and seed 002's score-function estimators for the
// spanning tree: T-REINFORCE+ with num_samples per graph, RELAX (the SST relaxation as control
// variate) with one.
std::vector<GraphLayoutMethod> graph_layout_methods(double tau = 1.0, int64_t num_samples = 2);

struct GraphLayoutConfig : TrainingConfig {
  std::vector<int64_t> timesteps = {10, 20};
  int64_t vertices = 10;
  int64_t seeds = 3;
  int64_t train_examples = 10000, validation_examples = 1000, test_examples = 2000;
  int64_t hidden = 32;  // the seeds' 256: 64 already costs five times 32's time per step on this CPU
  int64_t max_prediction_steps = 10;  // rollout length in training: min(this, T - 1), as the seed's runs
  double variance = 5e-5;          // of the Gaussian likelihood
  double tau = 1.0;
  int64_t num_samples = 2;         // per graph, of T-REINFORCE+
  bool quick = false;
  std::string output_directory = "results/graph_layout";
  std::vector<std::string> only;   // method labels to run; empty: all
};

// --quick: small data, 40 steps, T = 10, one seed.
void make_quick(GraphLayoutConfig& config);

struct GraphLayoutRunResult {
  std::string method;
  int64_t timesteps;
  uint64_t seed;
  double elbo = 0, edge_precision = 0, edge_recall = 0;  // test, at the best validation ELBO
  int64_t best_step = 0;
  TrainingResult training;  // its curve: validation negative ELBO
  double first_train_loss = 0, last_train_loss = 0;  // means over the first and last tenth of the steps
};

GraphLayoutRunResult train_graph_layout(const GraphLayoutMethod& method, int64_t timesteps, uint64_t seed,
                                        const GraphLayoutData& train_data, const GraphLayoutData& validation,
                                        const GraphLayoutData& test, const GraphLayoutConfig& config);

// Every selected method, T and seed; prints the table and writes summary.json (rows with mean and
// std over seeds, the seeds' tables), summary.csv, runs.csv and curves.csv under
// config.output_directory after every run, and the validation curves' plot at the end.
std::vector<GraphLayoutRunResult> run_graph_layout(const GraphLayoutConfig& config);

}  // namespace structgrad::experiments
