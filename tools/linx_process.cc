#include "tools/linx_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace linx::tools {
namespace {

std::string LinxPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                      workspace != nullptr ? workspace : "linx", "/tools/linx");
}

}  // namespace

LinxProcess::LinxProcess(const std::vector<std::string>& args,
                         const char* cwd) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << strerror(errno);
    return;
  }
  std::string path = LinxPath();
  std::vector<char*> argv = {const_cast<char*>(path.c_str())};
  for (const std::string& a : args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    if (cwd != nullptr && ::chdir(cwd) != 0) ::_exit(126);
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  out_.reset(out[0]);
  err_.reset(err[0]);
}

LinxProcess::~LinxProcess() {
  if (pid_ > 0 && status_ < 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool LinxProcess::WaitForStderr(const std::string& what) {
  while (err_text_.find(what) == std::string::npos) {
    if (!Pump(10000)) return false;
  }
  return true;
}

bool LinxProcess::WaitForStdoutLines(size_t n) {
  for (;;) {
    size_t lines = 0;
    for (char c : out_text_) lines += c == '\n';
    if (lines >= n) return true;
    if (!Pump(10000)) return false;
  }
}

int LinxProcess::Finish(int idle_ms) {
  while (Pump(idle_ms)) {
  }
  int st = 0;
  ::waitpid(pid_, &st, 0);
  exited_ = WIFEXITED(st);
  status_ = exited_ ? WEXITSTATUS(st) : 128;
  return status_;
}

bool LinxProcess::Pump(int ms) {
  if (!out_.valid() && !err_.valid()) return false;
  pollfd fds[2] = {{out_.get(), POLLIN, 0}, {err_.get(), POLLIN, 0}};
  int ready;
  do {
    ready = ::poll(fds, 2, ms);
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) return false;
  char buf[4096];
  bool any = false;
  for (int i = 0; i < 2; ++i) {
    if (fds[i].revents == 0) continue;
    UniqueFd& fd = i == 0 ? out_ : err_;
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      fd.reset();
      continue;
    }
    any = true;
    (i == 0 ? out_text_ : err_text_).append(buf, static_cast<size_t>(n));
  }
  return any || out_.valid() || err_.valid();
}

std::ostream& operator<<(std::ostream& os, const LinxResult& r) {
  return os << "exit " << r.exit_code << ", stdout \"" << r.out
            << "\", stderr \"" << r.err << "\"";
}

LinxResult RunLinx(const std::vector<std::string>& args, const char* cwd) {
  LinxProcess p(args, cwd);
  int code = p.Finish(/*idle_ms=*/-1);
  return {p.exited() ? code : -1, p.out(), p.err()};
}

}  // namespace linx::tools
