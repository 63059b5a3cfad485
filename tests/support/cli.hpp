// Running the `ranvier` program from a test, as a user would, and reading what it
// printed and returned.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ranvier::test {

struct ProgramResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A fresh, empty directory for one test case.
inline std::filesystem::path scratch(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(RANVIER_TEST_SCRATCH) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Runs `ranvier <args>` through the shell in `cwd` (args are shell words: quote them).
inline ProgramResult run_ranvier(const std::string& args, const std::filesystem::path& cwd) {
  const auto out = cwd / ".stdout", err = cwd / ".stderr";
  const std::string cmd = "cd '" + cwd.string() + "' && '" + RANVIER_EXE + "' " + args + " >'" +
                          out.string() + "' 2>'" + err.string() + "' </dev/null";
  const int status = std::system(cmd.c_str());
  ProgramResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

inline std::string source_path(const std::string& relative) {
  return std::string(RANVIER_SOURCE_DIR) + "/" + relative;
}

// Files in `dir` other than the test's own capture files: no stray temporaries.
inline int count_files(const std::filesystem::path& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) ++n;
  return n;
}

// A command line run from the source directory with stdout and stderr together:
// `ranvier <args>`, unless `args` starts with another program under /usr/bin/ (a plot
// script), which runs as written.
struct CombinedResult {
  int code = -1;
  std::string out;  // stdout and stderr together
};

inline CombinedResult run_in_source_dir(const std::string& args) {
  const bool program = args.rfind("/usr/bin/", 0) != 0;
  const std::string cmd = std::string("cd ") + RANVIER_SOURCE_DIR + " && " +
                          (program ? std::string(RANVIER_EXE) + " " : std::string()) + args +
                          " 2>&1";
  CombinedResult r;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) r.out += buf;
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace ranvier::test
