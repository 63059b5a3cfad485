// Reverse-mode automatic differentiation over Eigen matrices, as a static expression
// graph: nodes (inputs, parameters, operations) are created once, then forward() and
// backward() are run for every batch. Each operation is a pair of plain functions: a
// forward that writes its value and a backward that accumulates (+=) the gradients of
// its inputs from the gradient of its output (for a product C = A B: dA += dC B^T and
// dB += A^T dC). Node buffers keep their capacity across batches, so the batch loop
// does not allocate once the largest batch has been seen.
//
// Matrices are column-major with one sample per column: an activation is (units, batch).
// Parameters live outside the graph (one flat buffer, see network.hpp); a parameter node
// is a view of its slice of the value and gradient buffers.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "networks/mlp/activations.hpp"

namespace ranvier::mlp {

template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;  // column-major
template <class T>
using MatrixMap = Eigen::Map<Matrix<T>>;
template <class T>
using ConstMatrixMap = Eigen::Map<const Matrix<T>>;

using NodeId = int;

template <class T>
class Graph {
 public:
  // --- leaves -----------------------------------------------------------------------
  // A value supplied for each batch with bind(); `needs_grad` to get d(loss)/d(input)
  // (the Jacobian and gradient checks of inputs).
  NodeId input(std::string name, bool needs_grad = false) {
    Node n;
    n.name = std::move(name);
    n.kind = Kind::input;
    n.needs_grad = needs_grad;
    return add(std::move(n));
  }
  // A view of a parameter: `value` and `grad` point to rows*cols elements (column-major)
  // that outlive the graph. Its gradient is accumulated, never cleared, by backward().
  // `needs_grad` false for a network used for inference only (heaviside, one_hot).
  NodeId parameter(std::string name, T* value, T* grad, Eigen::Index rows, Eigen::Index cols,
                   bool needs_grad = true) {
    Node n;
    n.name = std::move(name);
    n.kind = Kind::parameter;
    n.needs_grad = needs_grad;
    n.v = value;
    n.g = grad;
    n.rows = rows;
    n.cols = cols;
    return add(std::move(n));
  }
  void bind(NodeId id, const T* data, Eigen::Index rows, Eigen::Index cols) {
    Node& n = nodes_[id];
    if (n.kind != Kind::input) throw std::logic_error("bind: not an input node: " + n.name);
    n.v = const_cast<T*>(data);  // inputs are never written by the graph
    n.rows = rows;
    n.cols = cols;
  }

  // --- operations -------------------------------------------------------------------
  NodeId matmul(NodeId a, NodeId b);    // (m,k) x (k,n) -> (m,n)
  NodeId add_bias(NodeId x, NodeId b);  // (m,n) + (m,1) broadcast over columns
  NodeId add(NodeId a, NodeId b);       // element-wise, same shape
  NodeId sub(NodeId a, NodeId b);
  NodeId mul(NodeId a, NodeId b);                    // element-wise (Hadamard)
  NodeId scale(NodeId a, double s);                  // s * a
  NodeId activation(NodeId x, const Activation& f);  // f applied per element / column
  // Inverted dropout: while training() each element is kept with probability 1 - p and
  // scaled by 1 / (1 - p); at evaluation it is the identity. Masks come from rng().
  NodeId dropout(NodeId x, double p);
  NodeId sum(NodeId x);  // (1,1): sum of all elements
  // Losses, (1,1), averaged over the columns (samples) of the target t (no gradient to t).
  NodeId mse(NodeId y, NodeId t);           // 1/2 ||y - t||^2 / n
  NodeId bce(NodeId y, NodeId t);           // -(t log y + (1-t) log(1-y)) / n, y in (0,1)
  NodeId cce(NodeId p, NodeId t);           // -(t log p) / n, p probabilities
  NodeId nll(NodeId logp, NodeId t);        // -(t logp) / n, logp from log_softmax
  NodeId softmax_cce(NodeId z, NodeId t);   // fused cce(softmax(z), t): dz = (p - t) / n
  NodeId logistic_bce(NodeId z, NodeId t);  // fused bce(logistic(z), t): dz = (y - t) / n

