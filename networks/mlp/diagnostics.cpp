#include "networks/mlp/diagnostics.hpp"

namespace ranvier::mlp {

double relative_difference(const Matrix<double>& g1, const Matrix<double>& g2) {
  const double den = (g1 + g2).norm();
  const double num = (g1 - g2).norm();
  if (den == 0) return num == 0 ? 0.0 : 1.0;
  return num / den;
}

std::vector<GradcheckRow> gradcheck(Network<double>& net, const Matrix<double>& X,
                                    const Matrix<double>& Y, double h) {
  Graph<double>& g = net.graph();
  const bool was = g.training, was_smooth = g.smooth;
  g.training = false;
  g.smooth = true;  // the soft LIF rate that training differentiates
  net.loss_and_grad(X, Y);
  const std::vector<double> analytic = net.grads();
  std::vector<double>& p = net.params();
  std::vector<GradcheckRow> rows;
  for (const TensorInfo& t : net.tensors()) {
    Matrix<double> g1(t.rows, t.cols), g2(t.rows, t.cols);
    for (std::size_t i = 0; i < t.size(); ++i) {
      double& w = p[t.offset + i];
      const double w0 = w;
      w = w0 + h;
      const double lp = net.loss(X, Y);
      w = w0 - h;
      const double lm = net.loss(X, Y);
      w = w0;
      g1.data()[i] = analytic[t.offset + i];
      g2.data()[i] = (lp - lm) / (2 * h);
    }
    rows.push_back(
        {t.name, relative_difference(g1, g2), (g1 - g2).cwiseAbs().maxCoeff(), g1.norm()});
  }
  g.training = was;
  g.smooth = was_smooth;
  return rows;
}

Matrix<double> numeric_jacobian(Network<double>& net, const Matrix<double>& x, double h) {
  Matrix<double> xp = x;
  const int n_out = net.spec().outputs();
  Matrix<double> J(n_out, x.rows());
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    xp(i, 0) = x(i, 0) + h;
    const Matrix<double> yp = net.predict(xp);
    xp(i, 0) = x(i, 0) - h;
    const Matrix<double> ym = net.predict(xp);
    xp(i, 0) = x(i, 0);
    J.col(i) = (yp - ym).col(0) / (2 * h);
  }
  return J;
}

}  // namespace ranvier::mlp
