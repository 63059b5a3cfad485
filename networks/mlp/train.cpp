#include "networks/mlp/train.hpp"

#include "networks/mlp/parallel.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>
#include <random>

#include <omp.h>

namespace ranvier::mlp {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Adds the number of correct predictions in `out` (n_out, n) for labels[first, first+n).
int count_correct(const Eigen::Ref<const Matrix<float>>& out, const std::vector<int>& labels,
                  const int* index) {
  int correct = 0;
  for (Eigen::Index j = 0; j < out.cols(); ++j) {
    int k = 0;
    if (out.rows() == 1) {
      k = out(0, j) > 0.5f ? 1 : 0;
    } else {
      Eigen::Index m = 0;
      out.col(j).maxCoeff(&m);
      k = static_cast<int>(m);
    }
    correct += (k == labels[index[j]]);
  }
  return correct;
}

// The sum of x[i] (or of x[i]^2) over [begin, end) in double, in 8 lanes added in a
// fixed order: the compiler vectorises it (a single running sum it may not reorder), and
// the result depends only on the range, never on timing.
double lane_sum(const float* x, std::size_t begin, std::size_t end, bool squares) {
  constexpr std::size_t kLanes = 8;
  double lane[kLanes] = {};
  std::size_t i = begin;
  if (squares) {
    for (; i + kLanes <= end; i += kLanes)
      for (std::size_t k = 0; k < kLanes; ++k)
        lane[k] += static_cast<double>(x[i + k]) * static_cast<double>(x[i + k]);
    for (; i < end; ++i) lane[0] += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  } else {
    for (; i + kLanes <= end; i += kLanes)
      for (std::size_t k = 0; k < kLanes; ++k) lane[k] += static_cast<double>(x[i + k]);
    for (; i < end; ++i) lane[0] += static_cast<double>(x[i]);
  }
  double sum = 0;
  for (double v : lane) sum += v;
  return sum;
}

// Copies image `src` (h*w, row-major) shifted by (dy, dx) into dst, zero filled.
void shift_image(const float* src, float* dst, int h, int w, int dy, int dx) {
  for (int r = 0; r < h; ++r) {
    const int sr = r - dy;
    for (int c = 0; c < w; ++c) {
      const int sc = c - dx;
      dst[r * w + c] = (sr >= 0 && sr < h && sc >= 0 && sc < w) ? src[sr * w + sc] : 0.0f;
    }
  }
}
}  // namespace

void set_threads(int threads) {
  threads = std::max(1, threads);
  Eigen::initParallel();  // Eigen's static cache sizes, before products run on several threads
  Eigen::setNbThreads(threads);
  omp_set_num_threads(threads);
}

std::vector<int> predicted_classes(const Eigen::Ref<const Matrix<float>>& out) {
  std::vector<int> k(out.cols());
  for (Eigen::Index j = 0; j < out.cols(); ++j) {
    if (out.rows() == 1) {
      k[j] = out(0, j) > 0.5f ? 1 : 0;
    } else {
      Eigen::Index m = 0;
      out.col(j).maxCoeff(&m);
      k[j] = static_cast<int>(m);
    }
  }
  return k;
}

Evaluation evaluate(Network<float>& net, const Dataset& d, int batch, bool confusion) {
  Evaluation ev;
  if (d.size() == 0) {
    ev.loss = kNaN;
    return ev;
  }
  Graph<float>& g = net.graph();
  const bool was = g.training;
  g.training = false;
  const int n_classes = std::max(d.n_classes, 2);
  if (confusion && d.classification()) ev.confusion = Eigen::MatrixXi::Zero(n_classes, n_classes);
  double loss = 0;
  long correct = 0;
  Matrix<float> out;
  const Activation last = net.spec().layers.back().activation;
  for (int first = 0; first < d.size(); first += batch) {
    const int n = std::min(batch, d.size() - first);
    const Matrix<float> X = d.X.middleCols(first, n);
    const Matrix<float> Y = d.Y.middleCols(first, n);
    loss += static_cast<double>(net.loss(X, Y)) * n;
    if (d.classification()) {
      auto pre = g.value(net.pre_output_node());
      out.resize(pre.rows(), pre.cols());
      activation_forward<float>(last, pre, out);
      const std::vector<int> k = predicted_classes(out);
      for (int j = 0; j < n; ++j) {
        correct += (k[j] == d.labels[first + j]);
        if (ev.confusion.size() > 0) ev.confusion(d.labels[first + j], k[j]) += 1;
      }
    }
  }
  g.training = was;
  ev.loss = loss / d.size();
  if (d.classification()) ev.accuracy = static_cast<double>(correct) / d.size();
  return ev;
}

