// The vmtest guest runner: /init of the vmtest initramfs.
//
// Guest mode is chosen explicitly: the host runner puts `--vm-guest` on the
// kernel command line after " -- ", and the kernel hands it to /init as
// argv[1]. Without it (e.g. someone runs the binary on a workstation, or
// under `unshare --fork` where it would also be PID 1) the runner refuses to
// touch any mount.
//
//   /init --vm-guest [--shell] [--fail-demo] [scenario ...]
//
// As PID 1 it mounts proc/sys/devtmpfs, loads /modules/overlay.ko, runs the
// boot-stage scenario (pivot_root from rootfs, then switch_root), runs every
// selected scenario in a forked child (private mount namespace, tmpfs on
// /scratch, alarm(2) watchdog), prints one line per scenario and a summary:
//
//   @@LINX-PLAN a b c
//   @@LINX a PASS reason="" elapsed_ms=12
//   @@LINX-DONE pass=3 fail=0 skip=0
//
// and powers off through QEMU's isa-debug-exit device (port 0xf4: QEMU exits
// with 1 for "all passed", 3 for "something failed"), falling back to
// reboot(RB_POWER_OFF) when the device is absent.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "vmtest/guest/boot_stage.h"
#include "vmtest/guest/harness.h"

namespace linx::vmtest {
namespace {

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

std::string Quote(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

struct Tally {
  int pass = 0, fail = 0, skip = 0;
};

void Report(Tally& tally, absl::string_view name, char outcome,
            absl::string_view reason, int64_t elapsed_ms) {
  const char* word = outcome == 'P' ? "PASS" : outcome == 'S' ? "SKIP" : "FAIL";
  if (outcome == 'P')
    ++tally.pass;
  else if (outcome == 'S')
    ++tally.skip;
  else
    ++tally.fail;
  std::printf("@@LINX %s %s reason=\"%s\" elapsed_ms=%lld\n",
              std::string(name).c_str(), word, Quote(reason).c_str(),
              static_cast<long long>(elapsed_ms));
  std::fflush(stdout);
}

// Kills every process but PID 1 (kernel threads ignore the signal) and
// reaps them, so nothing a scenario left behind affects the next one.
void KillStragglers() {
  ::kill(-1, SIGKILL);
  while (true) {
    pid_t p = ::waitpid(-1, nullptr, 0);
    if (p < 0 && errno != EINTR) break;
  }
}

// Runs one scenario in a forked child; returns nothing, reports the line.
void RunScenario(const Scenario& s, Tally& tally) {
  int fds[2];
  int64_t t0 = NowMs();
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    Report(tally, s.name, 'F', "harness: pipe2 failed", 0);
    return;
  }
  std::fflush(stdout);
  pid_t pid = ::fork();
  if (pid < 0) {
    Report(tally, s.name, 'F', "harness: fork failed", 0);
    return;
  }
  if (pid == 0) {
    ::close(fds[0]);
    ::alarm(s.timeout_s);
    absl::Status st;
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("scratch", "/scratch", "tmpfs", 0, "mode=0755") != 0 ||
        ::chdir("/scratch") != 0) {
      int e = errno;
      st =
          Failure(absl::StrCat("harness: private namespace + tmpfs on "
                               "/scratch: ",
                               ErrnoDescription(e)));
    } else {
      st = s.fn();
    }
    char outcome = st.ok() ? 'P' : IsSkip(st) ? 'S' : 'F';
    std::string reason(st.message());
    if (!Notes().empty()) {
      reason =
          reason.empty() ? Notes() : absl::StrCat(reason, " [", Notes(), "]");
    }
    std::string msg = absl::StrCat(std::string(1, outcome), reason);
    (void)!::write(fds[1], msg.data(), msg.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  int64_t elapsed = NowMs() - t0;
  // Grandchildren may still hold the pipe open; the child wrote before exit.
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  char buf[4096];
  ssize_t n = ::read(fds[0], buf, sizeof buf);
  ::close(fds[0]);
  if (WIFSIGNALED(st)) {
    std::string reason =
        WTERMSIG(st) == SIGALRM
            ? absl::StrCat("watchdog: no result after ", s.timeout_s,
                           " s (scenario hung)")
            : absl::StrCat("scenario process killed by signal ", WTERMSIG(st),
                           " (", strsignal(WTERMSIG(st)), ")");
    Report(tally, s.name, 'F', reason, elapsed);
  } else if (n <= 0) {
    Report(tally, s.name, 'F',
           absl::StrCat("scenario process exited (status ", WEXITSTATUS(st),
                        ") without a result"),
           elapsed);
  } else {
    Report(tally, s.name, buf[0], absl::string_view(buf + 1, n - 1), elapsed);
  }
  KillStragglers();
}

void RunBootStage(Tally& tally) {
  int64_t t0 = NowMs();
  std::string note_a, note_b;
  absl::Status a = PivotRootOnRootfsIsRefused(&note_a);
  absl::Status sr = SwitchRoot("/newroot");
  absl::Status b =
      sr.ok() ? PivotRootAfterSwitchRootWorks(&note_b) : absl::OkStatus();
  KillStragglers();
  int64_t elapsed = NowMs() - t0;
  if (!a.ok()) {
    Report(tally, kBootScenarioName, 'F',
           absl::StrCat("on rootfs: ", a.message()), elapsed);
  } else if (!sr.ok()) {
    Report(tally, kBootScenarioName, 'F',
           absl::StrCat("switch_root: ", sr.message()), elapsed);
  } else if (!b.ok()) {
    Report(tally, kBootScenarioName, 'F',
           absl::StrCat("after switch_root: ", b.message()), elapsed);
  } else {
    Report(
        tally, kBootScenarioName, 'P',
        absl::StrCat(note_a, "; switch_root (MS_MOVE + chroot) ok; ", note_b),
        elapsed);
  }
}

[[noreturn]] void PowerOff(bool all_passed) {
  std::fflush(stdout);
  std::fflush(stderr);
  ::tcdrain(1);
  if (::ioperm(0xf4, 1, 1) == 0) {
    outb(all_passed ? 0 : 1, 0xf4);  // QEMU exits with (code << 1) | 1
  }
  ::sync();
  ::reboot(RB_POWER_OFF);
  while (true) ::pause();
}

void Mount(const char* src, const char* target, const char* fstype) {
  ::mkdir(target, 0755);
  if (::mount(src, target, fstype, MS_NOSUID | MS_NOEXEC, nullptr) != 0 &&
      errno != EBUSY) {
    std::printf("@@LINX-INFO mount %s on %s failed: %s\n", fstype, target,
                ErrnoDescription(errno).c_str());
  }
}

void RunShell() {
  std::printf(
      "@@LINX-INFO debug shell (busybox) on the console; exit to power off\n");
  std::fflush(stdout);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    ::setenv("PATH", "/bin", 1);
    ::setenv("PS1", "vmtest# ", 1);
    pid_t inst = ::fork();
    if (inst == 0) {
      ::execl("/bin/busybox", "busybox", "--install", "-s", "/bin", nullptr);
      ::_exit(127);
    }
    ::waitpid(inst, nullptr, 0);
    ::execl("/bin/busybox", "cttyhack", "/bin/sh", nullptr);
    ::_exit(127);
  }
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

int GuestMain(const std::vector<std::string>& args) {
  bool shell = false, fail_demo = false;
  std::vector<std::string> names;
  for (const std::string& a : args) {
    if (a == "--shell")
      shell = true;
    else if (a == "--fail-demo")
      fail_demo = true;
    else if (a != "--vm-guest")
      names.push_back(a);
  }
  Mount("proc", "/proc", "proc");
  Mount("sysfs", "/sys", "sysfs");
  ::mkdir("/dev", 0755);
  ::mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  if (::fcntl(1, F_GETFD) < 0) {
    int fd = ::open("/dev/console", O_RDWR);
    if (fd >= 0) {
      ::dup2(fd, 0);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  ::mkdir("/scratch", 0755);
  ::mkdir("/tmp", 01777);

  struct utsname u;
  ::uname(&u);
  std::string overlay = "loaded";
  int ko = ::open("/modules/overlay.ko", O_RDONLY | O_CLOEXEC);
  if (ko < 0) {
    overlay = "absent";
  } else {
    if (::syscall(SYS_finit_module, ko, "", 0) != 0 && errno != EEXIST) {
      overlay = absl::StrCat("finit_module:", ErrnoName(errno));
    }
    ::close(ko);
  }
  std::string uptime = "?";
  if (auto up = ReadFile("/proc/uptime"); up.ok()) {
    uptime = up->substr(0, up->find(' '));
  }
  std::printf("@@LINX-KERNEL release=%s overlay=%s uptime_s=%s\n", u.release,
              overlay.c_str(), uptime.c_str());

  std::vector<Scenario> plan;
  for (const Scenario& s : AllScenarios()) {
    bool named = false;
    for (const std::string& n : names) named |= (n == s.name);
    if (names.empty() ? (!s.on_request_only || fail_demo)
                      : (named || (fail_demo && s.on_request_only))) {
      plan.push_back(s);
    }
  }
  for (const std::string& n : names) {
    bool known = n == kBootScenarioName;
    for (const Scenario& s : AllScenarios()) known |= (n == s.name);
    if (!known) std::printf("@@LINX-INFO unknown scenario %s\n", n.c_str());
  }
  std::vector<std::string> plan_names = {kBootScenarioName};
  for (const Scenario& s : plan) plan_names.push_back(s.name);
  std::printf("@@LINX-PLAN %s\n", absl::StrJoin(plan_names, " ").c_str());

  Tally tally;
  RunBootStage(tally);
  if (shell) {
    RunShell();
    PowerOff(true);
  }
  for (const Scenario& s : plan) RunScenario(s, tally);
  std::printf("@@LINX-DONE pass=%d fail=%d skip=%d\n", tally.pass, tally.fail,
              tally.skip);
  PowerOff(tally.fail == 0);
}

}  // namespace
}  // namespace linx::vmtest

namespace {
constexpr long kRamfsMagic = 0x858458f6;
constexpr long kTmpfsMagic = 0x01021994;
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  bool vm_guest = false, list = false;
  for (const std::string& a : args) {
    vm_guest |= (a == "--vm-guest");
    list |= (a == "--list");
  }
  if (list) {
    std::printf("%s (boot stage)\n", linx::vmtest::kBootScenarioName);
    for (const auto& s : linx::vmtest::AllScenarios()) {
      std::printf("%s%s: %s\n", s.name,
                  s.on_request_only ? " (on request)" : "", s.description);
    }
    return 0;
  }
  if (!vm_guest) {
    std::fprintf(stderr,
                 "vmtest guest runner: runs only as /init of a vmtest VM, "
                 "selected by --vm-guest on the kernel command line "
                 "(use --list to see the scenarios)\n");
    return 2;
  }
  // Safety belts, not the selector: guest mode creates directories in "/",
  // moves mounts and pokes an I/O port. Refuse unless we are PID 1 on an
  // initramfs root (rootfs is ramfs or tmpfs; a host's "/" is not), so that
  // `unshare -pfm guest_runner --vm-guest` on a workstation does nothing.
  struct statfs root_fs;
  if (::getpid() != 1 || ::statfs("/", &root_fs) != 0 ||
      (root_fs.f_type != kRamfsMagic && root_fs.f_type != kTmpfsMagic)) {
    std::fprintf(stderr,
                 "vmtest guest runner: --vm-guest needs PID 1 on an "
                 "initramfs root; refusing\n");
    return 2;
  }
  return linx::vmtest::GuestMain(args);
}
