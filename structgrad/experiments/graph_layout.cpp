#include "structgrad/experiments/graph_layout.h"

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
#include "structgrad/structures/spanning_tree.h"

namespace structgrad::experiments {
namespace {

// The directed pairs (i, j), i != j, in row-major order, and how the methods' latents map onto them.
struct Pairs {
  explicit Pairs(int64_t n) : n(n) {
    std::vector<int64_t> s, r, flat_index, edge_of_pair, upper;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        if (i < j) upper.push_back(i * n + j);
        if (i == j) continue;
        s.push_back(i);
        r.push_back(j);
        flat_index.push_back(i * n + j);
        // {i, j} among the undirected edges a < b in row-major order.
        const int64_t a = std::min(i, j), b = std::max(i, j);
        edge_of_pair.push_back(a * n - a * (a + 1) / 2 + (b - a - 1));
      }
    auto tensor = [](const std::vector<int64_t>& v) { return at::tensor(v, at::kLong); };
    sender = tensor(s);
    receiver = tensor(r);
    flat = tensor(flat_index);
    undirected = tensor(edge_of_pair);
    upper_flat = tensor(upper);
  }
  int64_t count() const { return n * (n - 1); }
  // (*, n, n) -> (*, n (n - 1)).
  at::Tensor directed(const at::Tensor& matrix) const { return matrix.flatten(-2).index_select(-1, flat); }

