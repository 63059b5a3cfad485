// Starting a program as a child process that a test can watch, signal (SIGINT, SIGTERM,
// SIGKILL) and reap: for tests of what a kill or a Ctrl-C leaves behind. No shell in
// between, so a signal reaches the program itself.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/cli.hpp"

namespace ranvier::test {

// How a child ended: exactly one of exited / signalled is true once it has ended.
struct ChildStatus {
  bool exited = false;     // returned from main or called exit()
  int exit_code = -1;      // valid when exited
  bool signalled = false;  // killed by a signal
  int signal = 0;          // valid when signalled
};

// What a child gets besides its arguments.
struct ChildOptions {
  // "NAME=value" entries added to (or replacing in) the test's own environment, e.g.
  // "RANVIER_PROGRESS_DELAY=0" for a progress line at once.
  std::vector<std::string> env;
  // RLIMIT_FSIZE in bytes (< 0: unchanged): a write past it fails with EFBIG, as on a full
  // disk. SIGXFSZ is then ignored in the child, so the write fails instead of killing it.
  long long file_size_limit = -1;
};

class ChildProcess {
 public:
  // Starts `program` with `args` (argv[1..]) in `cwd`, stdin from /dev/null, stdout and
  // stderr into files beside `cwd` (`<cwd>.stdout`, `<cwd>.stderr`, so a test can count
  // the files the program left in `cwd`); read them with out() and err().
  ChildProcess(const std::string& program, const std::vector<std::string>& args,
               const std::filesystem::path& cwd, const ChildOptions& options = {})
      : out_path_(beside(cwd, ".stdout")), err_path_(beside(cwd, ".stderr")) {
    std::vector<std::string> words;
    words.push_back(program);
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    // The environment is built before fork: the child may only make async-signal-safe calls.
    std::vector<std::string> env_words;
    for (char** e = environ; *e; ++e) {
      const std::string entry(*e);
      const std::string name = entry.substr(0, entry.find('='));
      bool replaced = false;
      for (const auto& o : options.env) replaced |= o.substr(0, o.find('=')) == name;
      if (!replaced) env_words.push_back(entry);
    }
    env_words.insert(env_words.end(), options.env.begin(), options.env.end());
    std::vector<char*> envp;
    for (auto& w : env_words) envp.push_back(w.data());
    envp.push_back(nullptr);
    const long long fsize = options.file_size_limit;
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // Child: only async-signal-safe calls until exec.
      if (::chdir(cwd.c_str()) != 0) ::_exit(127);
      const int in = ::open("/dev/null", O_RDONLY);
      const int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (in < 0 || out < 0 || err < 0) ::_exit(127);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(err, 2);
      if (fsize >= 0) {
        struct rlimit lim;
        lim.rlim_cur = lim.rlim_max = static_cast<rlim_t>(fsize);
        ::signal(SIGXFSZ, SIG_IGN);  // kept across exec: writes fail with EFBIG instead
        if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(127);
      }
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // A test that fails half-way never leaves a running child behind.
  ~ChildProcess() {
    if (!ended()) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
  }

  pid_t pid() const { return pid_; }

  // Sends `sig` to the child (no-op once it has been reaped).
  void send(int sig) {
    if (!reaped_) ::kill(pid_, sig);
  }

  // True once the child has ended (reaps it without blocking).
  bool ended() {
    if (reaped_) return true;
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) record(st);
    return reaped_;
  }

  // Polls `condition` every few milliseconds until it holds (true), the child ends or
  // `timeout` passes (false). For "wait until training has started an epoch".
  bool wait_until(const std::function<bool()>& condition, std::chrono::duration<double> timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (condition()) return true;
      if (ended()) return condition();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  // Waits for the child to end; after `timeout` it is killed (SIGKILL) and reaped, and
  // the status says so (signalled with SIGKILL).
  ChildStatus wait(std::chrono::duration<double> timeout) {
    if (!wait_until([this] { return ended(); }, timeout)) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
      record(st);
    }
    return status_;
  }

  std::string out() const { return slurp(out_path_); }
  std::string err() const { return slurp(err_path_); }

 private:
  static std::filesystem::path beside(std::filesystem::path dir, const std::string& suffix) {
    if (!dir.has_filename()) dir = dir.parent_path();  // "a/b/" -> "a/b"
    return dir.string() + suffix;
  }

  void record(int st) {
    reaped_ = true;
    if (WIFEXITED(st)) {
      status_.exited = true;
      status_.exit_code = WEXITSTATUS(st);
    } else if (WIFSIGNALED(st)) {
      status_.signalled = true;
      status_.signal = WTERMSIG(st);
    }
  }

  pid_t pid_ = -1;
  bool reaped_ = false;
  ChildStatus status_;
  std::filesystem::path out_path_, err_path_;
};

// `ranvier <args>` as a child process in `cwd` (args are separate words, not shell text).
inline std::unique_ptr<ChildProcess> start_ranvier(const std::vector<std::string>& args,
                                                   const std::filesystem::path& cwd,
                                                   const ChildOptions& options = {}) {
  return std::make_unique<ChildProcess>(RANVIER_EXE, args, cwd, options);
}

}  // namespace ranvier::test
