// Diagnostics: the gradient of backprop against central finite differences, per
// parameter tensor, reported as ||g1 - g2|| / ||g1 + g2|| (0 when both are zero), and the
// largest element difference. Run in double precision: in float the differences are
// dominated by rounding (see the tolerances of tests/test_mlp_gradcheck.cpp).
#pragma once

#include <string>
#include <vector>

#include "networks/mlp/network.hpp"

namespace ranvier::mlp {

struct GradcheckRow {
  std::string tensor;       // "layer_0/W"
  double relative = 0;      // ||g_backprop - g_numeric|| / ||g_backprop + g_numeric||
  double max_abs_diff = 0;  // largest |g_backprop - g_numeric| of one element
  double norm = 0;          // ||g_backprop||
};

// Relative difference of two gradient vectors as above.
double relative_difference(const Matrix<double>& g1, const Matrix<double>& g2);

// Compares net's backprop gradient of the loss on (X, Y) with central differences of
// step h, tensor by tensor. Dropout and noise are off (evaluation mode) so the loss is
// deterministic; lif_rate is the soft variant that training uses.
std::vector<GradcheckRow> gradcheck(Network<double>& net, const Matrix<double>& X,
                                    const Matrix<double>& Y, double h = 1e-6);

// Central finite-difference Jacobian d output / d x at one input x (n_in, 1).
Matrix<double> numeric_jacobian(Network<double>& net, const Matrix<double>& x, double h = 1e-6);

}  // namespace ranvier::mlp