  int64_t n;
  at::Tensor sender, receiver, flat, undirected, upper_flat;
};

// NRI's MLP: two ELU layers, then a batch norm over every row of the leading dimensions.
struct MlpImpl : torch::nn::Module {
  MlpImpl(int64_t in, int64_t hidden, int64_t out) {
    fc1 = register_module("fc1", torch::nn::Linear(in, hidden));
    fc2 = register_module("fc2", torch::nn::Linear(hidden, out));
    norm = register_module("norm", torch::nn::BatchNorm1d(out));
  }
  at::Tensor forward(const at::Tensor& x) {
    at::Tensor h = torch::elu(fc2(torch::elu(fc1(x))));
    return norm(h.reshape({-1, h.size(-1)})).view(h.sizes());
  }
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::BatchNorm1d norm{nullptr};
};
TORCH_MODULE(Mlp);

// NRI's factor-graph MLP encoder: a logit per directed pair from the vertices' trajectories.
struct LayoutEncoderImpl : torch::nn::Module {
  LayoutEncoderImpl(const Pairs& pairs, int64_t timesteps, int64_t hidden) : pairs(pairs) {
    node1 = register_module("node1", Mlp(2 * timesteps, hidden, hidden));
    edge1 = register_module("edge1", Mlp(2 * hidden, hidden, hidden));
    node2 = register_module("node2", Mlp(hidden, hidden, hidden));
    edge2 = register_module("edge2", Mlp(3 * hidden, hidden, hidden));
    out = register_module("out", torch::nn::Linear(hidden, 1));
  }
  at::Tensor node_to_edge(const at::Tensor& h) const {
    return at::cat({h.index_select(1, pairs.sender), h.index_select(1, pairs.receiver)}, -1);
  }
  // positions (B, T, n, 2) -> logits (B, n (n - 1)).
  at::Tensor forward(const at::Tensor& positions) {
    const int64_t batch = positions.size(0), n = pairs.n;
    at::Tensor h = node1(positions.permute({0, 2, 1, 3}).reshape({batch, n, -1}));
    at::Tensor skip = edge1(node_to_edge(h));
    // The mean over a vertex's incoming edges, as NRI divides by n.
    h = at::zeros({batch, n, skip.size(-1)}, skip.options()).index_add(1, pairs.receiver, skip) / double(n);
    h = node2(h);
    return out(edge2(at::cat({node_to_edge(h), skip}, -1))).squeeze(-1);
  }
  const Pairs& pairs;
  Mlp node1{nullptr}, edge1{nullptr}, node2{nullptr}, edge2{nullptr};
  torch::nn::Linear out{nullptr};
};
TORCH_MODULE(LayoutEncoder);

// NRI's MLP decoder with two edge types: "no edge" weighted 1 - w, "edge" weighted w. The
// message MLPs' first layer acts on (sender, receiver) positions, so it is a sender part plus a
// receiver part, broadcast over the dense n x n pairs (both types in one matrix); messages reach
// their receiver by a weighted sum over senders, a batched matrix product.
struct LayoutDecoderImpl : torch::nn::Module {
  LayoutDecoderImpl(const Pairs& pairs, int64_t hidden) : pairs(pairs), hidden(hidden) {
    sender = register_module("sender", torch::nn::Linear(2, 2 * hidden));
    receiver = register_module("receiver", torch::nn::Linear(torch::nn::LinearOptions(2, 2 * hidden).bias(false)));
    for (int type = 0; type < 2; ++type)
      message2.push_back(register_module("message2_" + std::to_string(type), torch::nn::Linear(hidden, hidden)));
    out1 = register_module("out1", torch::nn::Linear(2 + hidden, hidden));
    out2 = register_module("out2", torch::nn::Linear(hidden, hidden));
    out3 = register_module("out3", torch::nn::Linear(hidden, 2));
  }
  // One frame: x (M, n, 2), per-type weights (M, 2, n, n) over (sender, receiver), zero on the
  // diagonal -> the next positions (M, n, 2).
  at::Tensor step(const at::Tensor& x, const at::Tensor& type_weights) {
    at::Tensor first = torch::relu(sender(x).unsqueeze(2) + receiver(x).unsqueeze(1));  // (M, n, n, 2H)
    at::Tensor incoming;
    for (int64_t type = 0; type < 2; ++type) {
      at::Tensor message = torch::relu(message2[type](first.narrow(-1, type * hidden, hidden)));  // (M, n, n, H)
      // sum_i weight[m, i, j] message[m, i, j, :]
      at::Tensor summed = at::einsum("mijh,mij->mjh", {message, type_weights.select(1, type)});
      incoming = type == 0 ? summed : incoming + summed;
    }
    at::Tensor h = torch::relu(out2(torch::relu(out1(at::cat({x, incoming}, -1)))));
    return x + out3(h);
  }
  // frames (M, T, n, 2), w (M, n (n - 1)): frames 1 .. T - 1 predicted by rolling out `steps`
  // frames from every steps-th true frame (steps = 1: teacher forcing); (M, T - 1, n, 2).
  at::Tensor forward(const at::Tensor& frames, const at::Tensor& w, int64_t steps) {
    const int64_t m = frames.size(0), timesteps = frames.size(1), n = pairs.n;
    // Starts whose rollouts predict some frame: 0, steps, ... below T - 1.
    at::Tensor last = frames.slice(1, 0, timesteps - 1, steps);  // (M, K, n, 2)
    const int64_t starts = last.size(1);
    last = last.reshape({m * starts, n, 2});
    at::Tensor edge = at::zeros({m, n * n}, w.options()).index_copy(1, pairs.flat, w);
    at::Tensor pair = at::zeros({1, n * n}, w.options()).index_fill(1, pairs.flat, 1);
    at::Tensor type_weights = at::stack({pair - edge, edge}, 1).view({m, 2, n, n}).repeat_interleave(starts, 0);
    std::vector<at::Tensor> predictions;
    for (int64_t s = 0; s < steps; ++s) predictions.push_back(last = step(last, type_weights));
    // (M K, steps, n, 2): start k's step s predicts frame k * steps + s + 1.
    return at::stack(predictions, 1).reshape({m, starts * steps, n, 2}).narrow(1, 0, timesteps - 1);
  }
  const Pairs& pairs;
  int64_t hidden;
  torch::nn::Linear sender{nullptr}, receiver{nullptr};
  std::vector<torch::nn::Linear> message2;
  torch::nn::Linear out1{nullptr}, out2{nullptr}, out3{nullptr};
};
TORCH_MODULE(LayoutDecoder);

// How a method's family reads the encoder's directed logits and writes its structures back as a
// weight per directed pair.
struct Latent {
  const Pairs& pairs;
  std::string family;

