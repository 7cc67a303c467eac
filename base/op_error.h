// OpError: the exact detail of a failed operation, carried inside an
// absl::Status as a payload.
//
//   absl::Status s = linx::Umount("/mnt/x");
//   if (std::optional<linx::OpError> e = linx::GetOpError(s)) {
//     if (e->stage == linx::Stage::kUmount && e->errno_value == EBUSY) ...
//   }
//
// The status code folds several errnos together (EBUSY and ENOTEMPTY are both
// kFailedPrecondition); the payload keeps the errno, the stage that failed
// and, for argument errors, the offending value. mount/ re-exports this as
// linx::MountError / linx::GetMountError.
#ifndef LINX_BASE_OP_ERROR_H_
#define LINX_BASE_OP_ERROR_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace linx {

// Where an operation failed. The names (StageName) are part of the C ABI and
// the CLI output; never renumber, only append.
enum class Stage : int {
  kNone = 0,
  kMount = 1,         // mount(2) itself (or mount_setattr/open_tree/move_mount)
  kUmount = 2,        // umount2(2)
  kPivotRoot = 3,     // pivot_root(2)
  kOpenNs = 4,        // opening the target namespace (file, pid, pidfd)
  kUnshare = 5,       // unshare(CLONE_FS) on the worker thread
  kSetns = 6,         // setns(fd, CLONE_NEWNS) on the worker thread
  kChdir = 7,         // chdir/fchdir on the worker thread
  kThread = 8,        // creating or joining the worker thread
  kCreate = 9,        // creating the placeholder file at the target
  kOpenPidns = 10,    // opening the target's PID namespace
  kSetnsPid = 11,     // setns(fd, CLONE_NEWPID)
  kPipe = 12,         // pipe2 for the forked proc path
  kFork = 13,         // fork into the target's PID namespace
  kBadFlag = 14,      // an unknown flag word (value: the word)
  kBadIn = 15,        // an unusable namespace target (value: what was given)
  kBadArgument = 16,  // any other invalid argument (value: which)
  kRead = 17,         // reading a file such as mountinfo
  kResolve = 18,      // resolving a path inside a root (mount/in_root.h)
  kSetnsUser = 19,    // setns(fd, CLONE_NEWUSER) in the forked child
};

// Whether `stage` is one of the argument stages (bad_flag, bad_in,
// bad_argument): the call was refused before any syscall.
bool IsArgumentStage(Stage stage);

// "mount", "umount", "pivot_root", "open_ns", "unshare", "setns", "chdir",
// "thread", "create", "open_pidns", "setns_pid", "pipe", "fork", "bad_flag",
// "bad_in", "bad_argument", "read", "resolve"; "none" for kNone. Static
// storage.
const char* StageName(Stage stage);
// The inverse of StageName; nullopt for an unknown name.
std::optional<Stage> ParseStage(absl::string_view name);

struct OpError {
  std::string operation;  // "mount", "umount", "pivot_root", "bind", ...
  Stage stage = Stage::kNone;
  int errno_value = 0;  // 0 for argument errors
  std::string value;    // the offending value for kBad* stages
  // The kernel's own words about the failure, where it gave any: the
  // fs_context message log of fsopen(2)/fsconfig(2)/fsmount(2) ("tmpfs: Bad
  // value for 'size'"). "" otherwise. Also part of the status message.
  std::string kernel_message;
};

// The URL under which the payload is stored in an absl::Status.
inline constexpr absl::string_view kOpErrorPayloadUrl =
    "type.linx.dev/linx.OpError";

// A status whose code follows errno (ErrnoToStatusCode), or kInvalidArgument
// for the kBad* stages, with `message` as its message and `error` attached.
absl::Status MakeOpError(const OpError& error, absl::string_view message);

// The payload of a status made by MakeOpError (or one that kept its
// payloads when rewrapped); nullopt for any other status, including OK.
std::optional<OpError> GetOpError(const absl::Status& status);

// The same status with `prefix` put in front of its message; code and
// payloads are kept.
absl::Status PrefixStatus(const absl::Status& status, absl::string_view prefix);

// The same status with `suffix` after its message; code and payloads kept.
absl::Status SuffixStatus(const absl::Status& status, absl::string_view suffix);

// `status`'s payloads (the OpError among them) under a new code and message.
// The one place a payload is copied from one status to another.
absl::Status RewrapStatus(const absl::Status& status, absl::StatusCode code,
                          absl::string_view message);

// An argument refused before any syscall: kInvalidArgument, stage
// bad_argument, `value` naming the argument ("target", "in", ...), message
// "<operation>: <argument> <problem>".
absl::Status BadArgumentError(absl::string_view operation,
                              absl::string_view argument,
                              absl::string_view problem);

// `s` in double quotes with C escapes (\n, \", \\, \ooo for other
// non-printable bytes), as every message of linx quotes a value.
std::string Quote(absl::string_view s);

// A plain stage+errno pair, for reporting across threads, pipes and fork
// boundaries where only async-signal-safe code may run.
struct StageErrno {
  Stage stage = Stage::kNone;
  int errno_value = 0;
  bool ok() const { return stage == Stage::kNone && errno_value == 0; }
};

}  // namespace linx

#endif  // LINX_BASE_OP_ERROR_H_
