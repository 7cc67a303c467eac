// Stages only a failing kernel produces, provoked for real: `thread`
// (pthread_create fails) and `unshare` (unshare(CLONE_FS) fails on the
// worker). Root ignores RLIMIT_NPROC and unshare(CLONE_FS) fails only when
// the kernel is out of memory, so each test forks a child that installs a
// seccomp filter failing exactly one syscall with one errno, then calls
// nsexec there and reports what came back through a pipe. Needs no
// privilege (PR_SET_NO_NEW_PRIVS makes the filter an unprivileged one).
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/op_error.h"
#include "gtest/gtest.h"
#include "nsexec/nsexec.h"
#include "nsexec/worker.h"

namespace linx {
namespace {

// Makes syscall `nr` fail with `err` for this process from now on.
bool FailSyscall(long nr, int err) {
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 1),
      BPF_STMT(
          BPF_RET | BPF_K,
          SECCOMP_RET_ERRNO | (static_cast<uint32_t>(err) & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

struct Outcome {
  std::string stage;  // StageName, or "ok", or what went wrong in the child
  int errno_value = 0;
  std::string message;
  bool fn_ran = false;
};

// Forks; the child fails syscall `nr` with `err` and runs `call`, which
// returns the status nsexec gave and sets *fn_ran if the caller's function
// ran. The parent collects the outcome.
Outcome InChildFailing(long nr, int err, absl::Status (*call)(bool* fn_ran)) {
  Outcome out;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    out.stage = absl::StrCat("pipe2: ", std::strerror(errno));
    return out;
  }
  pid_t child = ::fork();
  if (child < 0) {
    out.stage = absl::StrCat("fork: ", std::strerror(errno));
    return out;
  }
  if (child == 0) {
    ::close(p[0]);
    std::string report;
    if (!FailSyscall(nr, err)) {
      report = absl::StrCat("seccomp: ", std::strerror(errno));
    } else {
      bool fn_ran = false;
      absl::Status s = call(&fn_ran);
      std::optional<OpError> e = GetOpError(s);
      report = absl::StrCat(s.ok() ? "ok" : (e ? StageName(e->stage) : "?"),
                            "\n", e ? e->errno_value : 0, "\n", fn_ran ? 1 : 0,
                            "\n", s.message());
    }
    ssize_t ignored = ::write(p[1], report.data(), report.size());
    (void)ignored;
    ::_exit(0);
  }
  ::close(p[1]);
  std::string got;
  char buf[512];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof(buf))) > 0) got.append(buf, n);
  ::close(p[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  std::vector<std::string> parts =
      absl::StrSplit(got, absl::MaxSplits('\n', 3));
  if (parts.size() != 4) {
    out.stage = absl::StrCat("child reported \"", got, "\"");
    return out;
  }
  out.stage = parts[0];
  out.errno_value = std::atoi(parts[1].c_str());
  out.fn_ran = parts[2] == "1";
  out.message = parts[3];
  return out;
}

absl::Status RunInSelf(bool* fn_ran) {
  return RunIn(Namespace::Self(), "bind", [&]() -> absl::Status {
    *fn_ran = true;
    return absl::OkStatus();
  });
}

// Runs in the forked child, whose writes the caller never sees: it reports
// a mount failure instead, so an outcome other than `thread` shows it ran.
StageErrno ReportBusy(void*) { return {Stage::kMount, EBUSY}; }

absl::Status RunInForkedSelf(bool*) {
  return RunInForked(Namespace::Self(), "mount", &ReportBusy, nullptr);
}

// Worker::Start sets its thread up like RunIn and must report the same.
absl::Status WorkerSelf(bool* fn_ran) {
  absl::StatusOr<Worker> w = Worker::Start(Namespace::Self(), "bind");
  if (!w.ok()) return w.status();
  return w->Run("bind", [&]() -> absl::Status {
    *fn_ran = true;
    return absl::OkStatus();
  });
}

struct FaultCase {
  const char* name;
  long syscall_nr;  // failed by the filter...
  int err;          // ...with this errno
  absl::Status (*call)(bool* fn_ran);
  const char* stage;    // what nsexec must report
  const char* message;  // "" when not checked
};

class NsexecFaultTest : public ::testing::TestWithParam<FaultCase> {};

TEST_P(NsexecFaultTest, StageAndErrnoAreReported) {
  const FaultCase& c = GetParam();
  Outcome o = InChildFailing(c.syscall_nr, c.err, c.call);
  EXPECT_EQ(o.stage, c.stage) << o.message;
  EXPECT_EQ(o.errno_value, c.err);
  EXPECT_FALSE(o.fn_ran);
  if (*c.message != '\0') {
    EXPECT_EQ(o.message, c.message);
  }
}

// glibc's pthread_create makes the thread with clone3(2) (falling back to
// clone(2) only on ENOSYS) and returns clone3's EAGAIN as is. RunInForked's
// function runs in a forked copy and cannot set fn_ran; it reports a mount
// failure instead, so any stage but `thread` would show it ran.
INSTANTIATE_TEST_SUITE_P(
    Stages, NsexecFaultTest,
    ::testing::Values(
        FaultCase{"thread", SYS_clone3, EAGAIN, &RunInSelf, "thread",
                  "thread: EAGAIN (Resource temporarily unavailable)"},
        FaultCase{"forked_thread", SYS_clone3, EAGAIN, &RunInForkedSelf,
                  "thread", ""},
        FaultCase{"unshare", SYS_unshare, ENOMEM, &RunInSelf, "unshare",
                  "unshare: ENOMEM (Cannot allocate memory)"},
        FaultCase{"worker_thread", SYS_clone3, EAGAIN, &WorkerSelf, "thread",
                  "thread: EAGAIN (Resource temporarily unavailable)"},
        FaultCase{"worker_unshare", SYS_unshare, ENOMEM, &WorkerSelf, "unshare",
                  "unshare: ENOMEM (Cannot allocate memory)"}),
    [](const ::testing::TestParamInfo<FaultCase>& info) {
      return std::string(info.param.name);
    });

// The check that the filter is what fails the call: with an unrelated
// syscall filtered the same call succeeds and runs the function.
TEST(NsexecFaultControlTest, WithoutTheFailingSyscallTheCallRuns) {
  Outcome o = InChildFailing(SYS_swapon, EPERM, &RunInSelf);
  EXPECT_EQ(o.stage, "ok") << o.message;
  EXPECT_TRUE(o.fn_ran);
  o = InChildFailing(SYS_swapon, EPERM, &WorkerSelf);
  EXPECT_EQ(o.stage, "ok") << o.message;
  EXPECT_TRUE(o.fn_ran);
}

}  // namespace
}  // namespace linx