  // The logits the KL term sees, per directed pair: symmetrized for the undirected families.
  at::Tensor utilities(const at::Tensor& logits) const {
    if (family == "bernoulli") return logits;
    const int64_t n = pairs.n;
    at::Tensor matrix = at::zeros({logits.size(0), n * n}, logits.options()).index_copy(1, pairs.flat, logits);
    matrix = matrix.view({-1, n, n});
    return pairs.directed((matrix + matrix.transpose(1, 2)) / 2);
  }
  // The family's theta from the utilities.
  at::Tensor theta(const at::Tensor& utilities) const {
    if (family == "bernoulli") return utilities;
    const int64_t n = pairs.n;
    at::Tensor matrix = at::zeros({utilities.size(0), n * n}, utilities.options()).index_copy(1, pairs.flat, utilities);
    if (family == "topk") return matrix.index_select(1, pairs.upper_flat);
    return matrix.view({-1, n, n});
  }
  // Structures (..., *event) -> (..., n (n - 1)).
  at::Tensor weights(const at::Tensor& z) const {
    if (family == "bernoulli") return z;
    if (family == "topk") return z.index_select(-1, pairs.undirected);
    return pairs.directed(z);
  }
};

// KL(Gumbel(u) || Gumbel(0)) of the perturbed utilities, summed over the directed pairs, / n.
at::Tensor gumbel_kl(const at::Tensor& utilities, int64_t n) {
  return (utilities + at::exp(-utilities) - 1).sum(-1) / double(n);
}

// sum (prediction - target)^2 / (2 variance) over frames, vertices and coordinates, / n: (M).
at::Tensor gaussian_nll(const at::Tensor& prediction, const at::Tensor& target, double variance) {
  return (prediction - target).pow(2).sum({1, 2, 3}) / (2 * variance) / double(target.size(2));
}

struct LayoutEvaluation {
  double elbo, precision, recall;
};

// One hard sample per graph: the teacher-forced ELBO and the edge metrics, in chunks of graphs.
LayoutEvaluation evaluate_layout(LayoutEncoder& encoder, LayoutDecoder& decoder, const Latent& latent,
                                 const Family& family, const GraphLayoutData& data, double variance,
                                 at::Generator& generator) {
  torch::NoGradGuard no_grad;
  encoder->eval();
  decoder->eval();
  const int64_t count = data.positions.size(0), chunk = 250;
  double elbo = 0;
  // Metrics of the sample's ones and of its zeros read as the edges: [interpretation][sum, graphs].
  double precision[2][2] = {{0, 0}, {0, 0}}, recall[2] = {0, 0};
  for (int64_t begin = 0; begin < count; begin += chunk) {
    const int64_t size = std::min(chunk, count - begin);
    at::Tensor positions = data.positions.narrow(0, begin, size);
    at::Tensor utilities = latent.utilities(encoder->forward(positions).to(at::kDouble));
    at::Tensor w = latent.weights(family.sample(latent.theta(utilities), generator)).to(at::kFloat);
    at::Tensor prediction = decoder->forward(positions, w, 1);
    at::Tensor nll = gaussian_nll(prediction, positions.narrow(1, 1, positions.size(1) - 1), variance);
    elbo -= (nll.to(at::kDouble) + gumbel_kl(utilities, latent.pairs.n)).sum().item<double>();
    at::Tensor truth = latent.pairs.directed(data.edges.narrow(0, begin, size));
    for (int reading = 0; reading < 2; ++reading) {
      at::Tensor edges = reading == 0 ? w : 1 - w;
      at::Tensor tp = (edges * truth).sum(1), chosen = edges.sum(1);
      at::Tensor some = chosen > 0;  // a graph with no chosen edge has no precision
      precision[reading][0] += (tp / chosen.clamp_min(1)).masked_select(some).sum().item<double>();
      precision[reading][1] += double(some.sum().item<int64_t>());
      recall[reading] += (tp / truth.sum(1)).sum().item<double>();
    }
  }
  encoder->train();
  decoder->train();
  auto mean_precision = [&](int reading) { return precision[reading][0] / std::max(1.0, precision[reading][1]); };
  // A tree or a top-(n-1) has exactly n - 1 edges, so its zeros never read as a graph of edges.
  const int reading = latent.family == "bernoulli" && mean_precision(1) > mean_precision(0) ? 1 : 0;
  return {elbo / double(count), 100 * mean_precision(reading), 100 * recall[reading] / double(count)};
}

// The seeds' tables: seed 000's NRI table (T = 10 and 20) and seed 002's Table 2 (T = 10; its
// T = 20 table is in an appendix this project does not have). Precision and recall in percent.
nlohmann::json layout_seed_tables() {
  nlohmann::json table = nlohmann::json::array();
  auto add = [&](const char* source, const char* seed_method, const char* ours, int64_t timesteps,
                 std::array<double, 6> v) {
    table.push_back({{"source", source},
                     {"seed_method", seed_method},
                     {"method", ours},
                     {"setting", {{"T", timesteps}}},
                     {"metrics", {{"elbo", v[0]}, {"edge_precision", v[2]}, {"edge_recall", v[4]}}},
                     {"std", {{"elbo", v[1]}, {"edge_precision", v[3]}, {"edge_recall", v[5]}}}});
  };
  const char* s0 = "seed 000, NRI table (graph layout)";
  add(s0, "Indep. Directed Edges", "bernoulli_binary_entropy", 10, {-1370, 20, 48, 2, 93, 1});
  add(s0, "E.F. Ent. Top |V| - 1", "topk_exponential_family", 10, {-2100, 20, 41, 1, 41, 1});
  add(s0, "Spanning Tree", "spanning_tree_exponential_family", 10, {-1080, 110, 91, 3, 91, 3});
  add(s0, "Indep. Directed Edges", "bernoulli_binary_entropy", 20, {-1340, 160, 97, 3, 99, 1});
  add(s0, "E.F. Ent. Top |V| - 1", "topk_exponential_family", 20, {-1700, 320, 98, 6, 98, 6});
  add(s0, "Spanning Tree", "spanning_tree_exponential_family", 20, {-1280, 10, 99, 1, 99, 1});
  const char* s2 = "seed 002, Table 2 (graph layout)";
  add(s2, "SST (Our Impl.)", "spanning_tree_exponential_family", 10, {-1860.79, 1116.83, 87, 21, 93, 3});
  add(s2, "T-REINFORCE+", "spanning_tree_t_reinforce_plus", 10, {-1582.72, 571.18, 70, 31, 86, 8});
  add(s2, "RELAX", "spanning_tree_relax", 10, {-2079.18, 569.49, 43, 31, 81, 6});
  return table;
}

}  // namespace

