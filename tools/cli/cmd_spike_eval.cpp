// `ranvier spike-eval`: a trained rate model run as a spiking LIF network
// (networks/spiking_mlp.hpp) on its test set, with the rate network's accuracy beside the
// spiking one's. The data come from the model's stored config (or --data), loaded by
// tools/io as `ranvier eval` does; the result file is tools/io/spike_eval_file.hpp.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "networks/mlp/network.hpp"
#include "networks/mlp/train.hpp"
#include "networks/spiking_conversion.hpp"
#include "networks/spiking_mlp.hpp"
#include "tools/cli/commands.hpp"
#include "tools/cli/interrupt.hpp"
#include "tools/cli/progress.hpp"
#include "tools/io/config.hpp"
#include "tools/io/datasets.hpp"
#include "tools/io/errors.hpp"
#include "tools/io/model_file.hpp"
#include "tools/io/output_file.hpp"
#include "tools/io/spike_eval_file.hpp"
#include "tools/io/train_config.hpp"
#include "tools/io/units.hpp"

namespace ranvier::cli {

namespace {

struct SpikeEvalCommand {
  std::string model, data, output;
  std::vector<std::string> overrides;
  std::string duration = "50 ms", dt = "1 ms", tau_s = "5 ms", max_rate = "200 Hz";
  std::string decode_from;  // default: half the duration
  std::string input = "current", decode = "filtered";
  std::optional<int> threads;
  std::optional<std::uint64_t> seed;
  int samples = 0, rasters = 3;
  bool force = false, timings = false;
};

double quantity(const std::string& text, models::Quantity q, const char* option) {
  try {
    return io::parse_quantity(text, q).value;
  } catch (const std::invalid_argument& e) {
    throw io::UserError(fmt::format("{} \"{}\": {}", option, text, e.what()));
  }
}

std::string describe(const mlp::NetworkSpec& s) {
  std::string d = std::to_string(s.inputs);
  for (const auto& l : s.layers)
    d += fmt::format("-{}({})", l.units, mlp::activation_name(l.activation.kind));
  return d;
}

// Wall time of the command's phases, for --timings.
class PhaseClock {
 public:
  void mark(const char* phase) {
    const auto now = Clock::now();
    lines_ += fmt::format("  {:<44} {:7.1f} ms\n", phase, ms(last_, now));
    last_ = now;
  }
  void note(const char* what, double ms) {
    lines_ += fmt::format("    ({} {:.1f} ms)\n", what, ms);
  }
  void print() const {
    fmt::print(stderr,
               "spike-eval timings (wall, since the command started):\n{}  {:<44} {:7.1f} ms\n",
               lines_, "total", ms(start_, Clock::now()));
  }
  using Clock = std::chrono::steady_clock;
  static double ms(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  }

