// End-to-end tests of `linx find` and `linx watch`: the real //tools:linx
// runs as a child process inside this test's private mount namespace.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/testing/privileged.h"
#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linx::tools {
namespace {

using ::linx::testing::MakeScratchDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string LinxPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                      workspace != nullptr ? workspace : "linx", "/tools/linx");
}

// A running `linx ARGS...` with its stdout and stderr on pipes.
class Linx {
 public:
  explicit Linx(const std::vector<std::string>& args) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2: " << strerror(errno);
      return;
    }
    std::string path = LinxPath();
    std::vector<char*> argv = {const_cast<char*>(path.c_str())};
    for (const std::string& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::execv(path.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_.reset(out[0]);
    err_.reset(err[0]);
  }
  ~Linx() {
    if (pid_ > 0 && status_ < 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  // Reads until stderr contains `what` (or EOF / 10 s).
  bool WaitForStderr(const std::string& what) {
    while (err_text_.find(what) == std::string::npos) {
      if (!Pump(10000)) return false;
    }
    return true;
  }
  // Reads until stdout holds `n` lines (or EOF / 10 s without output).
  bool WaitForStdoutLines(size_t n) {
    for (;;) {
      size_t lines = 0;
      for (char c : out_text_) lines += c == '\n';
      if (lines >= n) return true;
      if (!Pump(10000)) return false;
    }
  }
  // Reads everything and reaps; returns the exit code.
  int Finish() {
    while (Pump(20000)) {
    }
    int st = 0;
    ::waitpid(pid_, &st, 0);
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    return status_;
  }
  const std::string& out() const { return out_text_; }
  const std::string& err() const { return err_text_; }

 private:
  // One poll round; false at EOF on both pipes or on timeout.
  bool Pump(int ms) {
    pollfd fds[2] = {{out_.get(), POLLIN, 0}, {err_.get(), POLLIN, 0}};
    if (!out_.valid() && !err_.valid()) return false;
    if (::poll(fds, 2, ms) <= 0) return false;
    char buf[4096];
    bool any = false;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      UniqueFd& fd = i == 0 ? out_ : err_;
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n <= 0) {
        fd.reset();
        continue;
      }
      any = true;
      (i == 0 ? out_text_ : err_text_).append(buf, static_cast<size_t>(n));
    }
    return any || out_.valid() || err_.valid();
  }
  pid_t pid_ = -1;
  int status_ = -1;
  UniqueFd out_, err_;
  std::string out_text_, err_text_;
};

TEST(FindCommandTest, PrintsTheContainingMount) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("find");
  ASSERT_EQ(::mount("find src", d.c_str(), "tmpfs", 0, nullptr), 0);
  struct U {
    std::string p;
    ~U() { ::umount2(p.c_str(), MNT_DETACH); }
  } u{d};
  ASSERT_EQ(::mkdir((d + "/sub").c_str(), 0755), 0);
  for (const char* backend : {"auto", "text"}) {
    SCOPED_TRACE(backend);
    Linx plain({"find", d + "/sub", "--backend", backend});
    ASSERT_EQ(plain.Finish(), 0) << plain.err();
    std::vector<std::string> lines = absl::StrSplit(plain.out(), '\n');
    ASSERT_EQ(lines.size(), 3u) << plain.out();
    EXPECT_THAT(lines[0], StartsWith("TARGET"));
    EXPECT_THAT(lines[1], StartsWith(d + " "));
    EXPECT_THAT(lines[1], HasSubstr("find\\040src"));
    Linx json({"find", "--json", d + "/sub", "--backend", backend});
    ASSERT_EQ(json.Finish(), 0) << json.err();
    EXPECT_THAT(json.out(), HasSubstr("\"target\": \"" + d + "\""));
    EXPECT_THAT(json.out(), HasSubstr("\"source\": \"find src\""));
  }
  Linx yes({"find", "--is-mount-point", d});
  ASSERT_EQ(yes.Finish(), 0);
  EXPECT_EQ(yes.out(), "yes\n");
  Linx no({"find", "--is-mount-point", d + "/sub"});
  ASSERT_EQ(no.Finish(), 0);
  EXPECT_EQ(no.out(), "no\n");
}

