// Forward and backward of each operation of autodiff.hpp. Included from there only.
#pragma once

#include <algorithm>
#include <stdexcept>

#include "networks/mlp/autodiff.hpp"

namespace ranvier::mlp {

template <class T>
void Graph<T>::check_same_shape(const Node& n, NodeId a, NodeId b) const {
  const Node& x = nodes_[a];
  const Node& y = nodes_[b];
  if (x.rows != y.rows || x.cols != y.cols)
    throw std::invalid_argument(n.name + ": shapes differ: (" + std::to_string(x.rows) + ", " +
                                std::to_string(x.cols) + ") and (" + std::to_string(y.rows) + ", " +
                                std::to_string(y.cols) + ")");
}

template <class T>
NodeId Graph<T>::matmul(NodeId a, NodeId b) {
  return op(
      "matmul", {a, b},
      [a, b](Graph& g, Node& n) {
        auto A = g.val(a);
        auto B = g.val(b);
        if (A.cols() != B.rows())
          throw std::invalid_argument("matmul: inner sizes differ: (" + std::to_string(A.rows()) +
                                      ", " + std::to_string(A.cols()) + ") x (" +
                                      std::to_string(B.rows()) + ", " + std::to_string(B.cols()) +
                                      ")");
        resize(n, A.rows(), B.cols()).noalias() = A * B;
      },
      [a, b](Graph& g, Node& n) {
        MatrixMap<T> dC(n.g, n.rows, n.cols);
        if (g.wants(a)) g.dval(a).noalias() += dC * g.val(b).transpose();
        if (g.wants(b)) g.dval(b).noalias() += g.val(a).transpose() * dC;
      });
}

template <class T>
NodeId Graph<T>::add_bias(NodeId x, NodeId b) {
  return op(
      "add_bias", {x, b},
      [x, b](Graph& g, Node& n) {
        auto X = g.val(x);
        auto B = g.val(b);
        if (B.rows() != X.rows() || B.cols() != 1)
          throw std::invalid_argument("add_bias: bias of shape (" + std::to_string(B.rows()) +
                                      ", " + std::to_string(B.cols()) + ") for (" +
                                      std::to_string(X.rows()) + ", n)");
        resize(n, X.rows(), X.cols()) = X.colwise() + B.col(0);
      },
      [x, b](Graph& g, Node& n) {
        MatrixMap<T> dY(n.g, n.rows, n.cols);
        if (g.wants(x)) g.dval(x) += dY;
        if (g.wants(b)) {
          // Summed into an aligned buffer first: Eigen sums the rows it peels off to align
          // the destination in another order than the vectorised rows, so summing straight
          // into the parameter buffer would round differently with its address.
          if (n.aux.size() < static_cast<std::size_t>(n.rows)) n.aux.resize(n.rows);
          MatrixMap<T> s(n.aux.data(), n.rows, 1);
          s.noalias() = dY.rowwise().sum();
          g.dval(b) += s;
        }
      });
}

template <class T>
NodeId Graph<T>::add(NodeId a, NodeId b) {
  return op(
      "add", {a, b},
      [a, b](Graph& g, Node& n) {
        g.check_same_shape(n, a, b);
        resize(n, g.val(a).rows(), g.val(a).cols()) = g.val(a) + g.val(b);
      },
      [a, b](Graph& g, Node& n) {
        MatrixMap<T> dY(n.g, n.rows, n.cols);
        if (g.wants(a)) g.dval(a) += dY;
        if (g.wants(b)) g.dval(b) += dY;
      });
}

template <class T>
NodeId Graph<T>::sub(NodeId a, NodeId b) {
  return op(
      "sub", {a, b},
      [a, b](Graph& g, Node& n) {
        g.check_same_shape(n, a, b);
        resize(n, g.val(a).rows(), g.val(a).cols()) = g.val(a) - g.val(b);
      },
      [a, b](Graph& g, Node& n) {
        MatrixMap<T> dY(n.g, n.rows, n.cols);
        if (g.wants(a)) g.dval(a) += dY;
        if (g.wants(b)) g.dval(b) -= dY;
      });
}

template <class T>
NodeId Graph<T>::mul(NodeId a, NodeId b) {
  return op(
      "mul", {a, b},
      [a, b](Graph& g, Node& n) {
        g.check_same_shape(n, a, b);
        resize(n, g.val(a).rows(), g.val(a).cols()) =
            (g.val(a).array() * g.val(b).array()).matrix();
      },
      [a, b](Graph& g, Node& n) {
        MatrixMap<T> dY(n.g, n.rows, n.cols);
        if (g.wants(a)) g.dval(a).array() += dY.array() * g.val(b).array();
        if (g.wants(b)) g.dval(b).array() += dY.array() * g.val(a).array();
      });
}

template <class T>
NodeId Graph<T>::scale(NodeId a, double s) {
  return op(
      "scale", {a},
      [a, s](Graph& g, Node& n) {
        resize(n, g.val(a).rows(), g.val(a).cols()) = static_cast<T>(s) * g.val(a);
      },
      [a, s](Graph& g, Node& n) {
        if (g.wants(a)) g.dval(a) += static_cast<T>(s) * MatrixMap<T>(n.g, n.rows, n.cols);
      });
}

template <class T>
NodeId Graph<T>::activation(NodeId x, const Activation& f) {
  if (nodes_[x].needs_grad) {
    const std::string why = activation_untrainable_reason(f.kind);
    if (!why.empty())
      throw std::invalid_argument(std::string(activation_name(f.kind)) +
                                  " cannot be used where gradients are needed: " + why);
  }
  const NodeId id = op(
      std::string(activation_name(f.kind)), {x},
      [x](Graph& g, Node& n) {
        auto X = g.val(x);
        auto Y = resize(n, X.rows(), X.cols());
        activation_forward<T>(n.act, X, Y, g.training || g.smooth);
        // Training noise on the output (Hunsberger & Eliasmith's noisy rates): additive,
        // so the backward pass, which works from x, is unchanged.
        if (g.training && n.act.kind == ActivationKind::lif_rate && n.act.noise > 0) {
          if (!g.rng) throw std::logic_error("activation noise: training without a random generator");
          std::normal_distribution<T> noise(T(0), static_cast<T>(n.act.noise));
          for (Eigen::Index i = 0; i < Y.size(); ++i) Y.data()[i] += noise(*g.rng);
        }
      },
      [x](Graph& g, Node& n) {
        if (!g.wants(x)) return;
        auto dX = g.dval(x);
        activation_backward<T>(n.act, g.val(x), MatrixMap<T>(n.v, n.rows, n.cols),
                               MatrixMap<T>(n.g, n.rows, n.cols), dX, g.training || g.smooth);
      });
  nodes_[id].act = f;
  return id;
}

template <class T>
NodeId Graph<T>::dropout(NodeId x, double p) {
  if (!(p >= 0 && p < 1)) throw std::invalid_argument("dropout: p must be in [0, 1)");
  const NodeId id = op(
      "dropout", {x},
      [x](Graph& g, Node& n) {
        auto X = g.val(x);
        auto Y = resize(n, X.rows(), X.cols());
        if (!g.training || n.param == 0) {
          Y = X;
          return;
        }
        if (!g.rng) throw std::logic_error("dropout: training without a random generator");
        const auto size = static_cast<std::size_t>(X.size());
        if (n.aux.size() < size) n.aux.resize(size);
        // mask = 1/(1-p) with probability 1-p, else 0. 64 random bits give 4 decisions
        // of 16 bits each (resolution 1/65536 on p), a quarter of the generator calls.
        const T keep_scale = T(1) / T(1 - n.param);
        const auto threshold = static_cast<std::uint32_t>(n.param * 65536.0);
        std::size_t i = 0;
        while (i < size) {
          std::uint64_t bits = (*g.rng)();
          for (int k = 0; k < 4 && i < size; ++k, ++i, bits >>= 16)
            n.aux[i] = (static_cast<std::uint32_t>(bits & 0xffff) >= threshold) ? keep_scale : T(0);
        }
        Y = (X.array() * MatrixMap<T>(n.aux.data(), X.rows(), X.cols()).array()).matrix();
      },
      [x](Graph& g, Node& n) {
        if (!g.wants(x)) return;
        MatrixMap<T> dY(n.g, n.rows, n.cols);
        if (!g.training || n.param == 0)
          g.dval(x) += dY;
        else
          g.dval(x).array() += dY.array() * MatrixMap<T>(n.aux.data(), n.rows, n.cols).array();
      });
  nodes_[id].param = p;
  return id;
}

template <class T>
NodeId Graph<T>::sum(NodeId x) {
  return op(
      "sum", {x}, [x](Graph& g, Node& n) { resize(n, 1, 1)(0, 0) = g.val(x).sum(); },
      [x](Graph& g, Node& n) {
        if (g.wants(x)) g.dval(x).array() += n.g[0];
      });
}

namespace detail {
inline std::string loss_shape_message(const char* name, Eigen::Index yr, Eigen::Index yc,
                                      Eigen::Index tr, Eigen::Index tc) {
  return std::string(name) + ": output (" + std::to_string(yr) + ", " + std::to_string(yc) +
         ") and target (" + std::to_string(tr) + ", " + std::to_string(tc) + ") differ";
}
}  // namespace detail

#define RANVIER_LOSS_SHAPES(NAME)                                                    \
  auto Y = g.val(y);                                                                 \
  auto Tt = g.val(t);                                                                \
  if (Y.rows() != Tt.rows() || Y.cols() != Tt.cols())                                \
    throw std::invalid_argument(                                                     \
        detail::loss_shape_message(NAME, Y.rows(), Y.cols(), Tt.rows(), Tt.cols())); \
  const T inv_n = T(1) / static_cast<T>(std::max<Eigen::Index>(Y.cols(), 1));

template <class T>
NodeId Graph<T>::mse(NodeId y, NodeId t) {
  return op(
      "mse", {y, t},
      [y, t](Graph& g, Node& n) {
        RANVIER_LOSS_SHAPES("mse");
        resize(n, 1, 1)(0, 0) = T(0.5) * inv_n * (Y - Tt).squaredNorm();
      },
      [y, t](Graph& g, Node& n) {
        RANVIER_LOSS_SHAPES("mse");
        if (g.wants(y)) g.dval(y) += (n.g[0] * inv_n) * (Y - Tt);
      });
}

template <class T>
NodeId Graph<T>::bce(NodeId y, NodeId t) {
  return op(
      "bce", {y, t},
      [y, t](Graph& g, Node& n) {
        RANVIER_LOSS_SHAPES("bce");
        resize(n, 1, 1)(0, 0) =
            -inv_n *
            (Tt.array() * Y.array().log() + (T(1) - Tt.array()) * (T(1) - Y.array()).log()).sum();
      },
      [y, t](Graph& g, Node& n) {
        RANVIER_LOSS_SHAPES("bce");
        if (g.wants(y))
          g.dval(y).array() += (-n.g[0] * inv_n) *
                               (Tt.array() / Y.array() - (T(1) - Tt.array()) / (T(1) - Y.array()));
      });
}

template <class T>
NodeId Graph<T>::cce(NodeId y, NodeId t) {
  return op(
      "cce", {y, t},
      [y, t](Graph& g, Node& n) {
        RANVIER_LOSS_SHAPES("cce");
        resize(n, 1, 1)(0, 0) = -inv_n * (Tt.array() * Y.array().log()).sum();
      },
      [y, t](Graph& g, Node& n) {
        RANVIER_LOSS_SHAPES("cce");
        if (g.wants(y)) g.dval(y).array() += (-n.g[0] * inv_n) * Tt.array() / Y.array();
      });
}

template <class T>
NodeId Graph<T>::nll(NodeId y, NodeId t) {
  return op(
      "nll", {y, t},
      [y, t](Graph& g, Node& n) {
        RANVIER_LOSS_SHAPES("nll");
        resize(n, 1, 1)(0, 0) = -inv_n * (Tt.array() * Y.array()).sum();
      },
      [y, t](Graph& g, Node& n) {
        RANVIER_LOSS_SHAPES("nll");
        if (g.wants(y)) g.dval(y) += (-n.g[0] * inv_n) * Tt;
      });
}

template <class T>
NodeId Graph<T>::softmax_cce(NodeId y, NodeId t) {
  // aux holds softmax(z) from the forward pass for the backward pass.
  return op(
      "softmax_cce", {y, t},
      [y, t](Graph& g, Node& n) {
        RANVIER_LOSS_SHAPES("softmax_cce");
        const auto size = static_cast<std::size_t>(Y.size());
        if (n.aux.size() < size) n.aux.resize(size);
        MatrixMap<T> P(n.aux.data(), Y.rows(), Y.cols());
        T loss = 0;
        for (Eigen::Index j = 0; j < Y.cols(); ++j) {
          const T m = Y.col(j).maxCoeff();
          P.col(j) = (Y.col(j).array() - m).exp().matrix();
          const T s = P.col(j).sum();
          P.col(j) /= s;
          // -sum t (z - m - log s)
          loss -= Tt.col(j).dot(Y.col(j)) - Tt.col(j).sum() * (m + std::log(s));
        }
        resize(n, 1, 1)(0, 0) = inv_n * loss;
      },
      [y, t](Graph& g, Node& n) {
        RANVIER_LOSS_SHAPES("softmax_cce");
        if (!g.wants(y)) return;
        MatrixMap<T> P(n.aux.data(), Y.rows(), Y.cols());
        const T s = n.g[0] * inv_n;
        // d/dz of -sum t log softmax(z) = softmax(z) * sum(t) - t
        auto dZ = g.dval(y);
        for (Eigen::Index j = 0; j < Y.cols(); ++j)
          dZ.col(j) += s * (P.col(j) * Tt.col(j).sum() - Tt.col(j));
      });
}

template <class T>
NodeId Graph<T>::logistic_bce(NodeId y, NodeId t) {
  return op(
      "logistic_bce", {y, t},
      [y, t](Graph& g, Node& n) {
        RANVIER_LOSS_SHAPES("logistic_bce");
        // bce(logistic(z), t) = softplus(z) - t z, softplus without overflow
        resize(n, 1, 1)(0, 0) =
            inv_n *
            (Y.array().max(T(0)) + (-Y.array().abs()).exp().log1p() - Tt.array() * Y.array()).sum();
      },
      [y, t](Graph& g, Node& n) {
        RANVIER_LOSS_SHAPES("logistic_bce");
        if (g.wants(y))
          g.dval(y).array() += (n.g[0] * inv_n) * (T(1) / (T(1) + (-Y.array()).exp()) - Tt.array());
      });
}

#undef RANVIER_LOSS_SHAPES

template <class T>
const std::vector<char>& Graph<T>::ancestors(NodeId target) {
  for (auto& [id, mark] : ancestors_cache_)
    if (id == target) return mark;
  std::vector<char> mark(nodes_.size(), 0);
  mark[target] = 1;
  for (NodeId i = target; i >= 0; --i)
    if (mark[i])
      for (NodeId j : nodes_[i].in) mark[j] = 1;
  ancestors_cache_.emplace_back(target, std::move(mark));
  return ancestors_cache_.back().second;
}

template <class T>
void Graph<T>::forward(NodeId target) {
  const std::vector<char>& mark = ancestors(target);
  for (NodeId i = 0; i <= target; ++i) {
    Node& n = nodes_[i];
    if (!mark[i]) continue;
    if (n.kind == Kind::input && n.v == nullptr)
      throw std::logic_error("forward: input '" + n.name + "' is not bound");
    if (n.kind == Kind::op) n.fwd(*this, n);
  }
}

template <class T>
void Graph<T>::backward(NodeId loss) {
  Node& l = nodes_[loss];
  if (l.rows != 1 || l.cols != 1) throw std::logic_error("backward: loss is not (1, 1)");
  if (!l.needs_grad) return;  // depends on nothing that needs a gradient
  const std::vector<char>& mark = ancestors(loss);
  for (NodeId i = 0; i <= loss; ++i) {
    Node& n = nodes_[i];
    if (!mark[i] || !n.needs_grad || n.kind == Kind::parameter) continue;
    const auto size = static_cast<std::size_t>(n.rows * n.cols);
    if (n.gstore.size() < size) n.gstore.resize(size);
    n.g = n.gstore.data();
    std::fill_n(n.g, size, T(0));
  }
  l.g[0] = T(1);
  for (NodeId i = loss; i >= 0; --i) {
    Node& n = nodes_[i];
    if (mark[i] && n.needs_grad && n.kind == Kind::op) n.bwd(*this, n);
  }
}

}  // namespace ranvier::mlp