 private:
  Clock::time_point start_ = Clock::now(), last_ = start_;
  std::string lines_;
};

void spike_eval(const SpikeEvalCommand& o, Context& ctx) {
  PhaseClock clock;
  io::ModelFile m = io::read_model_file(o.model, /*with_optimizer=*/false);
  if (const std::string why = networks::spiking_refusal(m.spec); !why.empty())
    throw io::UserError(fmt::format("{} cannot run as spiking neurons: {}", o.model, why));

  networks::SpikingMlpSpec s;
  s.dt = quantity(o.dt, models::Quantity::time, "--dt");
  s.duration = quantity(o.duration, models::Quantity::time, "--duration");
  s.tau_s = quantity(o.tau_s, models::Quantity::time, "--tau-s");
  s.max_rate = quantity(o.max_rate, models::Quantity::rate, "--max-rate");
  s.input = o.input == "poisson" ? networks::SpikeInput::poisson : networks::SpikeInput::current;
  s.decode = o.decode == "count" ? networks::SpikeDecode::count : networks::SpikeDecode::filtered;
  s.decode_from = o.decode_from.empty()
                      ? 0.5 * s.duration
                      : quantity(o.decode_from, models::Quantity::time, "--decode-from");
  s.seed = o.seed.value_or(m.seed);
  if (!(s.dt > 0) || !(s.duration >= s.dt) ||
      std::fabs(s.duration / s.dt - std::round(s.duration / s.dt)) > 1e-9 * (s.duration / s.dt))
    throw io::UserError(
        fmt::format("--duration ({} ms) must be a positive whole number of steps "
                    "of --dt ({} ms)",
                    s.duration, s.dt));

  // The test set: the data section of --data or of the config stored in the model file.
  // Its network section is ignored (the model's is used), and only one training sample
  // is loaded when there is a separate test set (the training set is not evaluated).
  io::TrainConfig cfg;
  if (!o.data.empty()) {
    cfg = io::parse_train_config(io::load_config(o.data, o.overrides));
  } else {
    if (m.config_text.empty())
      throw io::UserError(
          fmt::format("{} stores no config; give the data with --data CONFIG", o.model));
    cfg =
        io::parse_train_config(io::parse_config(m.config_text, o.model + ":/config", o.overrides));
  }
  cfg.network = m.spec;
  cfg.inputs_given = true;
  // Fashion-MNIST-like IDX test files are read as bytes while the first batches run:
  // thread 0 gunzips the images (the first step of their IdxReader::read_data), the
  // batches wait for their own images only, and each converts them to float as it starts
  // (X = byte * scale, as load_idx_dataset and the config's scale give them). Other
  // sources are loaded whole first, as `ranvier eval` loads them.
  io::TrainData data;
  const io::DataConfig& dc = cfg.data;
  std::unique_ptr<io::IdxReader> images;
  // (n, features) row-major, filled by the reader. Not zeroed first: the pages are touched
  // once, by the gunzip in the parallel part (a page fault is dear on this VM-like hardware:
  // zero-filling 7.8 MB took 50 ms of the serial start-up on a loaded machine).
  std::unique_ptr<std::uint8_t[]> pixels;
  if (dc.source == "idx" && !dc.test_images.empty()) {
    // Only the test files: load_train_data would read the whole training set first
    // (60000 images for Fashion-MNIST), which costs more than simulating the test set.
    images = std::make_unique<io::IdxReader>(dc.test_images);
    data.test =
        io::load_idx_labels(*images, dc.test_images, dc.test_labels, dc.classes, dc.limit_test);
    io::check_network_matches(cfg, data.test);
    clock.mark("model file, config, labels, images' header");
    pixels.reset(new std::uint8_t[images->data_bytes()]);
  } else {
    data = io::load_train_data(cfg);
  }
  const bool test_set = images || data.test.size() > 0;
  const mlp::Dataset& d = test_set ? data.test : data.train;
  const char* set_name = test_set ? "test" : "training";
  const int n_all = images ? static_cast<int>(d.labels.size()) : d.size();
  if (!d.classification())
    throw io::UserError(
        fmt::format("spike-eval decodes classes, but the {} set of {} has values, "
                    "not class labels",
                    set_name, o.data.empty() ? o.model : o.data));
  const int n = o.samples > 0 ? std::min(o.samples, n_all) : n_all;
  const int features = d.features();
  const float scale = static_cast<float>(dc.scale);
  // Columns first .. first + count - 1 of the test set's X, into Xb.
  auto inputs = [&](int first, int count, Eigen::MatrixXf& Xb) {
    Xb.resize(features, count);
    if (!images) {
      Xb = d.X.middleCols(first, count);
      return;
    }
    const std::uint8_t* p = pixels.get() + static_cast<std::size_t>(first) * features;
    float* x = Xb.data();
    const std::size_t m = static_cast<std::size_t>(count) * features;
    if (dc.scale != 1.0)
      for (std::size_t k = 0; k < m; ++k) x[k] = static_cast<float>(p[k]) * scale;
    else
      for (std::size_t k = 0; k < m; ++k) x[k] = static_cast<float>(p[k]);
  };

  s = networks::spiking_spec(m.spec, m.params, s);
  const bool stream = images && s.input == networks::SpikeInput::current;
  if (images && !stream) images->read_data(pixels.get());  // Poisson: the maximum first
  if (s.input == networks::SpikeInput::poisson) {
    Eigen::MatrixXf X;
    inputs(0, n, X);
    s.input_max = X.maxCoeff();
    if (X.minCoeff() < 0)
      throw io::UserError(
          "Poisson input needs inputs >= 0 (a rate cannot be negative); use --input current");
    if (!(s.input_max > 0)) s.input_max = 1;
  }
  if (const std::string why = networks::check_spec(s); !why.empty()) throw io::UserError(why);
  const networks::SpikingMlp net(std::move(s));  // no copy of the weights
  const networks::SpikingMlpSpec& spec = net.spec();
  if (!images) clock.mark("model file, config, data set");
  const int threads = std::max(1, o.threads.value_or(cfg.training.threads));

  std::optional<io::OutputFile> file;
  if (!o.output.empty()) file.emplace(o.output, o.force);  // checked before the long part

  std::vector<int> labels(static_cast<std::size_t>(n)), rate_class(static_cast<std::size_t>(n));
  for (int j = 0; j < n; ++j) labels[j] = d.labels[static_cast<std::size_t>(j)];

  if (!ctx.quiet)
    fmt::print(stderr,
               "spike-eval: {} ({}), {} {} samples, {} ms each at dt = {} ms, tau_s = {} ms, "
               "{} input, {} decoding; {} thread{}\n",
               o.model, describe(m.spec), n, set_name, spec.duration, spec.dt, spec.tau_s,
               spec.input == networks::SpikeInput::current
                   ? "constant-current"
                   : fmt::format("Poisson ({} Hz max)", spec.max_rate),
               spec.decode == networks::SpikeDecode::filtered
                   ? fmt::format("filtered-current (from {} ms)", spec.decode_from)
                   : std::string("spike-count"),
               threads, threads == 1 ? "" : "s");

  networks::SpikingResults res;
  res.resize(static_cast<int>(spec.layers.size()), static_cast<int>(spec.layers.back().W.rows()),
             n);
  std::vector<char> record(static_cast<std::size_t>(n), 0);
  std::vector<int> raster_samples;
  for (int j = 0; j < std::min(o.rasters, n); ++j) {
    record[j] = 1;
    raster_samples.push_back(j);
  }
  Progress progress("spike-eval", ctx.quiet);
  const auto start = std::chrono::steady_clock::now();
  // One work item a batch of kBatch samples: its images, its spiking simulation and the
  // rate network (hard LIF rate: evaluation mode) on the same inputs, so both threads are
  // busy from the first batch to the last and the tail is one batch. Both results depend
  // only on the batch's samples, so they are the same for any thread count.
  constexpr int kBatch = networks::SpikingMlp::kBatch;
  const int batches = (n + kBatch - 1) / kBatch;
  const std::size_t need_all = static_cast<std::size_t>(n) * features;
  std::atomic<std::size_t> ready{stream ? 0 : need_all};  // image bytes in place
  std::atomic<bool> stop{false};                          // a failed read or Ctrl-C
  std::atomic<int> done{0};
  std::exception_ptr failure;
  double gunzip_ms = 0;  // thread 0's read of the images
  std::vector<PhaseClock::Clock::time_point> finished(static_cast<std::size_t>(threads));
  clock.mark("spiking network, rate network, output file");
  Eigen::initParallel();
  const int eigen_threads = Eigen::nbThreads();
  Eigen::setNbThreads(1);  // the batches are the parallel unit
#pragma omp parallel num_threads(threads)
  {
    const bool main_thread = omp_get_thread_num() == 0;
    if (stream && main_thread) {
      try {
        const auto gunzip_start = PhaseClock::Clock::now();
        // Pieces of 64 KiB (~80 images): the other threads start after the first.
        images->read_data(
            pixels.get(), [&](std::size_t bytes) { ready.store(bytes, std::memory_order_release); },
            std::size_t{1} << 16);
        gunzip_ms = PhaseClock::ms(gunzip_start, PhaseClock::Clock::now());
      } catch (...) {
#pragma omp critical(spike_eval_failure)
        if (!failure) failure = std::current_exception();
        stop = true;
      }
      ready.store(std::numeric_limits<std::size_t>::max(), std::memory_order_release);
    }
    mlp::Network<float> rate(m.spec, /*training=*/false);
    rate.params() = m.params;
    networks::SpikingMlp::Scratch scratch;
    Eigen::MatrixXf Xb;
#pragma omp for schedule(dynamic, 1) nowait
    for (int bi = 0; bi < batches; ++bi) {
      if (stop.load(std::memory_order_relaxed)) continue;
      const int first = bi * kBatch, count = std::min(kBatch, n - first);
      const std::size_t need = static_cast<std::size_t>(first + count) * features;
      while (ready.load(std::memory_order_acquire) < need) std::this_thread::yield();
      if (stop.load(std::memory_order_relaxed)) continue;
      try {
        inputs(first, count, Xb);
        net.run_batch(Xb, first, count, res, record, scratch);
        const std::vector<int> cls = mlp::predicted_classes(rate.predict(Xb));
        std::copy(cls.begin(), cls.end(), rate_class.begin() + first);
      } catch (...) {  // an exception must not leave the parallel region
#pragma omp critical(spike_eval_failure)
        if (!failure) failure = std::current_exception();
        stop = true;
      }
      const int now = done.fetch_add(count) + count;
      if (interrupted()) stop = true;
      if (main_thread) progress.update(now, n, "samples");
    }
    finished[static_cast<std::size_t>(omp_get_thread_num())] = PhaseClock::Clock::now();
  }
  Eigen::setNbThreads(eigen_threads);
  if (failure) std::rethrow_exception(failure);
  throw_if_interrupted("spike-eval stopped; nothing written");
  progress.finish();
  clock.mark("batches: images, spiking and rate networks");
  if (stream) clock.note("of which thread 0 gunzipped the images for", gunzip_ms);
  if (threads > 1) {
    const auto [a, b] = std::minmax_element(finished.begin(), finished.end());
    clock.note("first thread done before the last by", PhaseClock::ms(*a, *b));
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  int rate_ok = 0, spike_ok = 0, agree = 0;
  for (int j = 0; j < n; ++j) {
    rate_ok += rate_class[j] == labels[j];
    spike_ok += res.predicted[j] == labels[j];
    agree += rate_class[j] == res.predicted[j];
  }
  const double rate_acc = static_cast<double>(rate_ok) / n,
               spike_acc = static_cast<double>(spike_ok) / n;
  const int L = static_cast<int>(spec.layers.size());
  double total = 0;
  std::string per_layer;
  for (int l = 0; l < L; ++l) {
    const double mean = res.layer_spikes.row(l).cast<double>().sum() / n;
    total += mean;
    per_layer += fmt::format("{}{} {:.1f}", l ? ", " : "", io::spiking_layer_name(l, L), mean);
  }
  fmt::print("samples:                 {} ({} set)\n", n, set_name);
  fmt::print("rate network accuracy:   {:.2f}%\n", 100 * rate_acc);
  fmt::print(
      "spiking accuracy:        {:.2f}%  ({:+.2f} points; same class as the rate network "
      "for {:.2f}%)\n",
      100 * spike_acc, 100 * (spike_acc - rate_acc), 100.0 * agree / n);
  fmt::print("spikes per inference:    {:.1f}  ({})\n", total, per_layer);
  fmt::print(
      "simulated per sample:    {} ms ({} steps of {} ms); {:.3f} s wall for {} samples, "
      "rate network included ({:.0f} samples/s)\n",
      spec.duration, net.steps(), spec.dt, wall, n, n / wall);

  if (file) {
    io::SpikeEvalReport r;
    r.model_file = o.model;
    r.config_text = cfg.text;
    r.config_file = o.data.empty() ? o.model + ":/config" : o.data;
    r.spec = &spec;
    r.results = &res;
    r.labels = labels;
    r.rate_class = rate_class;
    r.raster_samples = raster_samples;
    r.rate_accuracy = rate_acc;
    r.spiking_accuracy = spike_acc;
    r.agreement = static_cast<double>(agree) / n;
    io::write_spike_eval_file(file->temp_path(), r);
    file->commit();
    clock.mark("result file (written, synced, renamed)");
    if (!ctx.quiet) fmt::print(stderr, "wrote {}\n", file->path());
  }
  if (o.timings) clock.print();
}

}  // namespace

void add_spike_eval_commands(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<SpikeEvalCommand>();
  CLI::App* c = app.add_subcommand(
      "spike-eval",
      "Run a trained rate model (lif_rate hidden layers) as a spiking LIF network on its test "
      "set: accuracy beside the rate network's, spikes per inference, rasters to HDF5");
  c->footer(
      "Every hidden and output unit is a LIF neuron with its layer's tau_m, tau_ref and\n"
      "threshold; every weight matrix a projection with exponential PSCs (--tau-s); biases\n"
      "are constant currents. A spike of a unit with amplitude a carries the charge\n"
      "1000 a W, so the mean current equals the rate network's W y. Samples run\n"
      "independently, in parallel; the results do not depend on --threads.\n"
      "The test set is the data section of the config stored in the model (or --data).\n"
      "Example:\n"
      "  ranvier spike-eval out/fmnist_lif.h5 --duration \"50 ms\" --dt \"1 ms\" -o "
      "out/spiking.h5\n"
      "  /usr/bin/python3 tools/plot_raster.py out/spiking.h5 -o out/raster.png");
  c->add_option("model", o->model, "Model file written by `ranvier train`")->required();
  c->add_option("-o,--output", o->output,
                "Result file (HDF5): accuracies, per-sample classes and spike counts, rasters "
                "of the first --rasters samples; nothing is written without it");
  c->add_flag("-f,--force", o->force, "Overwrite the result file if it exists");
  c->add_flag("--timings", o->timings,
              "Print the wall time of each phase (loading, the batches, writing) to stderr");
  c->add_option("--data", o->data,
                "Training config whose data section gives the test set (default: the config "
                "stored in the model file)");
  c->add_option("--set", o->overrides, "Override a key of the data config (repeatable)")
      ->take_all()
      ->allow_extra_args(false);
  c->add_option("--duration", o->duration, "Simulated time per sample (default \"50 ms\")");
  c->add_option("--dt", o->dt, "Time step (default \"1 ms\"); LIF and PSCs are integrated exactly");
  c->add_option("--tau-s", o->tau_s, "PSC time constant of every projection (default \"5 ms\")");
  c->add_option("--input", o->input,
                "current: the first layer gets the constant current W x + b (default); "
                "poisson: each input fires a Poisson train at max-rate * x / max(x)")
      ->check(CLI::IsMember({"current", "poisson"}));
  c->add_option("--max-rate", o->max_rate,
                "Poisson input: rate of the largest input (default \"200 Hz\")");
  c->add_option("--decode", o->decode,
                "filtered: argmax of the output layer's PSC-filtered input current averaged from "
                "--decode-from to the end (default); count: most output spikes over the whole "
                "duration (ties broken by the current)")
      ->check(CLI::IsMember({"filtered", "count"}));
  c->add_option("--decode-from", o->decode_from,
                "Start of the filtered decoding window (default: half the duration). The first "
                "~20 ms are the network's transient: each layer adds a step of delay and "
                "tau_s of filtering");
  c->add_option("--samples", o->samples, "Evaluate only the first N samples (default: all)")
      ->check(CLI::PositiveNumber);
  c->add_option("--rasters", o->rasters, "Record the spikes of the first N samples (default 3)")
      ->check(CLI::NonNegativeNumber);
  c->add_option("-j,--threads", o->threads,
                "Threads (default: the config's training.threads); results do not depend on it")
      ->check(CLI::Range(1, 256));
  c->add_option("--seed", o->seed, "Seed of the Poisson inputs (default: the model's seed)");
  c->callback([o, &ctx] { spike_eval(*o, ctx); });
}

}  // namespace ranvier::cli
