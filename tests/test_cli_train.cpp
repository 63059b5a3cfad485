// `ranvier train`, `eval`, `predict`, `gradcheck` driven as a user would: every example
// config runs (Fashion-MNIST on a small subset for one epoch), results land in the model
// file, a network that does not fit the data is exit code 2 with a clear message.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/cli.hpp"
#include "tools/io/model_file.hpp"

namespace fs = std::filesystem;
using namespace ranvier;

namespace {

using Result = test::CombinedResult;

Result run(const std::string& args) {
  return test::run_in_source_dir(args);
}

std::string scratch(const std::string& name) {
  const fs::path dir = fs::path(RANVIER_TEST_SCRATCH) / "cli_train";
  fs::create_directories(dir);
  return (dir / name).string();
}

}  // namespace

TEST_CASE("xor: trains to 100% and the model file has the documented layout") {
  const std::string out = scratch("xor.h5");
  const Result r = run("train configs/xor.yaml --force -o " + out);
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("epoch 1000/1000") != std::string::npos);
  const io::ModelFile m = io::read_model_file(out);
  CHECK(m.spec.layers.size() == 2);
  CHECK(m.spec.layers[0].units == 2);
  CHECK(m.state.history.epochs() == 1000);
  CHECK(m.state.history.test_acc.back() == 1.0);
  CHECK(m.config_text.find("source: xor") != std::string::npos);
  // predict: one output row per input row
  const std::string in = scratch("xor_inputs.csv");
  std::ofstream(in) << "0,0\n0,1\n1,0\n1,1\n";
  const Result p = run("predict " + out + " " + in);
  REQUIRE(p.code == 0);
  double y[4];
  REQUIRE(std::sscanf(p.out.c_str(), "%lf\n%lf\n%lf\n%lf", &y[0], &y[1], &y[2], &y[3]) == 4);
  CHECK(y[0] < 0.5);
  CHECK(y[1] > 0.5);
  CHECK(y[2] > 0.5);
  CHECK(y[3] < 0.5);
}

TEST_CASE("discrete_mapping: at least 98% test accuracy; gradcheck passes; eval prints") {
  const std::string out = scratch("dm.h5");
  const Result r = run("train configs/discrete_mapping.yaml -q --force -o " + out);
  REQUIRE(r.code == 0);
  const io::ModelFile m = io::read_model_file(out);
  CHECK(m.state.history.test_acc.back() >= 0.98);
  const Result g = run("gradcheck configs/discrete_mapping.yaml");
  INFO(g.out);
  CHECK(g.code == 0);
  CHECK(g.out.find("layer_2/b") != std::string::npos);
  const Result e = run("eval " + out + " --data configs/discrete_mapping.yaml");
  INFO(e.out);
  CHECK(e.code == 0);
  CHECK(e.out.find("confusion matrix") != std::string::npos);
}

TEST_CASE("function_fit: a small test loss") {
  const std::string out = scratch("ff.h5");
  REQUIRE(run("train configs/function_fit.yaml -q --force -o " + out).code == 0);
  const io::ModelFile m = io::read_model_file(out);
  // 1/2 mean squared error against the noise-free function; the training noise has
  // variance 0.0025, so a fit with loss < 0.01 follows the function, not the noise.
  CHECK(m.state.history.test_loss.back() < 0.01);
}

TEST_CASE("overfitting: weight decay and dropout each give a lower test loss") {
  auto final_test_loss = [](const std::string& config) {
    const std::string out = scratch(config + ".h5");
    REQUIRE(run("train configs/" + config + ".yaml -q --force -o " + out).code == 0);
    const io::ModelFile m = io::read_model_file(out);
    // The plain network fits the training noise: its training loss ends below the
    // regularised ones'.
    return std::pair{m.state.history.train_loss.back(), m.state.history.test_loss.back()};
  };
  const auto plain = final_test_loss("overfitting");
  const auto l2 = final_test_loss("overfitting_weight_decay");
  const auto dropout = final_test_loss("overfitting_dropout");
  MESSAGE("test loss: plain " << plain.second << ", weight decay " << l2.second << ", dropout "
                              << dropout.second);
  CHECK(plain.first < l2.first);
  CHECK(plain.first < dropout.first);
  CHECK(l2.second < plain.second);
  CHECK(dropout.second < plain.second);
}

TEST_CASE("fmnist_mlp: one epoch on a small subset") {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) return;
  const std::string out = scratch("fmnist.h5");
  const Result r = run("train configs/fmnist_mlp.yaml --force -o " + out +
                       " --epochs 1 --threads 2 --set data.limit_train=3000 "
                       "--set data.limit_test=1000");
  INFO(r.out);
  REQUIRE(r.code == 0);
  const io::ModelFile m = io::read_model_file(out);
  CHECK(m.state.history.epochs() == 1);
  // 3000 images, one epoch: far from converged, but well above chance (10%).
  CHECK(m.state.history.test_acc.back() > 0.5);
}

TEST_CASE("resume after epoch k gives the same model as an uninterrupted run") {
  const std::string full = scratch("resume_full.h5"), part = scratch("resume_part.h5");
  const std::string cfg = "configs/discrete_mapping.yaml -q --force --threads 2 ";
  REQUIRE(run("train " + cfg + "-o " + full).code == 0);
  REQUIRE(run("train " + cfg + "--epochs 25 -o " + part).code == 0);
  REQUIRE(run("train " + cfg + "--resume " + part).code == 0);
  const io::ModelFile a = io::read_model_file(full), b = io::read_model_file(part);
  CHECK(b.state.history.epochs() == 60);
  CHECK(a.params == b.params);  // bit for bit
  CHECK(a.state.history.test_loss == b.state.history.test_loss);
}

