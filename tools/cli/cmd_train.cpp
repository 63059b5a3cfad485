// `ranvier train`, `eval`, `predict` and `gradcheck`: the rate MLP from the command line.
// A training config (configs/training.md) in, one HDF5 model file out (io/model_file.hpp).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "networks/mlp/diagnostics.hpp"
#include "networks/mlp/network.hpp"
#include "networks/mlp/train.hpp"
#include "tools/cli/commands.hpp"
#include "tools/cli/interrupt.hpp"
#include "tools/io/config.hpp"
#include "tools/io/datasets.hpp"
#include "tools/io/errors.hpp"
#include "tools/io/model_file.hpp"
#include "tools/io/output_file.hpp"
#include "tools/io/train_config.hpp"

namespace ranvier::cli {

namespace {

namespace fs = std::filesystem;

struct TrainCommand {
  std::string config;
  std::string output;
  std::vector<std::string> overrides;
  std::optional<int> threads, epochs;
  std::optional<std::uint64_t> seed;
  std::string resume, init;
  bool force = false;
  double checkpoint_seconds = 1;  // at most one checkpoint per this many seconds
};

std::string percent(double acc) {
  return std::isnan(acc) ? std::string("-") : fmt::format("{:.2f}%", 100 * acc);
}
std::string number(double x) {
  return std::isnan(x) ? std::string("-") : fmt::format("{:.4f}", x);
}

// Progress of the batches on stderr: rewritten in place on a terminal (4 times a
// second), a plain line every 10 s otherwise; nothing with --quiet.
class BatchReporter {
 public:
  explicit BatchReporter(bool quiet) : quiet_(quiet), tty_(::isatty(STDERR_FILENO) != 0) {}
  void batch(const mlp::BatchProgress& p) {
    if (quiet_) return;
    const auto now = Clock::now();
    if (std::chrono::duration<double>(now - last_).count() < (tty_ ? 0.25 : 10.0)) return;
    last_ = now;
    const std::string line =
        fmt::format("epoch {}/{} batch {}/{}  loss {:.4f}  acc {}  {:.0f} samples/s  ETA {:.0f} s",
                    p.epoch + 1, p.epochs, p.batch, p.batches, p.loss, percent(p.accuracy),
                    p.samples_per_second, p.eta_seconds);
    if (tty_) {
      fmt::print(stderr, "\r{}\033[K", line);
      shown_ = true;
    } else {
      fmt::print(stderr, "{}\n", line);
    }
  }
  // One line per epoch; for runs of more than 100 epochs, every (epochs/100)-th and the
  // last, so a 4000-epoch toy run prints 100 lines, not 4000.
  void epoch(int e, int epochs, const mlp::History& h) {
    if (quiet_) return;
    const int every = (epochs + 99) / 100;
    if (e + 1 != epochs && (e + 1) % every != 0 && e != 0) return;
    if (tty_ && shown_) fmt::print(stderr, "\r\033[K");
    shown_ = false;
    fmt::print(stderr,
               "epoch {:>3}/{}  train loss {} acc {}  val loss {} acc {}  test loss {} acc {}  "
               "lr {:.4g}  {:.2f} s\n",
               e + 1, epochs, number(h.train_loss[e]), percent(h.train_acc[e]),
               number(h.val_loss[e]), percent(h.val_acc[e]), number(h.test_loss[e]),
               percent(h.test_acc[e]), h.lr[e], h.seconds[e]);
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool quiet_, tty_, shown_ = false;
  Clock::time_point last_ = Clock::now();
};

io::TrainConfig load(const std::string& config, const std::vector<std::string>& overrides) {
  return io::parse_train_config(io::load_config(config, overrides));
}

std::string default_output(const io::TrainConfig& cfg) {
  if (!cfg.output.empty()) return cfg.output;
  return (fs::path("out") / fs::path(cfg.file).stem()).string() + ".h5";
}

// The layers of a model file must be those of the config to start from its weights.
void check_same_network(const mlp::NetworkSpec& a, const mlp::NetworkSpec& b,
                        const std::string& file) {
  bool same = a.inputs == b.inputs && a.layers.size() == b.layers.size();
  for (std::size_t i = 0; same && i < a.layers.size(); ++i)
    same = a.layers[i].units == b.layers[i].units &&
           a.layers[i].activation.kind == b.layers[i].activation.kind;
  if (!same) {
    auto describe = [](const mlp::NetworkSpec& s) {
      std::string d = std::to_string(s.inputs);
      for (const auto& l : s.layers)
        d += fmt::format("-{}({})", l.units, mlp::activation_name(l.activation.kind));
      return d;
    };
    throw io::DataError(fmt::format("{} holds a {} network, the config describes {}", file,
                                    describe(b), describe(a)));
  }
}

void train(const TrainCommand& o, Context& ctx) {
  io::TrainConfig cfg = load(o.config, o.overrides);
  if (o.seed) cfg.seed = cfg.training.seed = *o.seed;
  if (o.threads) cfg.training.threads = *o.threads;
  // --epochs says where to stop; the schedule keeps the config's length, so a run cut
  // short and resumed follows the same learning rates as one that was not.
  if (o.epochs) cfg.training.epochs = *o.epochs;
  std::string out =
      o.output.empty() ? (o.resume.empty() ? default_output(cfg) : o.resume) : o.output;
  const bool overwrite_resumed =
      !o.resume.empty() && fs::exists(out) && fs::equivalent(out, o.resume);
  // Checked before the long part (exists without --force, directory not writable); the
  // checkpoints below write the file itself, each through a temporary file and rename.
  bool may_overwrite = o.force || overwrite_resumed;
  { io::OutputFile check(out, may_overwrite); }

  io::TrainData data = io::load_train_data(cfg);
  mlp::Network<float> net(cfg.network);
  net.init(cfg.seed);
  mlp::TrainState state;
  if (!o.resume.empty() && !o.init.empty())
    throw io::UserError(
        "--resume and --init exclude each other: --resume continues a run, "
        "--init starts a new one from a model's weights");
  if (!o.resume.empty() || !o.init.empty()) {
    const std::string from = o.resume.empty() ? o.init : o.resume;
    io::ModelFile m = io::read_model_file(from);
    check_same_network(cfg.network, m.spec, from);
    net.params() = m.params;
    if (!o.resume.empty()) state = std::move(m.state);
  }
  state.optimizer.spec = cfg.optimizer;
  if (!o.resume.empty() && state.history.epochs() >= cfg.training.epochs && !ctx.quiet)
    fmt::print(stderr, "{} has {} epochs already; nothing to train (raise --epochs)\n", o.resume,
               state.history.epochs());

  if (!ctx.quiet)
    fmt::print(stderr, "train: {} samples, validation {}, test {}; {} parameters; {} thread{}\n",
               data.train.size(), data.val.size(), data.test.size(), net.params().size(),
               cfg.training.threads, cfg.training.threads == 1 ? "" : "s");
  // The model file at `out` is the checkpoint: rewritten (temporary file, then rename)
  // after an epoch when checkpoint_seconds have passed since the last write, and at the
  // end. A kill leaves the previous complete file or none, never a partial one.
  using Clock = std::chrono::steady_clock;
  int saved_epochs = -1;  // epochs in the file this run last wrote; -1: none written
  auto last_write = Clock::now();
  auto write_checkpoint = [&] {
    io::ModelFile m;
    m.spec = cfg.network;
    m.params = net.params();
    m.state = state;
    m.input_scale = cfg.data.scale;
    m.config_text = cfg.text;
    m.config_file = cfg.file;
    m.seed = cfg.seed;
    io::OutputFile file(out, may_overwrite);
    io::write_model_file(file.temp_path(), m);
    file.commit();
    may_overwrite = true;  // from now on the file at `out` is this run's own
    saved_epochs = state.history.epochs();
    last_write = Clock::now();
  };

  BatchReporter reporter(ctx.quiet);
  mlp::TrainCallbacks cb;
  cb.on_batch = [&](const mlp::BatchProgress& p) { reporter.batch(p); };
  cb.on_epoch = [&](int e, const mlp::History& h) {
    reporter.epoch(e, cfg.training.epochs, h);
    if (std::chrono::duration<double>(Clock::now() - last_write).count() >= o.checkpoint_seconds)
      write_checkpoint();
  };
  cb.should_stop = [] { return interrupted(); };
  const mlp::TrainResult result =
      mlp::train(net, state, data.train, data.val.size() ? &data.val : nullptr,
                 data.test.size() ? &data.test : nullptr, cfg.training, cb);
  // Whatever the end, net and state now hold the last complete epoch.
  const int epochs = state.history.epochs();
  if (epochs > 0 && saved_epochs != epochs) write_checkpoint();
  const std::string resume_hint =
      fmt::format("ranvier train {} --resume {}{}", o.config, out,
                  o.overrides.empty() ? "" : " (with the same --set options)");

  using End = mlp::TrainResult::End;
  if (result.end == End::stop_requested) {
    const std::string what =
        saved_epochs >= 0 ? fmt::format("saved the {} complete epoch{} in {}; continue with: {}",
                                        epochs, epochs == 1 ? "" : "s", out, resume_hint)
                          : std::string("no epoch was complete, nothing was saved");
    throw Interrupted(fmt::format("training stopped in epoch {} (batch {}); {}", result.epoch + 1,
                                  result.batch + 1, what));
  }
  if (result.end == End::numerical_fault) {
    ctx.exit_code = 1;
    fmt::print(stderr,
               "error: training stopped at epoch {}, batch {}: {}.\n"
               "  Lower the learning rate (it was {:g} in that epoch; optimizer.lr = {:g}, e.g. "
               "--set optimizer.lr={:g}), check the input scaling (data.scale: inputs of order "
               "1), or use a smaller initialization.\n",
               result.epoch + 1, result.batch + 1, result.fault,
               mlp::learning_rate(cfg.optimizer, result.epoch), cfg.optimizer.lr,
               cfg.optimizer.lr / 10);
    if (saved_epochs >= 0)
      fmt::print(stderr, "  The last good state, after epoch {}, is in {}.\n", epochs, out);
    else
      fmt::print(stderr, "  No epoch was complete: nothing was written.\n");
    return;
  }
  if (state.stopped && !ctx.quiet)
    fmt::print(stderr, "early stopping after epoch {}: best validation loss {:.4f} at epoch {}\n",
               state.history.epochs(), state.best_val, state.best_epoch + 1);
  if (!ctx.quiet) fmt::print(stderr, "wrote {}\n", out);
}

struct EvalCommand {
  std::string model, data;
  std::vector<std::string> overrides;
};

void eval(const EvalCommand& o) {
  io::ModelFile m = io::read_model_file(o.model);
  io::TrainConfig cfg = load(o.data, o.overrides);
  // The data must fit the model, whatever network the data's config describes.
  cfg.network = m.spec;
  cfg.inputs_given = true;
  io::TrainData data = io::load_train_data(cfg);
  mlp::Network<float> net(m.spec, /*training=*/false);
  net.params() = m.params;
  const bool has_test = data.test.size() > 0;
  const mlp::Dataset& d = has_test ? data.test : data.train;
  const mlp::Evaluation ev = mlp::evaluate(net, d, 1000, true);
  fmt::print("{} set: {} samples, loss {:.6g}, accuracy {}\n", has_test ? "test" : "training",
             d.size(), ev.loss, percent(ev.accuracy));
  if (ev.confusion.size() > 0) {
    fmt::print("confusion matrix (rows: true class, columns: predicted class)\n     ");
    for (Eigen::Index k = 0; k < ev.confusion.cols(); ++k) fmt::print("{:>6}", k);
    fmt::print("\n");
    for (Eigen::Index r = 0; r < ev.confusion.rows(); ++r) {
      fmt::print("{:>5}", r);
      for (Eigen::Index k = 0; k < ev.confusion.cols(); ++k)
        fmt::print("{:>6}", ev.confusion(r, k));
      fmt::print("\n");
    }
  }
}

struct PredictCommand {
  std::string model, inputs, output;
  bool header = false, force = false, jacobian = false;
};

void predict(const PredictCommand& o, Context& ctx) {
  io::ModelFile m = io::read_model_file(o.model);
  mlp::Matrix<float> X = io::read_csv_matrix(o.inputs, ',', o.header);
  if (X.rows() != m.spec.inputs)
    throw io::DataError(fmt::format("{}: rows have {} values but the model {} takes {} inputs",
                                    o.inputs, X.rows(), o.model, m.spec.inputs));
  X *= static_cast<float>(m.input_scale);
  mlp::Network<float> net(m.spec, /*training=*/false);
  net.params() = m.params;
  const mlp::Matrix<float> Y = net.predict(X);
  std::string text;
  if (o.jacobian) {
    // d output / d input of each row, by backprop in double: row-major (n_out, n_in)
    // flattened, with respect to the inputs as given (before the input scale).
    mlp::Network<double> dnet(m.spec, /*training=*/false, /*input_grad=*/true);
    dnet.copy_params_from(net);
    for (Eigen::Index j = 0; j < X.cols(); ++j) {
      const mlp::Matrix<double> J =
          dnet.jacobian(X.col(j).cast<double>()) * static_cast<double>(m.input_scale);
      for (Eigen::Index r = 0; r < J.rows(); ++r)
        for (Eigen::Index c = 0; c < J.cols(); ++c)
          text += fmt::format("{}{:.7g}", r + c ? "," : "", J(r, c));
      text += "\n";
    }
  } else {
    for (Eigen::Index j = 0; j < Y.cols(); ++j) {
      for (Eigen::Index i = 0; i < Y.rows(); ++i)
        text += fmt::format("{}{:.7g}", i ? "," : "", Y(i, j));
      text += "\n";
    }
  }
  if (o.output.empty()) {
    fmt::print("{}", text);
    return;
  }
  io::OutputFile file(o.output, o.force);
  {
    std::ofstream f(file.temp_path());
    f << text;
    if (!f) throw io::OutputError(fmt::format("cannot write {}", o.output));
  }
  file.commit();
  if (!ctx.quiet) fmt::print(stderr, "wrote {} rows to {}\n", Y.cols(), o.output);
}

struct GradcheckCommand {
  std::string config;
  std::vector<std::string> overrides;
  int samples = 8;
  double step = 1e-6, tolerance = 1e-6;
};

void gradcheck(const GradcheckCommand& o, Context& ctx) {
  io::TrainConfig cfg = load(o.config, o.overrides);
  io::TrainData data = io::load_train_data(cfg);
  mlp::Network<double> net(cfg.network);
  net.init(cfg.seed);
  const int n = std::min(o.samples, data.train.size());
  const mlp::Matrix<double> X = data.train.X.leftCols(n).cast<double>();
  const mlp::Matrix<double> Y = data.train.Y.leftCols(n).cast<double>();
  const auto rows = mlp::gradcheck(net, X, Y, o.step);
  fmt::print("gradient check of {} on {} samples, central differences with h = {:g}\n", o.config, n,
             o.step);
  fmt::print("{:<14} {:>14} {:>14} {:>14}\n", "tensor", "||g||", "max |g1-g2|",
             "||g1-g2||/||g1+g2||");
  double worst = 0;
  for (const auto& r : rows) {
    fmt::print("{:<14} {:>14.6e} {:>14.3e} {:>14.3e}\n", r.tensor, r.norm, r.max_abs_diff,
               r.relative);
    worst = std::max(worst, r.relative);
  }
  const bool ok = worst < o.tolerance;
  fmt::print("worst relative difference {:.3e}: {} (tolerance {:g})\n", worst, ok ? "ok" : "FAILED",
             o.tolerance);
  if (!ok) ctx.exit_code = 1;
}

}  // namespace

void add_train_commands(CLI::App& app, Context& ctx) {
  // train
  auto t = std::make_shared<TrainCommand>();
  CLI::App* tc = app.add_subcommand(
      "train", "Train a multilayer perceptron from a training config (configs/training.md)");
  tc->add_option("config", t->config, "Training config (YAML), e.g. configs/xor.yaml")->required();
  tc->add_option("-o,--output", t->output,
                 "Model file to write (HDF5); default: the config's `output`, else "
                 "out/<config name>.h5, or the --resume file itself");
  tc->add_option("--threads", t->threads,
                 "Threads for training (data-parallel over each batch); replaces "
                 "training.threads. The same seed and thread count give the same model");
  tc->add_option("--set", t->overrides,
                 "Override a config key: --set optimizer.lr=0.05 (repeatable; the value is YAML)")
      ->take_all()
      ->allow_extra_args(false);
  tc->add_option("--epochs", t->epochs,
                 "Stop after this many epochs in total (a resumed run counts its earlier "
                 "epochs); the learning-rate schedule keeps training.epochs as its length")
      ->check(CLI::PositiveNumber);
  tc->add_option("--seed", t->seed, "Replace the config's seed (weights, shuffling, dropout)");
  tc->add_option("--resume", t->resume,
                 "Continue the run saved in this model file: weights, optimizer state and "
                 "curves; gives the same model as a run that was never interrupted");
  tc->add_option("--init", t->init,
                 "Start from the weights of this model file (same layer sizes) with a fresh "
                 "optimizer");
  tc->add_flag("--force", t->force, "Overwrite the output file if it exists");
  tc->add_option("--checkpoint-seconds", t->checkpoint_seconds,
                 "The output file is rewritten (atomically) after an epoch when this many "
                 "seconds have passed since the last write, so a kill loses at most that much; "
                 "0: after every epoch (default 1). Ctrl-C saves the last complete epoch")
      ->check(CLI::NonNegativeNumber);
  tc->callback([t, &ctx] { train(*t, ctx); });

  // eval
  auto e = std::make_shared<EvalCommand>();
  CLI::App* ec = app.add_subcommand(
      "eval", "Loss, accuracy and confusion matrix of a trained model on a config's test set");
  ec->add_option("model", e->model, "Model file written by `ranvier train`")->required();
  ec->add_option("--data", e->data,
                 "Training config whose data section gives the test set (its network section "
                 "is ignored: the model's is used)")
      ->required();
  ec->add_option("--set", e->overrides, "Override a key of the --data config (repeatable)")
      ->take_all()
      ->allow_extra_args(false);
  ec->callback([e] { eval(*e); });

  // predict
  auto p = std::make_shared<PredictCommand>();
  CLI::App* pc = app.add_subcommand(
      "predict", "Outputs of a trained model for each row of a CSV file of inputs");
  pc->add_option("model", p->model, "Model file written by `ranvier train`")->required();
  pc->add_option("inputs", p->inputs,
                 "CSV file, one input per row with as many numbers as the model has inputs "
                 "(unscaled: the model's input scale is applied)")
      ->required();
  pc->add_option("-o,--output", p->output, "Write the outputs (CSV) here instead of stdout");
  pc->add_flag("--header", p->header, "The first row of the inputs holds column names");
  pc->add_flag("--jacobian", p->jacobian,
               "Instead of the outputs, write the Jacobian d output / d input at each input "
               "row: n_out x n_in values per row, output by output (computed by backprop)");
  pc->add_flag("--force", p->force, "Overwrite the output file if it exists");
  pc->callback([p, &ctx] { predict(*p, ctx); });

  // gradcheck
  auto g = std::make_shared<GradcheckCommand>();
  CLI::App* gc = app.add_subcommand(
      "gradcheck",
      "Compare backprop gradients with central finite differences (double precision) for "
      "the network of a training config; exit 1 if any tensor differs by more than the "
      "tolerance");
  gc->add_option("config", g->config, "Training config (YAML)")->required();
  gc->add_option("--set", g->overrides, "Override a config key (repeatable)")
      ->take_all()
      ->allow_extra_args(false);
  gc->add_option("--samples", g->samples, "Training samples in the checked batch (default 8)")
      ->check(CLI::PositiveNumber);
  gc->add_option("--step", g->step, "Finite-difference step h (default 1e-6)")
      ->check(CLI::PositiveNumber);
  gc->add_option("--tolerance", g->tolerance,
                 "Largest accepted ||g1-g2||/||g1+g2|| per tensor (default 1e-6)")
      ->check(CLI::PositiveNumber);
  gc->callback([g, &ctx] { gradcheck(*g, ctx); });
}

}  // namespace ranvier::cli
