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
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/linx_process.h"

namespace linx::tools {
namespace {

using ::linx::testing::MakeScratchDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

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
    LinxProcess plain({"find", d + "/sub", "--backend", backend});
    ASSERT_EQ(plain.Finish(), 0) << plain.err();
    std::vector<std::string> lines = absl::StrSplit(plain.out(), '\n');
    ASSERT_EQ(lines.size(), 3u) << plain.out();
    EXPECT_THAT(lines[0], StartsWith("TARGET"));
    EXPECT_THAT(lines[1], StartsWith(d + " "));
    EXPECT_THAT(lines[1], HasSubstr("find\\040src"));
    LinxProcess json({"find", "--json", d + "/sub", "--backend", backend});
    ASSERT_EQ(json.Finish(), 0) << json.err();
    EXPECT_THAT(json.out(), HasSubstr("\"target\": \"" + d + "\""));
    EXPECT_THAT(json.out(), HasSubstr("\"source\": \"find src\""));
  }
  LinxProcess yes({"find", "--is-mount-point", d});
  ASSERT_EQ(yes.Finish(), 0);
  EXPECT_EQ(yes.out(), "yes\n");
  LinxProcess no({"find", "--is-mount-point", d + "/sub"});
  ASSERT_EQ(no.Finish(), 0);
  EXPECT_EQ(no.out(), "no\n");
}

TEST(FindCommandTest, ErrorsAndUsage) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("finderr");
  LinxProcess missing({"find", d + "/missing"});
  EXPECT_EQ(missing.Finish(), 1);
  EXPECT_THAT(missing.err(), HasSubstr("ENOENT"));
  LinxProcess none({"find"});
  EXPECT_EQ(none.Finish(), 2);
  LinxProcess bad({"find", d, "--backend", "nope"});
  EXPECT_EQ(bad.Finish(), 2);
}

TEST(WatchCommandTest, ReportsMountRemountPropagationUnmountAsJson) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("watch");
  LinxProcess w({"watch", "--json", "--count", "4", "--timeout", "20",
                 "--rescan", "0.2"});
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

// The same four changes through the live table (linx watch --diff), once
// with fanotify mount events and once with the re-list fallback.
class WatchDiffTest : public ::testing::TestWithParam<bool> {};

TEST_P(WatchDiffTest, ReportsMountRemountPropagationUnmountAsJson) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("watchdiff");
  std::vector<std::string> argv = {"watch",   "--diff",   "--json",
                                   "--count", "4",        "--timeout",
                                   "20",      "--rescan", "0.2"};
  if (!GetParam()) argv.push_back("--no-fanotify");
  LinxProcess w(argv);
  ASSERT_TRUE(w.WaitForStderr("watching")) << w.err();
  EXPECT_THAT(w.err(), HasSubstr(GetParam() ? "live table: fanotify+statmount"
                                            : "live table: re-list"));
  ASSERT_EQ(::mount("watched", d.c_str(), "tmpfs", 0, nullptr), 0);
  struct U {
    std::string p;
    ~U() { ::umount2(p.c_str(), MNT_DETACH); }
  } u{d};
  ASSERT_TRUE(w.WaitForStdoutLines(1)) << w.out() << w.err();
  ASSERT_EQ(
      ::mount(nullptr, d.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0);
  ASSERT_TRUE(w.WaitForStdoutLines(2)) << w.out() << w.err();
  // Nothing notifies this one: the sweep (--rescan) finds it.
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
  EXPECT_THAT(lines[1], HasSubstr("\"fs_options\": \"ro"));
  EXPECT_THAT(lines[2], StartsWith("{\"event\": \"changed\""));
  EXPECT_THAT(lines[2], HasSubstr("\"optional_fields\": [\"shared:"));
  EXPECT_THAT(lines[3], StartsWith("{\"event\": \"removed\", \"mount\": {"));
}

