// The `structgrad` command line: experiments, estimator checks and samplers, one file per
// subcommand (cli/command.h).
//
//   structgrad demo                       train the seed 003 discrete VAE with every estimator
//   structgrad direct-vae --seeds 3        seed 003 Table 1: K = 10..50, Fashion-MNIST and MNIST
//   structgrad bias-variance             seed 003 Fig. 1: bias and std of direct (eps) and Gumbel-softmax (tau)
//   structgrad prior-fit --seeds 3         seed 004 Fig. 2, App. E: IGR-SB, IGR, GS fitted to Poisson, NegBin, ...
//   structgrad structured-output --seeds 3  seed 004 Table 3: MNIST bottom halves from top halves, IGR vs GS
//   structgrad jointvae --seeds 3           seed 004 Table 2: JointVAE with an IGR or GS discrete latent
//   structgrad igr-vae --steps 4000       the seed 004 VAE: IGR-I, IGR-Planar, IGR-SB against GS
//   structgrad structured-vae            the seed 003 structured VAE (Fig. 3): pairwise encoders, max-flow, CBC
//   structgrad semisupervised --dataset mnist --labels 100   seed 003 Table 2: direct against GSM
//   structgrad subset-selection --quick    L2X k-subset selection (seed 000 L2X table, seed 002 Table 1)
//   structgrad graph-layout --quick        a latent spanning tree from spring-layout frames (seed 000 NRI, seed 002 Table 2)
//   structgrad listops --quick             parsing ListOps through a latent arborescence (seed 002 Table 3, seed 000)
//   structgrad parentheses --quick         balanced parentheses generated along latent binary trees (seed 002 §5.4)
//   structgrad check --estimator reinforce --family categorical --n 5
//   structgrad sample --family topk --k 2 --n 5 --batch 3 --seed 0
#include <fmt/format.h>

#include <malloc.h>

#include <cstdio>
#include <stdexcept>
#include <thread>

#include "cli/command.h"
#include "structgrad/core/threads.h"
#include "structgrad/experiments/data_parallel.h"

int main(int argc, char** argv) {
  using namespace structgrad::cli;
  // Keep freed memory for the next step. The first touch of a fresh page costs about 11 µs on the
  // machines this runs on, and glibc returns large freed blocks to the system (the mmap threshold)
  // and trims its heap, so every training step paid again for its big temporaries: the direct-vae
  // step at K = 50 took 125 ms, 100 of them in page faults, and takes 24 ms with the memory kept.
  // Blocks up to 32 MiB (mallopt's most) come from the heap, and the heap is never trimmed.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, -1);
  CLI::App app{"structgrad: gradients through discrete and combinatorial choices"};
  app.require_subcommand(1);
  int threads = int(std::max(1u, std::thread::hardware_concurrency()));
  app.add_option("--threads", threads, "intra-op threads (default: all cores)")->check(CLI::PositiveNumber);
  const std::vector<Command> commands = {demo_command(app),           direct_vae_command(app),
                                         bias_variance_command(app),  prior_fit_command(app),
                                         structured_output_command(app), jointvae_command(app),
                                         igr_vae_command(app),
                                         structured_vae_command(app), semisupervised_command(app),
                                         subset_selection_command(app), graph_layout_command(app),
                                         listops_command(app),            parentheses_command(app),
                                         check_command(app),
                                         sample_command(app)};
  CLI11_PARSE(app, argc, argv);
  structgrad::set_threads(threads);
  try {
    // A data-parallel run's other processes print nothing on stdout: the first prints the tables.
    if (!structgrad::experiments::DataParallel::process().writes_results() && !std::freopen("/dev/null", "w", stdout))
      throw std::runtime_error("cannot silence stdout of a data-parallel process");
    for (const Command& command : commands)
      if (command.app->parsed()) return command.run();
    return 2;
  } catch (const c10::Error& e) {
    fmt::print(stderr, "structgrad: {}\n", e.what_without_backtrace());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "structgrad: {}\n", e.what());
    return 2;
  }
}
