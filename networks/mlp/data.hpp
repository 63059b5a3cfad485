// Data sets for the MLP, in memory (file formats are read in tools/io/datasets), and the
// built-in ones: XOR, a discrete mapping (K class prototypes plus Gaussian noise) and
// noisy samples of a 1-D function.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "networks/mlp/autodiff.hpp"

namespace ranvier::mlp {

struct Dataset {
  Matrix<float> X;               // (n_features, n_samples), one sample per column
  Matrix<float> Y;               // (n_outputs, n_samples): one-hot classes, 0/1, or values
  std::vector<int> labels;       // class of each sample; empty for regression
  int n_classes = 0;             // 0 for regression
  int image_h = 0, image_w = 0;  // > 0 when a sample is an image (for shift augmentation)
  int features() const { return static_cast<int>(X.rows()); }
  int outputs() const { return static_cast<int>(Y.rows()); }
  int size() const { return static_cast<int>(X.cols()); }
  bool classification() const { return !labels.empty(); }
};

// The samples `index` of `d`, in that order.
Dataset subset(const Dataset& d, const std::vector<int>& index);
// Targets from labels: one-hot (n_classes, n), or a single 0/1 row when `n_outputs` is 1
// and there are two classes.
Matrix<float> targets_from_labels(const std::vector<int>& labels, int n_classes, int n_outputs);

// XOR: 4 samples of 2 inputs in {0, 1}, one 0/1 target, labels 0/1.
Dataset xor_dataset();

// K classes, each a prototype drawn uniformly in [-1, 1]^features (from prototype_seed),
// with samples = prototype + N(0, noise^2) per feature (from seed).
Dataset discrete_mapping(int classes, int features, int samples_per_class, double noise,
                         std::uint64_t prototype_seed, std::uint64_t seed);

// 1-D regression: x uniform in [x_min, x_max] (or evenly spaced if `grid`),
// y = f(x) + N(0, noise^2). f is one of function_names().
const std::vector<std::string>& function_names();
double function_value(const std::string& name, double x);
Dataset function_samples(const std::string& name, int samples, double noise, double x_min,
                         double x_max, bool grid, std::uint64_t seed);

// Splits off a random `fraction` of `d` (at least one sample if fraction > 0) for
// validation: returns (train, validation).
std::pair<Dataset, Dataset> split_validation(const Dataset& d, double fraction, std::uint64_t seed);

// Deterministic seeding of per-epoch generators from (seed, stream, epoch).
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream, std::uint64_t index);

}  // namespace ranvier::mlp
