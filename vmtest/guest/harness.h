// The vmtest guest harness: a scenario registry, check macros, and the
// process/namespace helpers the scenarios share.
//
// A scenario is a function returning absl::Status. The runner (guest_main.cc)
// runs each one in a forked child that has its own private mount namespace,
// a fresh tmpfs on /scratch and an alarm(2) watchdog, and prints
//
//   @@LINX <name> PASS|FAIL|SKIP reason="..." elapsed_ms=N
//
//   LINX_VM_SCENARIO(umount_busy, 6, "busy umount fails with EBUSY") {
//     VM_SYS(::mount("tmpfs", "/scratch/a", "tmpfs", 0, nullptr));
//     VM_EXPECT_ERRNO(::umount2("/scratch", 0), EBUSY);
//     return absl::OkStatus();
//   }
#ifndef LINX_VMTEST_GUEST_HARNESS_H_
#define LINX_VMTEST_GUEST_HARNESS_H_

#include <sys/types.h>

#include <cerrno>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/status.h"
#include "base/unique_fd.h"
#include "mountinfo/mountinfo.h"
#include "nsexec/nsexec.h"

namespace linx::vmtest {

using ScenarioFn = absl::Status (*)();

struct Scenario {
  const char* name;
  int issue_number;  // the scenario's number in issue 5 (ordering)
  const char* description;
  ScenarioFn fn;
  int timeout_s = 60;
  bool on_request_only = false;  // harness self-test scenarios
};

// All registered scenarios, ordered by issue number, then name.
std::vector<Scenario> AllScenarios();

struct Registrar {
  explicit Registrar(const Scenario& s);
};

#define LINX_VM_SCENARIO_IMPL_(fn_name, number, desc, timeout, demo)      \
  static absl::Status fn_name();                                          \
  static ::linx::vmtest::Registrar fn_name##_registrar(                   \
      ::linx::vmtest::Scenario{#fn_name, number, desc, &fn_name, timeout, \
                               demo});                                    \
  static absl::Status fn_name()

#define LINX_VM_SCENARIO(fn_name, number, desc) \
  LINX_VM_SCENARIO_IMPL_(fn_name, number, desc, 60, false)
// Runs only when named on the kernel command line (or with --fail-demo).
#define LINX_VM_DEMO_SCENARIO(fn_name, desc, timeout) \
  LINX_VM_SCENARIO_IMPL_(fn_name, 99, desc, timeout, true)

// A status meaning "not applicable on this kernel": reported as SKIP.
absl::Status Skip(absl::string_view reason);
bool IsSkip(const absl::Status& status);

// A failed expectation: kInternal with the message.
absl::Status Failure(absl::string_view message);

// Adds a note to the scenario's result line (reason="..."), also on PASS, to
// show what the kernel did (e.g. the errno a refused call gave).
void Note(absl::string_view note);
// The notes so far, joined with "; ".
const std::string& Notes();

}  // namespace linx::vmtest