TEST(FindCommandTest, ErrorsAndUsage) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("finderr");
  Linx missing({"find", d + "/missing"});
  EXPECT_EQ(missing.Finish(), 1);
  EXPECT_THAT(missing.err(), HasSubstr("ENOENT"));
  Linx none({"find"});
  EXPECT_EQ(none.Finish(), 2);
  Linx bad({"find", d, "--backend", "nope"});
  EXPECT_EQ(bad.Finish(), 2);
}

TEST(WatchCommandTest, ReportsMountRemountPropagationUnmountAsJson) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("watch");
  Linx w({"watch", "--json", "--count", "4", "--timeout", "20", "--rescan",
          "0.2"});
  ASSERT_TRUE(w.WaitForStderr("watching")) << w.err();
  ASSERT_EQ(::mount("watched", d.c_str(), "tmpfs", 0, nullptr), 0);
  struct U {
    std::string p;
    ~U() { ::umount2(p.c_str(), MNT_DETACH); }
  } u{d};
  // Each step waits for the previous line, so each lands in its own
  // snapshot.
  ASSERT_TRUE(w.WaitForStdoutLines(1)) << w.out() << w.err();
  ASSERT_EQ(
      ::mount(nullptr, d.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0);
  ASSERT_TRUE(w.WaitForStdoutLines(2)) << w.out() << w.err();
  ASSERT_EQ(::mount(nullptr, d.c_str(), nullptr, MS_SHARED, nullptr), 0);
  ASSERT_TRUE(w.WaitForStdoutLines(3)) << w.out() << w.err();
  ASSERT_EQ(::umount2(d.c_str(), 0), 0);
  ASSERT_EQ(w.Finish(), 0) << w.err();
  std::vector<std::string> lines =
      absl::StrSplit(w.out(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u) << w.out();
  EXPECT_THAT(lines[0], StartsWith("{\"event\": \"added\", \"mount\": {"));
  EXPECT_THAT(lines[0], HasSubstr("\"source\": \"watched\""));
  EXPECT_THAT(lines[1], StartsWith("{\"event\": \"changed\", \"before\": {"));
  EXPECT_THAT(lines[1], HasSubstr("\"vfs_options\": \"ro"));
  EXPECT_THAT(lines[2], StartsWith("{\"event\": \"changed\""));
  EXPECT_THAT(lines[2], HasSubstr("\"optional_fields\": [\"shared:"));
  EXPECT_THAT(lines[3], StartsWith("{\"event\": \"removed\", \"mount\": {"));
}

TEST(WatchCommandTest, LinesAndTimeout) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("watchlines");
  Linx w({"watch", "--count", "1", "--timeout", "20", "--no-fanotify"});
  ASSERT_TRUE(w.WaitForStderr("watching")) << w.err();
  ASSERT_EQ(::mount("lines", d.c_str(), "tmpfs", 0, nullptr), 0);
  struct U {
    std::string p;
    ~U() { ::umount2(p.c_str(), MNT_DETACH); }
  } u{d};
  ASSERT_EQ(w.Finish(), 0) << w.err();
  EXPECT_THAT(w.out(), StartsWith("added "));
  EXPECT_THAT(w.out(), HasSubstr(" " + d + " tmpfs lines rw"));

  // Nothing happens: --timeout ends it; with --count unmet that is exit 1.
  Linx idle({"watch", "--count", "1", "--timeout", "0.3"});
  EXPECT_EQ(idle.Finish(), 1);
  EXPECT_THAT(idle.err(), HasSubstr("timed out after 0 of 1 changes"));
  Linx idle0({"watch", "--timeout", "0.2"});
  EXPECT_EQ(idle0.Finish(), 0);
  Linx bad({"watch", "--count", "0"});
  EXPECT_EQ(bad.Finish(), 2);
}

}  // namespace
}  // namespace linx::tools