TrainResult train(Network<float>& net, TrainState& st, const Dataset& tr, const Dataset* val,
                  const Dataset* test, const TrainOptions& opt, const TrainCallbacks& cb) {
  using clock = std::chrono::steady_clock;
  // The products run single-threaded inside each member of the team below.
  set_threads(1);
  const int n = tr.size();
  const int n_in = tr.features(), n_out = tr.outputs();
  const int batch = std::max(1, std::min(opt.batch, n));
  const int batches = (n + batch - 1) / batch;
  const int n_layers = static_cast<int>(net.spec().layers.size());
  const bool early = opt.patience > 0 && val && val->size() > 0;
  const Activation last = net.spec().layers.back().activation;

  // Data parallelism: with P threads each batch is split into P column blocks, each
  // block goes through its own replica (own graph and gradient buffer, shared weights),
  // and the gradients are combined in a fixed order, so a given seed and thread count
  // always give the same weights, whichever thread ran which block. One synchronisation
  // per batch, instead of one per matrix product if the products themselves were split.
  const int P = std::max(1, std::min(opt.threads, batch));
  std::vector<std::unique_ptr<Network<float>>> replicas;
  for (int r = 1; r < P; ++r)
    replicas.push_back(std::make_unique<Network<float>>(net, Network<float>::ReplicaTag{}));
  auto replica = [&](int r) -> Network<float>& { return r == 0 ? net : *replicas[r - 1]; };
  std::vector<std::mt19937_64> drop_rngs(P);
  std::vector<double> part_loss(P);
  std::vector<long> part_correct(P);
  std::vector<Matrix<float>> outs(P);
  std::vector<float> weight(P);
  std::vector<const float*> part_grads(P);

  // Buffers reused by every batch: no allocation in the loop after the first batch.
  Matrix<float> Xb(n_in, batch), Yb(n_out, batch);
  std::vector<int> perm(n);
  Team team(P);
  int first = 0, m = 0, parts = 1;  // the current batch and how it is split
  std::function<void(int)> run_part = [&](int r) {
    const int c0 = static_cast<int>(static_cast<long>(m) * r / parts);
    const int c1 = static_cast<int>(static_cast<long>(m) * (r + 1) / parts);
    Network<float>& rep = replica(r);
    const float l = rep.loss_and_grad(Xb.data() + static_cast<Eigen::Index>(c0) * n_in,
                                      Yb.data() + static_cast<Eigen::Index>(c0) * n_out, c1 - c0);
    part_loss[r] = static_cast<double>(l) * (c1 - c0);
    part_correct[r] = 0;
    if (tr.classification()) {
      auto pre = rep.graph().value(rep.pre_output_node());
      outs[r].resize(pre.rows(), pre.cols());
      activation_forward<float>(last, pre, outs[r]);
      part_correct[r] = count_correct(outs[r], tr.labels, perm.data() + first + c0);
    }
  };

  // One thread's range of the parameters: combine the parts' gradients, add up the
  // squares of the weight gradients per layer, update, add up the new parameters per
  // layer. The sums are the fault check: in double, a sum of floats is finite exactly
  // when every term is (2^128 * 2^40 values stays far below double's range).
  std::vector<std::vector<double>> part_sq(P, std::vector<double>(n_layers, 0.0));
  std::vector<std::vector<double>> part_wsum(P, std::vector<double>(n_layers, 0.0));
  double batch_lr = 0;
  const std::function<void(int)> update_part = [&](int r) {
    std::fill(part_sq[r].begin(), part_sq[r].end(), 0.0);
    std::fill(part_wsum[r].begin(), part_wsum[r].end(), 0.0);
    const std::size_t total = net.params().size();
    const std::size_t b0 = total * r / P, b1 = total * (r + 1) / P;
    float* w = net.params().data();
    float* g0 = net.grads().data();
    constexpr std::size_t kBlock = 2048;  // stays in L1 between the three steps
    for (const TensorInfo& t : net.tensors()) {
      const std::size_t lo = std::max(b0, t.offset), hi = std::min(b1, t.offset + t.size());
      for (std::size_t s0 = lo; s0 < hi; s0 += kBlock) {
        const std::size_t s1 = std::min(hi, s0 + kBlock);
        if (parts == 2) {
          // The loop below for two parts, with the same two roundings, so that it
          // vectorises (the general loop's inner loop over parts keeps it scalar).
          const float w0 = weight[0], w1 = weight[1];
          const float* g1 = part_grads[1];
          for (std::size_t i = s0; i < s1; ++i) {
            float acc = w0 * g0[i];
            acc += w1 * g1[i];
            g0[i] = acc;
          }
        } else if (parts > 2)
          for (std::size_t i = s0; i < s1; ++i) {
            float acc = weight[0] * g0[i];
            for (int q = 1; q < parts; ++q) acc += weight[q] * part_grads[q][i];
            g0[i] = acc;
          }
        if (t.is_weight) part_sq[r][t.layer] += lane_sum(g0, s0, s1, true);
        st.optimizer.update(w, g0, s0, s1, t.is_weight, batch_lr);
        part_wsum[r][t.layer] += lane_sum(w, s0, s1, false);
      }
    }
  };

  // The state after the last complete epoch, put back when an epoch is abandoned.
  struct RestorePoint {
    std::vector<float> params, m, v;
    std::int64_t steps = 0;
  } saved;
  auto save = [&] {
    saved.params = net.params();
    saved.m = st.optimizer.m;
    saved.v = st.optimizer.v;
    saved.steps = st.optimizer.steps;
  };
  auto restore = [&] {
    net.params() = saved.params;
    st.optimizer.m = saved.m;
    st.optimizer.v = saved.v;
    st.optimizer.steps = saved.steps;
  };
  TrainResult result;
  // Which tensor went non-finite first, in the order a reader can act on: gradients
  // (the step that blew up), then the weights they produced, then the loss alone (the
  // outputs overflowed with finite weights).
  auto fault = [&](int epoch, int b, double batch_loss, const std::vector<double>& sq) {
    result.end = TrainResult::End::numerical_fault;
    result.epoch = epoch;
    result.batch = b;
    std::vector<double> wsum(n_layers, 0.0);
    for (int r = 0; r < P; ++r)
      for (int l = 0; l < n_layers; ++l) wsum[l] += part_wsum[r][l];
    for (int l = 0; l < n_layers && result.layer < 0; ++l)
      if (!std::isfinite(sq[l])) {
        result.layer = l;
        result.fault = "the weight gradients of layer " + std::to_string(l) + " are not finite";
      }
    for (int l = 0; l < n_layers && result.layer < 0; ++l)
      if (!std::isfinite(wsum[l])) {
        result.layer = l;
        result.fault = "the weights or biases of layer " + std::to_string(l) +
                       " became infinite or NaN after the update";
      }
    const std::string loss_text = std::isnan(batch_loss)   ? "nan"
                                  : std::isinf(batch_loss) ? "inf"
                                                           : "finite";
    if (result.layer < 0)
      result.fault = "the loss is " + loss_text + " (weights and gradients are finite)";
    else
      result.fault += " (the batch loss is " + loss_text + ")";
  };
  auto stop_requested = [&] { return cb.should_stop && cb.should_stop(); };

  History& h = st.history;
  for (int epoch = h.epochs(); epoch < opt.epochs && !st.stopped; ++epoch) {
    if (stop_requested()) {
      result.end = TrainResult::End::stop_requested;
      result.epoch = epoch;
      result.batch = 0;
      break;
    }
    save();
    const auto t0 = clock::now();
    std::mt19937_64 rng(mix_seed(opt.seed, 0x5348, epoch));  // shuffle, noise, shifts
    for (int r = 0; r < P; ++r) {
      drop_rngs[r].seed(mix_seed(opt.seed, 0x4450 + r, epoch));  // dropout masks
      replica(r).graph().rng = &drop_rngs[r];
      replica(r).graph().training = true;
    }
    std::iota(perm.begin(), perm.end(), 0);
    for (int i = n - 1; i > 0; --i)
      std::swap(perm[i], perm[rng() % static_cast<std::uint64_t>(i + 1)]);
    std::normal_distribution<float> noise(0.0f, static_cast<float>(opt.input_noise));
    std::uniform_int_distribution<int> shift(-opt.max_shift, opt.max_shift);
    const bool shifting = opt.max_shift > 0 && tr.image_h > 0 && tr.image_w > 0;
    const double lr = learning_rate(st.optimizer.spec, epoch);

    double loss_sum = 0;
    long correct = 0;
    std::vector<double> gnorm(n_layers, 0.0), sq(n_layers, 0.0);
    bool abandoned = false;
    for (int b = 0; b < batches; ++b) {
      first = b * batch;
      m = std::min(batch, n - first);
      for (int j = 0; j < m; ++j) {
        const int s = perm[first + j];
        if (shifting) {
          shift_image(tr.X.col(s).data(), Xb.col(j).data(), tr.image_h, tr.image_w, shift(rng),
                      shift(rng));
        } else {
          Xb.col(j) = tr.X.col(s);
        }
        Yb.col(j) = tr.Y.col(s);
      }
      if (opt.input_noise > 0)
        for (Eigen::Index i = 0; i < static_cast<Eigen::Index>(n_in) * m; ++i)
          Xb.data()[i] += noise(rng);

      parts = std::min(P, m);
      if (parts == 1) {
        run_part(0);
      } else {
        team.run(parts, run_part);
      }
      // The batch gradient is the sample-weighted mean of the parts' mean gradients;
      // combining, the gradient norms and the optimizer update are one pass over the
      // parameters, shared out among the threads by ranges.
      double batch_loss = 0;
      for (int r = 0; r < parts; ++r) {
        batch_loss += part_loss[r];
        loss_sum += part_loss[r];
        correct += part_correct[r];
        const long c0 = static_cast<long>(m) * r / parts,
                   c1 = static_cast<long>(m) * (r + 1) / parts;
        weight[r] = static_cast<float>(c1 - c0) / static_cast<float>(m);
        part_grads[r] = replica(r).grads().data();
      }
      st.optimizer.begin_step(net.params().size());
      batch_lr = lr;
      team.run(P, update_part);
      bool finite = std::isfinite(batch_loss);
      for (int l = 0; l < n_layers; ++l) {
        sq[l] = 0;
        double ws = 0;
        for (int r = 0; r < P; ++r) {
          sq[l] += part_sq[r][l];
          ws += part_wsum[r][l];
        }
        finite = finite && std::isfinite(sq[l]) && std::isfinite(ws);
        gnorm[l] += std::sqrt(sq[l]);
      }
      if (!finite) {
        fault(epoch, b, batch_loss / m, sq);
        abandoned = true;
        break;
      }

      if (cb.on_batch) {
        const double secs = std::chrono::duration<double>(clock::now() - t0).count();
        BatchProgress p;
        p.epoch = epoch;
        p.epochs = opt.epochs;
        p.batch = b + 1;
        p.batches = batches;
        p.loss = loss_sum / (first + m);
        p.accuracy = tr.classification() ? static_cast<double>(correct) / (first + m) : kNaN;
        p.samples_per_second = secs > 0 ? (first + m) / secs : 0;
        const double per_batch = secs / (b + 1);
        p.eta_seconds = per_batch * ((batches - b - 1) + double(opt.epochs - epoch - 1) * batches);
        cb.on_batch(p);
      }
      if (stop_requested()) {
        result.end = TrainResult::End::stop_requested;
        result.epoch = epoch;
        result.batch = b;
        abandoned = true;
        break;
      }
    }
    if (abandoned) {
      restore();
      break;
    }
    for (int r = 0; r < P; ++r) replica(r).graph().training = false;
    for (double& x : gnorm) x /= batches;
    h.train_loss.push_back(loss_sum / n);
    h.train_acc.push_back(tr.classification() ? static_cast<double>(correct) / n : kNaN);
    Evaluation ev_val, ev_test;
    ev_val.loss = ev_test.loss = kNaN;
    if (val && val->size() > 0) ev_val = evaluate(net, *val, opt.eval_batch);
    if (test && test->size() > 0) ev_test = evaluate(net, *test, opt.eval_batch);
    h.val_loss.push_back(ev_val.loss);
    h.val_acc.push_back(ev_val.accuracy);
    h.test_loss.push_back(ev_test.loss);
    h.test_acc.push_back(ev_test.accuracy);
    h.lr.push_back(lr);
    h.grad_norm.push_back(gnorm);
    h.seconds.push_back(std::chrono::duration<double>(clock::now() - t0).count());

    if (early) {
      if (ev_val.loss < st.best_val - opt.min_delta) {
        st.best_val = ev_val.loss;
        st.best_epoch = epoch;
        st.bad_epochs = 0;
        if (opt.restore_best) st.best_params = net.params();
      } else if (++st.bad_epochs >= opt.patience) {
        st.stopped = true;
        if (opt.restore_best && !st.best_params.empty())
          std::copy(st.best_params.begin(), st.best_params.end(), net.params().begin());
      }
    }
    if (cb.on_epoch) cb.on_epoch(epoch, h);
  }
  for (int r = 0; r < P; ++r) {
    replica(r).graph().rng = nullptr;
    replica(r).graph().training = false;
  }
  if (result.end == TrainResult::End::finished && st.stopped)
    result.end = TrainResult::End::early_stopped;
  return result;
}

}  // namespace ranvier::mlp
