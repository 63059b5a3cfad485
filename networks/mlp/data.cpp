#include "networks/mlp/data.hpp"

#include <cmath>
#include <numbers>
#include <numeric>
#include <random>
#include <stdexcept>

namespace ranvier::mlp {

std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
  // splitmix64 over a combination: independent streams for nearby seeds and epochs
  auto mix = [](std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  return mix(mix(mix(seed) ^ stream) ^ index);
}

Dataset subset(const Dataset& d, const std::vector<int>& index) {
  Dataset s;
  s.n_classes = d.n_classes;
  s.image_h = d.image_h;
  s.image_w = d.image_w;
  s.X.resize(d.X.rows(), static_cast<Eigen::Index>(index.size()));
  s.Y.resize(d.Y.rows(), static_cast<Eigen::Index>(index.size()));
  for (std::size_t j = 0; j < index.size(); ++j) {
    s.X.col(j) = d.X.col(index[j]);
    s.Y.col(j) = d.Y.col(index[j]);
    if (!d.labels.empty()) s.labels.push_back(d.labels[index[j]]);
  }
  return s;
}

Matrix<float> targets_from_labels(const std::vector<int>& labels, int n_classes, int n_outputs) {
  const auto n = static_cast<Eigen::Index>(labels.size());
  if (n_outputs == 1 && n_classes == 2) {
    Matrix<float> Y(1, n);
    for (Eigen::Index j = 0; j < n; ++j) Y(0, j) = static_cast<float>(labels[j]);
    return Y;
  }
  Matrix<float> Y = Matrix<float>::Zero(n_classes, n);
  for (Eigen::Index j = 0; j < n; ++j) Y(labels[j], j) = 1.0f;
  return Y;
}

Dataset xor_dataset() {
  Dataset d;
  d.X.resize(2, 4);
  d.X << 0, 0, 1, 1,  //
      0, 1, 0, 1;
  d.labels = {0, 1, 1, 0};
  d.n_classes = 2;
  d.Y = targets_from_labels(d.labels, 2, 1);
  return d;
}

Dataset discrete_mapping(int classes, int features, int samples_per_class, double noise,
                         std::uint64_t prototype_seed, std::uint64_t seed) {
  std::mt19937_64 prng(prototype_seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Matrix<double> proto(features, classes);
  for (int k = 0; k < classes; ++k)
    for (int f = 0; f < features; ++f) proto(f, k) = u(prng);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, noise);
  Dataset d;
  d.n_classes = classes;
  const int n = classes * samples_per_class;
  d.X.resize(features, n);
  for (int i = 0; i < n; ++i) {
    const int k = i % classes;  // classes interleaved
    for (int f = 0; f < features; ++f) d.X(f, i) = static_cast<float>(proto(f, k) + g(rng));
    d.labels.push_back(k);
  }
  d.Y = targets_from_labels(d.labels, classes, classes);
  return d;
}

const std::vector<std::string>& function_names() {
  static const std::vector<std::string> names = {"sin",   "cos", "square", "cubic",
                                                 "gauss", "abs", "step"};
  return names;
}

double function_value(const std::string& name, double x) {
  if (name == "sin") return std::sin(std::numbers::pi * x);
  if (name == "cos") return std::cos(std::numbers::pi * x);
  if (name == "square") return x * x;
  if (name == "cubic") return x * x * x;
  if (name == "gauss") return std::exp(-4 * x * x);
  if (name == "abs") return std::abs(x);
  if (name == "step") return x > 0 ? 1.0 : 0.0;
  throw std::invalid_argument("unknown function: " + name);
}

Dataset function_samples(const std::string& name, int samples, double noise, double x_min,
                         double x_max, bool grid, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(x_min, x_max);
  std::normal_distribution<double> g(0.0, 1.0);
  Dataset d;
  d.X.resize(1, samples);
  d.Y.resize(1, samples);
  for (int i = 0; i < samples; ++i) {
    const double x =
        grid ? (samples == 1 ? x_min : x_min + (x_max - x_min) * i / (samples - 1)) : u(rng);
    d.X(0, i) = static_cast<float>(x);
    d.Y(0, i) = static_cast<float>(function_value(name, x) + (noise > 0 ? noise * g(rng) : 0));
  }
  return d;
}

std::pair<Dataset, Dataset> split_validation(const Dataset& d, double fraction,
                                             std::uint64_t seed) {
  std::vector<int> idx(d.size());
  std::iota(idx.begin(), idx.end(), 0);
  if (fraction <= 0) return {d, Dataset{}};
  std::mt19937_64 rng(mix_seed(seed, 0x7661, 0));
  for (int i = d.size() - 1; i > 0; --i)
    std::swap(idx[i], idx[rng() % static_cast<std::uint64_t>(i + 1)]);
  int n_val = static_cast<int>(std::lround(fraction * d.size()));
  n_val = std::clamp(n_val, 1, d.size() - 1);
  std::vector<int> val(idx.begin(), idx.begin() + n_val), tr(idx.begin() + n_val, idx.end());
  std::sort(val.begin(), val.end());
  std::sort(tr.begin(), tr.end());
  return {subset(d, tr), subset(d, val)};
}

}  // namespace ranvier::mlp