void spring_layout_iteration(std::vector<double>& xy, const std::vector<uint8_t>& adjacency, int64_t n) {
  TORCH_CHECK_VALUE(n >= 2 && int64_t(xy.size()) == 2 * n && int64_t(adjacency.size()) == n * n,
                    "spring_layout_iteration: xy must hold n x 2 and adjacency n x n values for n >= 2, got ",
                    xy.size(), " and ", adjacency.size(), " for n = ", n);
  const double k = std::sqrt(1.0 / double(n));
  double low[2] = {INFINITY, INFINITY}, high[2] = {-INFINITY, -INFINITY};
  for (int64_t i = 0; i < n; ++i)
    for (int d = 0; d < 2; ++d) {
      low[d] = std::min(low[d], xy[2 * i + d]);
      high[d] = std::max(high[d], xy[2 * i + d]);
    }
  // networkx's first temperature: a tenth of the layout's larger side.
  const double t = 0.1 * std::max(high[0] - low[0], high[1] - low[1]);
  std::vector<double> moved = xy;
  for (int64_t i = 0; i < n; ++i) {
    double displacement[2] = {0, 0};
    for (int64_t j = 0; j < n; ++j) {
      const double dx = xy[2 * i] - xy[2 * j], dy = xy[2 * i + 1] - xy[2 * j + 1];
      const double distance = std::max(std::hypot(dx, dy), 0.01);
      // Repulsion k^2 / d between all pairs, attraction d^2 / k along the edges.
      const double force = k * k / (distance * distance) - adjacency[i * n + j] * distance / k;
      displacement[0] += dx * force;
      displacement[1] += dy * force;
    }
    double length = std::hypot(displacement[0], displacement[1]);
    if (length < 0.01) length = 0.1;
    moved[2 * i] += displacement[0] * t / length;
    moved[2 * i + 1] += displacement[1] * t / length;
  }
  // rescale_layout: centre, then the largest absolute coordinate to 1.
  double largest = 0;
  for (int d = 0; d < 2; ++d) {
    double mean = 0;
    for (int64_t i = 0; i < n; ++i) mean += moved[2 * i + d] / double(n);
    for (int64_t i = 0; i < n; ++i) largest = std::max(largest, std::abs(moved[2 * i + d] -= mean));
  }
  if (largest > 0)
    for (double& v : moved) v /= largest;
  xy = std::move(moved);
}