TEST_CASE("same seed and threads give the same model; --init starts from a file") {
  const std::string a = scratch("same_a.h5"), b = scratch("same_b.h5");
  const std::string cfg =
      "configs/fmnist_mlp.yaml -q --force --epochs 1 --threads 2 "
      "--set data.limit_train=1000 --set data.limit_test=100 ";
  if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) return;
  REQUIRE(run("train " + cfg + "-o " + a).code == 0);
  REQUIRE(run("train " + cfg + "-o " + b).code == 0);
  CHECK(io::read_model_file(a).params == io::read_model_file(b).params);
  const std::string c = scratch("same_c.h5");
  REQUIRE(run("train " + cfg + "--init " + a + " -o " + c).code == 0);
  CHECK(io::read_model_file(c).params != io::read_model_file(a).params);
}

TEST_CASE("a layer size that does not match the data: exit 2 with a clear message") {
  const Result in = run("train configs/discrete_mapping.yaml --force -o " + scratch("bad.h5") +
                        " --set network.inputs=7");
  INFO(in.out);
  CHECK(in.code == 2);
  CHECK(in.out.find("the network has 7 inputs but the data (discrete_mapping) has 6 features") !=
        std::string::npos);
  // where the size came from: the --set here, file:line:column for a key in the file
  CHECK(in.out.find("error: --set network.inputs=7: network.inputs:") != std::string::npos);
  const Result file = run("train configs/discrete_mapping.yaml --force -o " + scratch("bad.h5") +
                          " --set data.features=5");
  CHECK(file.code == 2);
  CHECK(file.out.find("discrete_mapping.yaml:") != std::string::npos);
  const Result out = run(
      "train configs/discrete_mapping.yaml --force -o " + scratch("bad.h5") +
      " --set 'network.layers=[{units: 10, activation: tanh}, {units: 4, activation: softmax}]'");
  INFO(out.out);
  CHECK(out.code == 2);
  CHECK(out.out.find("the last layer has 4 units but the data (discrete_mapping) has 3 targets") !=
        std::string::npos);
}

TEST_CASE("config mistakes: unknown key, untrainable activation, bad data file") {
  const Result key = run("train configs/xor.yaml --force -o " + scratch("bad.h5") +
                         " --set optimizer.momentom=0.5");
  CHECK(key.code == 2);
  CHECK(key.out.find("momentum") != std::string::npos);  // did you mean
  const Result act = run("train configs/xor.yaml --force -o " + scratch("bad.h5") +
                         " --set 'network.layers=[{units: 2, activation: heaviside}, {units: 1, "
                         "activation: logistic}]'");
  CHECK(act.code == 2);
  CHECK(act.out.find("heaviside cannot be trained") != std::string::npos);
  const std::string bad = scratch("bad-images");
  std::ofstream(bad) << "not an idx file";
  const Result data = run("train configs/fmnist_mlp.yaml --force -o " + scratch("bad.h5") +
                          " --set data.train_images=" + bad);
  INFO(data.out);
  CHECK(data.code == 2);
  CHECK(data.out.find("wrong magic number") != std::string::npos);
}

TEST_CASE("tools/plot_training.py writes a non-empty PNG and SVG from a small model file") {
  if (!fs::exists("/usr/bin/python3")) return;
  const std::string model = scratch("plot.h5");
  REQUIRE(run("train configs/function_fit.yaml -q --force --epochs 5 -o " + model).code == 0);
  for (const char* ext : {".png", ".svg"}) {
    const std::string image = scratch(std::string("plot") + ext);
    fs::remove(image);
    const Result r = run("/usr/bin/python3 tools/plot_training.py " + model + " -o " + image +
                         " --grad-norms --log");
    INFO(r.out);
    CHECK(r.code == 0);
    REQUIRE(fs::exists(image));
    CHECK(fs::file_size(image) > 1000);
  }
  const Result bad = run("/usr/bin/python3 tools/plot_training.py " + scratch("none.h5") + " -o " +
                         scratch("none.png"));
  CHECK(bad.code == 2);
}

TEST_CASE("predict --jacobian: d output / d input agrees with differences of predictions") {
  const std::string model = scratch("jac.h5");
  REQUIRE(run("train configs/function_fit.yaml -q --force -o " + model).code == 0);
  const std::string in = scratch("jac.csv");
  std::ofstream(in) << "0.3\n0.301\n0.299\n";
  const Result j = run("predict " + model + " " + in + " --jacobian");
  const Result y = run("predict " + model + " " + in);
  REQUIRE(j.code == 0);
  REQUIRE(y.code == 0);
  double d = 0, y0 = 0, yp = 0, ym = 0;
  REQUIRE(std::sscanf(j.out.c_str(), "%lf", &d) == 1);
  REQUIRE(std::sscanf(y.out.c_str(), "%lf\n%lf\n%lf", &y0, &yp, &ym) == 3);
  // Central difference with h = 1e-3 of a float network printed to 7 digits: truncation
  // ~h^2 |f'''| ~ 1e-5 and rounding ~1e-7 / h = 1e-4, so 1e-3 relative is ample.
  CHECK(d == doctest::Approx((yp - ym) / 0.002).epsilon(1e-3));
  // and it is the slope of sin(pi x) the network learnt: pi cos(0.3 pi) = 1.85 (a fit of
  // noisy samples, so within 10%)
  CHECK(d == doctest::Approx(1.8466).epsilon(0.1));
}
