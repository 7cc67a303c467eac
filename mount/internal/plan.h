// plan: the first two steps of the verb pipeline. A Command (what the user
// asked) is checked and turned into a Plan: exactly the kernel calls to
// make, with every kernel rule applied once, here.
//
//   Command ──Check──► Plan (typed per verb) ──Where──► caller | worker |
//   forked child ──Exec*──► syscalls ──Render──► the call in messages
//
// Private to mount/.
#ifndef LINX_MOUNT_INTERNAL_PLAN_H_
#define LINX_MOUNT_INTERNAL_PLAN_H_

#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "mount/command.h"
#include "nsexec/nsexec.h"
#include "nsexec/userns.h"

namespace linx::mount_internal {

// The most data a new mount takes: fsconfig(2) passes it one option at a
// time (each value at most a page; overlay layers one lowerdir+ each), so
// only a sanity bound. mount(2) itself takes one page (4095 bytes).
inline constexpr size_t kMaxMountDataBytes = 1 << 20;
inline constexpr size_t kMaxClassicDataBytes = 4095;

// A new filesystem, or a propagation change of an existing mount.
struct NewMountPlan {
  std::string source, target, fstype, data;  // "" → NULL
  unsigned long flags = 0;                   // the main mount(2) call's flags
  bool main_call = true;                     // false: only the propagation call
  unsigned long propagation = 0;  // MS_<type>[|MS_REC|MS_SILENT], own call
  bool create = false;
  bool beneath = false;  // MOVE_MOUNT_BENEATH
  // An fsopen(2) context made by a child forked into the target's PID
  // namespace (a proc with a root there: the pid namespace a proc shows is
  // fixed when its context is opened); the rest of the mount runs on the
  // worker. See OpenForkedFsContext (forked.h).
  std::shared_ptr<UniqueFd> fs_context;
};

// A bind, of a path in the target namespace or of a tree the caller opened
// in its own namespace (BindFromHost).
struct BindPlan {
  std::string source, target, data;
  bool rec = false;
  unsigned long per_mount = 0;    // MS_RDONLY|... for the follow-up
  unsigned long propagation = 0;  // own call, last
  bool create = false;
  bool from_caller = false;        // the source is opened on the calling thread
  std::shared_ptr<UniqueFd> tree;  // from_caller: the open_tree(2) clone
  std::optional<UserNamespace> idmap;  // MOUNT_ATTR_IDMAP
  bool beneath = false;                // MOVE_MOUNT_BENEATH
  // Needs the detached-tree path (idmap, beneath): no classic fallback.
  bool needs_fd_api() const { return idmap.has_value() || beneath; }
};

struct MovePlan {
  std::string source, target;
};

struct RemountPlan {
  std::string target, data;
  unsigned long flags = 0;  // MS_REMOUNT|...
  bool main_call = true;    // false: only the propagation call
  unsigned long propagation = 0;
  bool recursive = false;       // the whole tree: per-mount flags only
  unsigned long per_mount = 0;  // recursive: the per-mount MS_* bits
};

struct UmountPlan {
  std::string target;
  int flags = 0;
  bool recursive = false;
};

struct PivotRootPlan {
  std::string new_root, put_old;
};

// Paths resolved inside a root (mount.h InRoot; mount/in_root.h).
struct RootSpec {
  std::string dir;      // the trusted root directory ("" when `fd` is set)
  int fd = -1;          // a borrowed root directory fd
  bool mkdir = false;   // create the target's missing directories
  bool create = false;  // create the target's last component (file)
  bool source_in_root = false;  // resolve the source too (bind, move)
};

// Where a plan runs.
enum class Where {
  kCaller,  // the calling thread (Self, not pivot_root)
  kWorker,  // an nsexec::RunIn worker thread (another namespace, pivot_root)
  kForked,  // a child forked into the target's PID namespace (RunInForked)
};

struct Plan {
  std::variant<NewMountPlan, BindPlan, MovePlan, RemountPlan, UmountPlan,
               PivotRootPlan>
      call;
  const char* operation = "mount";  // "mount", "bind", "move", ...
  std::string in_suffix;            // "" or " in mount namespace of pid N"
  Where where = Where::kCaller;
  // Set: every path the image controls is resolved inside this root, on
  // the thread that runs the plan (internal/in_root_exec.cc).
  std::optional<RootSpec> root;
};

// Checks `command` (strings, flags) and applies the kernel rules; `in` is
// the namespace it will run in (a Batch's, or the command's own). Errors:
// bad_argument / bad_flag, before any syscall.
absl::StatusOr<Plan> MakePlan(const Command& command, const Namespace& in);

// The `in` a command carries in its options.
const Namespace& InOf(const Command& command);

// Whether `plan` is a new proc with a root that must show the target's PID
// namespace (Where::kForked): a child opens its fs context and a worker
// does the rest (OpenForkedFsContext, forked.h). Data with a double quote
// is refused there, as the fs-context path cannot take it.
bool TakesForkedFsContext(const Plan& plan);

}  // namespace linx::mount_internal

#endif  // LINX_MOUNT_INTERNAL_PLAN_H_