GraphLayoutData graph_layout_data(int64_t count, int64_t vertices, int64_t timesteps, uint64_t seed) {
  TORCH_CHECK_VALUE(count >= 1, "graph_layout_data: count must be positive, got ", count);
  TORCH_CHECK_VALUE(vertices >= 2, "graph_layout_data: vertices must be at least 2, got ", vertices);
  TORCH_CHECK_VALUE(timesteps >= 2, "graph_layout_data: timesteps must be at least 2 (a frame to predict), got ",
                    timesteps);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  // Kruskal on zero logits plus Gumbel noise, as the seed's generator.
  at::Tensor trees = spanning_tree::sample(at::zeros({count, vertices, vertices}, at::kDouble), generator);
  GraphLayoutData data{at::empty({count, timesteps, vertices, 2}, at::kFloat), trees.to(at::kFloat).contiguous()};
  std::mt19937_64 random(seed + 1);
  std::normal_distribution<double> normal;
  const at::Tensor adjacency_bytes = trees.to(at::kByte).contiguous();
  float* out = data.positions.data_ptr<float>();
  for (int64_t g = 0; g < count; ++g) {
    const uint8_t* a = adjacency_bytes.data_ptr<uint8_t>() + g * vertices * vertices;
    const std::vector<uint8_t> adjacency(a, a + vertices * vertices);
    std::vector<double> xy(2 * vertices);
    for (double& v : xy) v = normal(random);
    // The first frame is one iteration from the random start (the seed's one skipped step).
    for (int64_t t = 0; t < timesteps; ++t) {
      spring_layout_iteration(xy, adjacency, vertices);
      for (int64_t v = 0; v < 2 * vertices; ++v) *out++ = float(xy[v]);
    }
  }
  return data;
}

std::vector<GraphLayoutMethod> graph_layout_methods(double tau, int64_t num_samples) {
  std::vector<GraphLayoutMethod> methods;
  auto add = [&](std::string label, std::string family, std::string estimator, std::string regularizer) {
    estimators::Options options;
    options.relax.tau = tau;
    options.relax.regularizer = std::move(regularizer);
    options.num_samples = num_samples;
    methods.push_back({std::move(label), std::move(family), std::move(estimator), options});
  };
  add("bernoulli_binary_entropy", "bernoulli", "relaxed", "binary_entropy");
  add("topk_exponential_family", "topk", "relaxed", "exponential_family");
  add("spanning_tree_exponential_family", "spanning_tree", "relaxed", "exponential_family");
  add("spanning_tree_t_reinforce_plus", "spanning_tree", "t_reinforce_plus", "exponential_family");
  // RELAX's control variate, the loss at the spanning tree's SST relaxation, is its baseline: one
  // sample per graph (each costs three passes of the decoder).
  add("spanning_tree_relax", "spanning_tree", "relax", "exponential_family");
  methods.back().options.num_samples = 1;
  return methods;
}

void make_quick(GraphLayoutConfig& config) {
  config.quick = true;
  config.train_examples = 500;
  config.validation_examples = config.test_examples = 100;
  config.steps = 40;
  config.eval_every = 20;
  config.timesteps = {10};
  config.seeds = 1;
}