  // --- running ------------------------------------------------------------------------
  // Computes `target` and every node it depends on, in creation (topological) order.
  void forward(NodeId target);
  // Gradients of the (1,1) node `loss` with respect to every node it depends on that
  // needs one: intermediate gradients are cleared first, parameter gradients accumulate
  // (clear them yourself between steps).
  void backward(NodeId loss);

  ConstMatrixMap<T> value(NodeId id) const {
    const Node& n = nodes_[id];
    return ConstMatrixMap<T>(n.v, n.rows, n.cols);
  }
  ConstMatrixMap<T> grad(NodeId id) const {
    const Node& n = nodes_[id];
    return ConstMatrixMap<T>(n.g, n.rows, n.cols);
  }
  T scalar(NodeId id) const { return nodes_[id].v[0]; }
  const std::string& name(NodeId id) const { return nodes_[id].name; }
  int size() const { return static_cast<int>(nodes_.size()); }

  bool training = false;           // dropout and activation noise active, soft LIF rate
  bool smooth = false;             // soft LIF rate without training (gradient checks)
  std::mt19937_64* rng = nullptr;  // dropout masks, activation noise; required for them

 private:
  enum class Kind { input, parameter, op };
  struct Node {
    std::string name;
    Kind kind = Kind::op;
    bool needs_grad = false;
    std::vector<NodeId> in;
    T* v = nullptr;  // value (rows, cols), column-major
    T* g = nullptr;  // gradient, same shape
    Eigen::Index rows = 0, cols = 0;
    // Owned buffers (capacity kept across batches), 64-byte aligned: Eigen peels the
    // unaligned head of a reduction (softmax sums, dot products) off in scalars, so the
    // rounding of a sum would otherwise depend on where malloc put the buffer.
    std::vector<T, Eigen::aligned_allocator<T>> vstore, gstore, aux;
    std::function<void(Graph&, Node&)> fwd;
    std::function<void(Graph&, Node&)> bwd;
    Activation act;    // activation nodes
    double param = 0;  // scale factor, dropout probability
  };

  NodeId add(Node n) {
    nodes_.push_back(std::move(n));
    ancestors_cache_.clear();
    return static_cast<NodeId>(nodes_.size() - 1);
  }
  NodeId op(std::string name, std::vector<NodeId> in, std::function<void(Graph&, Node&)> fwd,
            std::function<void(Graph&, Node&)> bwd) {
    Node n;
    n.name = std::move(name);
    for (NodeId i : in) n.needs_grad = n.needs_grad || nodes_[i].needs_grad;
    n.in = std::move(in);
    n.fwd = std::move(fwd);
    n.bwd = std::move(bwd);
    return add(std::move(n));
  }
  // Shapes an op's output, growing (never shrinking) its buffer.
  static MatrixMap<T> resize(Node& n, Eigen::Index rows, Eigen::Index cols) {
    const auto size = static_cast<std::size_t>(rows * cols);
    if (n.vstore.size() < size) n.vstore.resize(size);
    n.v = n.vstore.data();
    n.rows = rows;
    n.cols = cols;
    return MatrixMap<T>(n.v, rows, cols);
  }
  MatrixMap<T> val(NodeId id) {
    Node& n = nodes_[id];
    return MatrixMap<T>(n.v, n.rows, n.cols);
  }
  MatrixMap<T> dval(NodeId id) {
    Node& n = nodes_[id];
    return MatrixMap<T>(n.g, n.rows, n.cols);
  }
  bool wants(NodeId id) const { return nodes_[id].needs_grad; }
  const std::vector<char>& ancestors(NodeId target);
  void check_same_shape(const Node& n, NodeId a, NodeId b) const;

  std::vector<Node> nodes_;
  std::vector<std::pair<NodeId, std::vector<char>>> ancestors_cache_;
};

}  // namespace ranvier::mlp

#include "networks/mlp/autodiff_impl.hpp"