// Fails the scenario with errno's name if `expr` returns a negative value.
#define VM_SYS(expr)                                                 \
  do {                                                               \
    if ((expr) < 0) {                                                \
      int vm_errno_ = errno;                                         \
      return ::linx::vmtest::Failure(absl::StrCat(                   \
          #expr, " failed: ", ::linx::ErrnoDescription(vm_errno_))); \
    }                                                                \
  } while (0)

// Fails the scenario unless `expr` returns -1 with errno == `err`.
#define VM_EXPECT_ERRNO(expr, err)                                       \
  do {                                                                   \
    errno = 0;                                                           \
    long vm_rc_ = static_cast<long>(expr);                               \
    int vm_errno_ = errno;                                               \
    if (vm_rc_ != -1 || vm_errno_ != (err)) {                            \
      return ::linx::vmtest::Failure(absl::StrCat(                       \
          #expr, ": want ", ::linx::ErrnoName(err), ", got rc=", vm_rc_, \
          vm_rc_ == -1 ? absl::StrCat(" ", ::linx::ErrnoName(vm_errno_)) \
                       : std::string()));                                \
    }                                                                    \
  } while (0)

// Fails the scenario unless `cond` holds; the rest is the message.
#define VM_EXPECT(cond, ...)                                    \
  do {                                                          \
    if (!(cond)) {                                              \
      return ::linx::vmtest::Failure(                           \
          absl::StrCat("expected ", #cond, ": ", __VA_ARGS__)); \
    }                                                           \
  } while (0)

#define VM_RETURN_IF_ERROR(expr, context)                                \
  do {                                                                   \
    absl::Status vm_s_ = (expr);                                         \
    if (!vm_s_.ok())                                                     \
      return absl::Status(vm_s_.code(),                                  \
                          absl::StrCat(context, ": ", vm_s_.message())); \
  } while (0)

namespace linx::vmtest {

// --- files -----------------------------------------------------------------

absl::Status WriteFile(const std::string& path, absl::string_view content);
absl::StatusOr<std::string> ReadFile(const std::string& path);
// mkdir -p with mode 0755.
absl::Status MakeDirs(const std::string& path);
bool Exists(const std::string& path);

// --- a child process talking over a SOCK_SEQPACKET pair ----------------------

// One end of a message channel between a scenario and its child.
class Channel {
 public:
  Channel() = default;
  explicit Channel(UniqueFd fd) : fd_(std::move(fd)) {}
  absl::Status Send(absl::string_view message) const;
  // Blocks for the next message; an error if the other side closed.
  absl::StatusOr<std::string> Recv() const;
  // Recv() and check it equals `want`.
  absl::Status Expect(absl::string_view want) const;
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
};

// A child made with clone(2) (so it can start in new namespaces), which runs
// `body` with its end of a channel and reports body's status when it ends.
// The destructor SIGKILLs and reaps a child that is still around.
class Child {
 public:
  using Body = std::function<absl::Status(const Channel&)>;

  // `clone_flags`: CLONE_NEW* flags (SIGCHLD is added).
  static absl::StatusOr<std::unique_ptr<Child>> Start(int clone_flags,
                                                      Body body);
  ~Child();

  pid_t pid() const { return pid_; }
  const Channel& channel() const { return channel_; }
  // Waits for the child to exit and returns the status its body returned
  // (or a failure naming the signal that killed it).
  absl::Status Wait();

 private:
  Child(pid_t pid, UniqueFd fd) : pid_(pid), channel_(std::move(fd)) {}
  pid_t pid_;
  Channel channel_;
  bool reaped_ = false;
};

// --- running code in another process's mount namespace -----------------------

// linx::RunIn into `pid`'s mount namespace (a throwaway thread that did
// unshare(CLONE_FS) + setns(CLONE_NEWNS)).
absl::Status RunInMountNsOf(pid_t pid, const std::function<absl::Status()>& fn);

// --- mountinfo (through //mountinfo, strict parse) ---------------------------

// Reads /proc/<pid>/mountinfo, or /proc/thread-self/mountinfo for "".
absl::StatusOr<std::vector<MountInfo>> ReadMounts(const std::string& pid = "");
// The last (topmost) entry mounted at `target`, if any.
absl::StatusOr<MountInfo> FindMount(const std::vector<MountInfo>& table,
                                    absl::string_view target);
bool IsMountPoint(const std::vector<MountInfo>& table,
                  absl::string_view target);
// No peer group, no master, not unbindable.
inline bool IsPrivate(const MountInfo& m) {
  return !m.shared && !m.master && !m.unbindable;
}
// Whether the comma-separated per-mount options include `option`.
bool HasVfsOption(const MountInfo& m, absl::string_view option);

// A child parked in new mount and PID namespaces, and its namespace.
struct ParkedInNamespaces {
  std::unique_ptr<Child> child;
  Namespace ns;
};

// Checks run by the container built in scenario 1 (scenario_container.cc):
// pid 1, the rootfs marker, an empty detached /old_root, /proc showing only
// itself, tmpfs /dev with the 1:3 /dev/null, and exactly 4 mounts.
absl::Status CheckInsideContainer();

// Both container-recipe scenarios (scenario 1, raw syscalls and linx) start
// the same way: /scratch/rootfs/{proc,dev,old_root,etc} made with the
// marker etc/marker, and a child parked until "go", when it runs
// CheckInsideContainer.
absl::StatusOr<ParkedInNamespaces> StartContainer();

// Both hot-mount scenarios (scenario 3, raw syscalls and linx) start the
// same way: /scratch/{vol,inj,host} made, a child parked running
// HotMountChildSide, then a tmpfs "hostdata" with the file from_host
// mounted at /scratch/host in our namespace only (after the child unshared,
// so it cannot reach it by name).
absl::StatusOr<ParkedInNamespaces> StartHotMount(bool inj_read_only);

// The child's side: says "parked", waits for "mounted", then checks the
// volume (tmpfs "volume", nosuid) and the host path injected at
// /scratch/inj (its file readable; read-only when `inj_read_only`), writes
// /scratch/vol/from_child, says "seen", waits for "unmounted" and checks
// that both mounts and the host file are gone.
absl::Status HotMountChildSide(const Channel& ch, bool inj_read_only);

}  // namespace linx::vmtest

#endif  // LINX_VMTEST_GUEST_HARNESS_H_