GraphLayoutRunResult train_graph_layout(const GraphLayoutMethod& method, int64_t timesteps, uint64_t seed,
                                        const GraphLayoutData& train_data, const GraphLayoutData& validation,
                                        const GraphLayoutData& test, const GraphLayoutConfig& config) {
  TORCH_CHECK_VALUE(train_data.positions.size(1) == timesteps && test.positions.size(1) == timesteps &&
                        validation.positions.size(1) == timesteps,
                    "graph-layout: the data's frames must number timesteps = ", timesteps);
  TORCH_CHECK_VALUE(config.variance > 0, "graph-layout: variance must be positive, got ", config.variance);
  TORCH_CHECK_VALUE(config.max_prediction_steps >= 1, "graph-layout: max_prediction_steps must be positive, got ",
                    config.max_prediction_steps);
  torch::manual_seed(seed);
  const int64_t n = train_data.positions.size(2);
  const Pairs pairs(n);
  LayoutEncoder encoder(pairs, timesteps, config.hidden);
  LayoutDecoder decoder(pairs, config.hidden);
  const Latent latent{pairs, method.family};
  const Family family = method.family == "topk" ? structgrad::family("topk", {{"k", n - 1}})
                                                : structgrad::family(method.family);
  const int64_t rollout = std::min(config.max_prediction_steps, timesteps - 1);

  std::vector<at::Tensor> parameters = encoder->parameters();
  for (const auto& p : decoder->parameters()) parameters.push_back(p);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Generator noise = at::make_generator<at::CPUGeneratorImpl>(seed + 1);
  at::Generator evaluation_noise = at::make_generator<at::CPUGeneratorImpl>(seed + 2);
  ShuffledBatches batches(train_data.positions.size(0), config.batch_size, generator);

  GraphLayoutRunResult result;
  result.method = method.label;
  result.timesteps = timesteps;
  result.seed = seed;
  std::vector<double> train_losses;
  auto step_objective = [&](int64_t) {
    at::Tensor index = batches.next();
    at::Tensor positions = train_data.positions.index_select(0, index);
    const int64_t batch = positions.size(0);
    // Utilities in float64: the families' solvers and log-probabilities are exact there.
    at::Tensor utilities = latent.utilities(encoder->forward(positions).to(at::kDouble));
    at::Tensor target = positions.narrow(1, 1, timesteps - 1);
    auto f = [&](const at::Tensor& z) {
      const int64_t samples = z.size(0);
      at::Tensor w = latent.weights(z).to(at::kFloat).reshape({samples * batch, -1});
      at::Tensor frames = positions.unsqueeze(0).expand({samples, -1, -1, -1, -1}).reshape({samples * batch, timesteps, n, 2});
      at::Tensor prediction = decoder->forward(frames, w, rollout);
      return gaussian_nll(prediction, target.repeat({samples, 1, 1, 1}), config.variance)
          .view({samples, batch})
          .to(at::kDouble);
    };
    estimators::Estimate e =
        estimators::estimate(method.estimator, family, latent.theta(utilities), f, method.options, noise);
    at::Tensor kl = gumbel_kl(utilities, n);
    train_losses.push_back((e.loss + kl).mean().item<double>());
    return (e.surrogate + kl.sum()) / double(batch);
  };
  double best_validation = -INFINITY;
  auto validation_loss = [&](const at::Tensor&) {
    const LayoutEvaluation v =
        evaluate_layout(encoder, decoder, latent, family, validation, config.variance, evaluation_noise);
    if (v.elbo > best_validation) {
      best_validation = v.elbo;
      const LayoutEvaluation t =
          evaluate_layout(encoder, decoder, latent, family, test, config.variance, evaluation_noise);
      result.elbo = t.elbo;
      result.edge_precision = t.precision;
      result.edge_recall = t.recall;
      result.best_step = int64_t(train_losses.size());
    }
    return -v.elbo;
  };
  TrainingConfig training = config;
  training.eval_images = validation.positions.size(0);
  const std::string label = method.label + " T=" + std::to_string(timesteps) + " seed " + std::to_string(seed);
  result.training = train_steps(label, validation.positions, training, parameters, step_objective, validation_loss);
  std::tie(result.first_train_loss, result.last_train_loss) = first_and_last_tenth(train_losses);
  return result;
}