INSTANTIATE_TEST_SUITE_P(Modes, WatchDiffTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "events" : "relist");
                         });

// --exact: a remount made in the same window as a mount is reported at
// once; by default it waits for the next sweep (--rescan, 60 s here). The
// watcher is stopped while both changes are made, so they share a window.
TEST(WatchCommandTest, DiffExactReportsARemountBesideAMountAtOnce) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  for (bool exact : {true, false}) {
    SCOPED_TRACE(exact ? "--exact" : "default");
    std::string a = MakeScratchDir(exact ? "exact-a" : "default-a");
    std::string b = MakeScratchDir(exact ? "exact-b" : "default-b");
    ASSERT_EQ(::mount("beside", b.c_str(), "tmpfs", 0, nullptr), 0);
    struct U {
      std::vector<std::string> p;
      ~U() {
        for (const std::string& d : p) ::umount2(d.c_str(), MNT_DETACH);
      }
    } u{{a, b}};
    std::vector<std::string> argv = {"watch",   "--diff",   "--json",
                                     "--count", "2",        "--timeout",
                                     "4",       "--rescan", "60"};
    if (exact) argv.push_back("--exact");
    LinxProcess w(argv);
    ASSERT_TRUE(w.WaitForStderr("watching")) << w.err();
    ASSERT_EQ(::kill(w.pid(), SIGSTOP), 0);
    int st = 0;
    ASSERT_EQ(::waitpid(w.pid(), &st, WUNTRACED), w.pid());
    ASSERT_TRUE(WIFSTOPPED(st));
    ASSERT_EQ(::mount("added", a.c_str(), "tmpfs", 0, nullptr), 0);
    ASSERT_EQ(::mount(nullptr, b.c_str(), nullptr,
                      MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr),
              0);
    ASSERT_EQ(::kill(w.pid(), SIGCONT), 0);
    int code = w.Finish();
    std::vector<std::string> lines =
        absl::StrSplit(w.out(), '\n', absl::SkipEmpty());
    if (exact) {
      EXPECT_EQ(code, 0) << w.err();
      ASSERT_EQ(lines.size(), 2u) << w.out();
      EXPECT_THAT(w.out(), HasSubstr("\"source\": \"added\""));
      EXPECT_THAT(w.out(), HasSubstr("{\"event\": \"changed\""));
    } else {
      EXPECT_EQ(code, 1) << w.err();  // --count not reached in 4 s
      ASSERT_EQ(lines.size(), 1u) << w.out();
      EXPECT_THAT(lines[0], StartsWith("{\"event\": \"added\""));
    }
  }
}

TEST(WatchCommandTest, ExactNeedsDiff) {
  LinxProcess bad({"watch", "--exact"});
  EXPECT_EQ(bad.Finish(), 2);
  EXPECT_THAT(bad.err(), HasSubstr("--exact applies to --diff"));
}

TEST(WatchCommandTest, DiffRefusesBackend) {
  LinxProcess bad({"watch", "--diff", "--backend", "text"});
  EXPECT_EQ(bad.Finish(), 2);
  EXPECT_THAT(bad.err(), HasSubstr("--backend does not apply to --diff"));
}

TEST(WatchCommandTest, LinesAndTimeout) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("watchlines");
  LinxProcess w({"watch", "--count", "1", "--timeout", "20", "--no-fanotify"});
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
  LinxProcess idle({"watch", "--count", "1", "--timeout", "0.3"});
  EXPECT_EQ(idle.Finish(), 1);
  EXPECT_THAT(idle.err(), HasSubstr("timed out after 0 of 1 changes"));
  LinxProcess idle0({"watch", "--timeout", "0.2"});
  EXPECT_EQ(idle0.Finish(), 0);
  LinxProcess bad({"watch", "--count", "0"});
  EXPECT_EQ(bad.Finish(), 2);
}

}  // namespace
}  // namespace linx::tools
