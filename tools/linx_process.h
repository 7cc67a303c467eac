// Test-only: the real //tools:linx binary as a child process, for the CLI's
// end-to-end tests. Tests list ":linx" in `data`; the binary is found in the
// runfiles ($TEST_SRCDIR/$TEST_WORKSPACE/tools/linx).
//
//   LinxResult r = RunLinx({"umount", dir});
//   EXPECT_EQ(r.exit_code, 1) << r;
//
//   LinxProcess w({"watch", "--count", "1"});  // a long-running command
//   ASSERT_TRUE(w.WaitForStderr("watching"));
//   ... change the table ...
//   ASSERT_EQ(w.Finish(), 0) << w.err();
#ifndef LINX_TOOLS_LINX_PROCESS_H_
#define LINX_TOOLS_LINX_PROCESS_H_

#include <sys/types.h>

#include <ostream>
#include <string>
#include <vector>

#include "base/unique_fd.h"

namespace linx::tools {

// A running `linx ARGS...` with its stdout and stderr on pipes.
class LinxProcess {
 public:
  // Runs in `cwd` when given.
  explicit LinxProcess(const std::vector<std::string>& args,
                       const char* cwd = nullptr);
  LinxProcess(const LinxProcess&) = delete;
  LinxProcess& operator=(const LinxProcess&) = delete;
  // Kills and reaps the process if Finish was not called.
  ~LinxProcess();

  // Reads until stderr contains `what` (false at EOF or after 10 s without
  // output).
  bool WaitForStderr(const std::string& what);
  // Reads until stdout holds `n` lines (false at EOF or after 10 s without
  // output).
  bool WaitForStdoutLines(size_t n);
  // Reads both pipes to EOF (giving up after `idle_ms` without output; -1:
  // never), reaps the process and returns its exit code, 128 if it did not
  // exit normally.
  int Finish(int idle_ms = 20000);
  // Whether the process, once reaped, exited normally.
  bool exited() const { return exited_; }
  // Its pid (to stop and continue it in a test).
  pid_t pid() const { return pid_; }

  const std::string& out() const { return out_text_; }
  const std::string& err() const { return err_text_; }

 private:
  // One poll round; false at EOF on both pipes or on timeout.
  bool Pump(int ms);

  pid_t pid_ = -1;
  int status_ = -1;
  bool exited_ = false;
  UniqueFd out_, err_;
  std::string out_text_, err_text_;
};

struct LinxResult {
  int exit_code = -1;  // -1: did not exit normally
  std::string out;
  std::string err;
};

std::ostream& operator<<(std::ostream& os, const LinxResult& r);

// Runs `linx args...` (in `cwd` when given) to completion and collects its
// output.
LinxResult RunLinx(const std::vector<std::string>& args,
                   const char* cwd = nullptr);

}  // namespace linx::tools

#endif  // LINX_TOOLS_LINX_PROCESS_H_