std::vector<GraphLayoutRunResult> run_graph_layout(const GraphLayoutConfig& config) {
  TORCH_CHECK_VALUE(config.seeds >= 1, "graph-layout: seeds must be positive, got ", config.seeds);
  TORCH_CHECK_VALUE(config.vertices >= 3, "graph-layout: vertices must be at least 3, got ", config.vertices);
  for (int64_t t : config.timesteps)
    TORCH_CHECK_VALUE(t >= 2, "graph-layout: timesteps must be at least 2, got ", t);
  const auto methods = graph_layout_methods(config.tau, config.num_samples);
  for (const auto& label : config.only)
    TORCH_CHECK_VALUE(
        std::any_of(methods.begin(), methods.end(), [&](const GraphLayoutMethod& m) { return m.label == label; }),
        "graph-layout: unknown method '", label, "' in --only");

  const nlohmann::json notes = {
      {"protocol", config.quick ? "--quick: a smoke run, not comparable with the seeds' tables"
                                : "full run of this CPU budget (see data and budget)"},
      {"data", "the seeds' generator (Kruskal tree on Gumbel noise, networkx spring_layout frames) reimplemented "
               "in structgrad/experiments/graph_layout.cpp: " +
                   std::to_string(config.vertices) + " vertices, " + std::to_string(config.train_examples) +
                   " train, " + std::to_string(config.validation_examples) + " validation, " +
                   std::to_string(config.test_examples) + " test graphs (the seeds: 50000, 10000, 10000)"},
      {"budget", std::to_string(config.steps) + " steps of " + std::to_string(config.batch_size) +
                     " graphs, Adam " + format_number(config.learning_rate) + ", hidden " + std::to_string(config.hidden) +
                     " (the seeds: 256), tau " + format_number(config.tau) + ", " + std::to_string(config.num_samples) +
                     " samples per graph for T-REINFORCE+, one for RELAX"},
      {"units", "elbo: nats per graph as the seed code divides it (sums over frames, vertices and coordinates, / n); "
                "edge precision and recall: percent over directed pairs"},
      {"selection", "test metrics at the step of the best validation ELBO; one hard sample per graph at evaluation"},
      {"display",
       {{"elbo", {"ELBO", 1}}, {"edge_precision", {"edge precision (%)", 1}}, {"edge_recall", {"edge recall (%)", 1}}}}};

  std::vector<GraphLayoutRunResult> results;
  RunLog log("graph-layout", config.output_directory,
             "method,T,seed,elbo,edge_precision,edge_recall,best_step,train_seconds,first_train_loss,last_train_loss",
             "validation_neg_elbo", layout_seed_tables(), notes);
  for (int64_t timesteps : config.timesteps) {
    // One data set per T for every run, as the seeds vary the model's initialization over seeds.
    const GraphLayoutData train_data = graph_layout_data(config.train_examples, config.vertices, timesteps, config.seed);
    const GraphLayoutData validation =
        graph_layout_data(config.validation_examples, config.vertices, timesteps, config.seed + 10);
    const GraphLayoutData test = graph_layout_data(config.test_examples, config.vertices, timesteps, config.seed + 20);
    for (const GraphLayoutMethod& method : methods) {
      if (!selected(config.only, method.label)) continue;
      for (int64_t s = 0; s < config.seeds; ++s) {
        results.push_back(train_graph_layout(method, timesteps, config.seed + 1000 * uint64_t(s + 1), train_data,
                                             validation, test, config));
        const GraphLayoutRunResult& r = results.back();
        log.add(r.method, {{"T", timesteps}},
                {{"elbo", r.elbo}, {"edge_precision", r.edge_precision}, {"edge_recall", r.edge_recall}},
                csv_line(r.method, r.timesteps, r.seed, r.elbo, r.edge_precision, r.edge_recall, r.best_step,
                         r.training.train_seconds, r.first_train_loss, r.last_train_loss),
                r.training);
      }
    }
  }
  log.finish("graph layout", "validation negative ELBO (teacher forcing, one hard sample)",
             {"elbo", "edge_precision", "edge_recall"});
  return results;
}

}  // namespace structgrad::experiments
