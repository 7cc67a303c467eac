// command: every verb as a typed value, and the one executor that runs
// them. The C++ verbs (mount/mount.h), Batch, UmountTree, the CLI and the C
// ABI all build a Command and hand it to Execute, so one request has one
// meaning everywhere.
//
//   linx::BindCommand bind{"/srv/data", "/run/c1/rootfs/data"};
//   bind.options.flags = {linx::MountFlag::kRo};
//   RETURN_IF_ERROR(linx::Execute(bind));
//
//   // A raw mount(2)-style request (what the C ABI receives), dispatched in
//   // the kernel's order: MS_REMOUNT, then MS_BIND, then MS_MOVE, else a new
//   // mount (a propagation change when only propagation flags are given).
//   ASSIGN_OR_RETURN(linx::Command c,
//                    linx::CommandFromMountCall("", "/mnt", "",
//                                               MS_REMOUNT | MS_PRIVATE, "",
//                                               false,
//                                               linx::Namespace::Self()));
//   RETURN_IF_ERROR(linx::Execute(c));  // mount(NULL, "/mnt", NULL,
//   MS_PRIVATE, NULL)
//
// The pipeline behind Execute (docs/mount.md has the diagram):
//   1. check: strings (NUL, length, empty, absolute in another namespace),
//      flags (known, one propagation type, one atime mode, the verb's own
//      rules) — failures are bad_argument / bad_flag, before any syscall;
//   2. kernel rules, each in one place: a bind's per-mount flags need a
//      follow-up MS_REMOUNT|MS_BIND that keeps the flags in force (locked
//      flags); propagation is always its own call, after the main one (the
//      main call is skipped when nothing but propagation was asked); a
//      recursive bind gets its flags on the whole tree (mount_setattr(2),
//      else a submount walk);
//   3. where it runs: the calling thread (Self; never for pivot_root), an
//      nsexec worker (another namespace, pivot_root), or a child forked into
//      the target's PID namespace (proc into another namespace, and every
//      mount when the namespace was opened with an explicit pidns_path; a
//      proc with a root: the child opens only its fs context, a worker
//      does the rest);
//   4. the syscalls, undoing a new mount when a follow-up fails;
//   5. the error: the call written out, the namespace, the stage, the errno
//      and a hint (mount/mount.h, "Errors").
#ifndef LINX_MOUNT_COMMAND_H_
#define LINX_MOUNT_COMMAND_H_

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/unique_fd.h"
#include "mount/in_root.h"
#include "mount/mount.h"
#include "nsexec/nsexec.h"

namespace linx {

// mount(2) of a new filesystem, or a propagation change (Mount()).
struct MountCommand {
  std::string source, target, fstype;
  MountOptions options;
};

// A bind mount (Bind()); with `source_from_caller`, BindFromHost(): the
// source is a path of the caller's namespace, cloned on the calling thread.
struct BindCommand {
  std::string source, target;
  BindOptions options;
  bool source_from_caller = false;
  // A detached tree the caller already cloned (open_tree(2) with
  // OPEN_TREE_CLONE, e.g. in its own namespace before entering another):
  // attached as it is instead of cloning `source`, which then only names
  // it in messages. Its per-mount flags and idmapping are set as for any
  // source tree. Give each command its own clone: once attached the tree is
  // a mount of the namespace, and attaching it again would move that mount
  // (move_mount(2) moves an attached tree). Contradicts
  // options.source_in_root (bad_argument); an invalid fd is bad_argument.
  // linx apply masks files with clones of the caller's /dev/null this way
  // (mount/oci.h).
  std::shared_ptr<UniqueFd> source_tree;
};

struct MoveCommand {
  std::string source, target;
  MoveOptions options;
};

struct RemountCommand {
  std::string target;
  RemountOptions options;
};

// With options.recursive, the whole tree (UmountTree()).
struct UmountCommand {
  std::string target;
  UmountOptions options;
};

struct PivotRootCommand {
  std::string new_root, put_old;
  PivotRootOptions options;
};

using Command = std::variant<MountCommand, BindCommand, MoveCommand,
                             RemountCommand, UmountCommand, PivotRootCommand>;

// "mount", "bind", "move", "remount", "umount" or "pivot_root".
const char* OperationOf(const Command& command);

// Runs `command` in the namespace of its options' `in`. The verbs of
// mount/mount.h are this with the matching command.
absl::Status Execute(const Command& command);

// The calls `command` would make, written out as in messages, without
// making any: the checks and the kernel rules of Execute, then one line per
// call in order (the main call, a bind's per-mount follow-up on the fd-based
// or the classic path, a propagation call). With a root the target is shown
// joined to the root's path. Errors: what Execute would refuse before any
// syscall (bad_argument, bad_flag). For dry runs (linx apply --dry-run).
absl::StatusOr<std::vector<std::string>> PlanCalls(const Command& command);

// What one successful command left behind, so that a sequence of commands
// can be taken back (linx apply's rollback).
struct UndoRecord {
  const char* operation = "";
  // The root the paths below are inside (see InRoot); none: the paths are
  // plain paths of the namespace.
  InRoot root;
  // A new mount (or bind) attached at this path: detached by Undo.
  std::string mounted_at;
  // The ID of the mount the command left at `mounted_at` (statx(2): the
  // unique 64-bit ID on 6.8+, else the 32-bit one; 0 where the kernel has
  // neither). Undo detaches or moves back only that mount: when another
  // one sits on top at that path by then, the record fails with ESTALE and
  // both are left alone.
  uint64_t mount_id = 0;
  // A mount moved from here to `mounted_at`: moved back by Undo.
  std::string moved_from;
  // Directories and placeholder files the command created inside `root`
  // (mount/in_root.h), parents first: removed by Undo.
  std::vector<Created> created;
};

// Execute, appending to `undo` what the command left behind when it
// succeeds: new mounts and binds (mounted_at), moves, and with a root what
// was created; also for a mount a child forked into the target's PID
// namespace made (its mount ID read there by a worker afterwards).
// Remounts and umounts leave no record: they cannot be taken back. `undo`
// may be null.
absl::Status Execute(const Command& command, std::vector<UndoRecord>* undo);

// Takes back `records`, newest first, in namespace `in` (where they were
// made): each mount detached (umount2(MNT_DETACH), resolved in its root
// again), each move reversed, then what was created removed
// (RemoveCreated: only empty directories and regular files of the recorded
// kind). A record whose mount is no longer the one at its path (its
// mount_id differs: something was mounted over it since) is not touched:
// ESTALE at stage resolve. Keeps going after a failure; returns the first.
absl::Status Undo(absl::Span<const UndoRecord> records,
                  const Namespace& in = Namespace::Self());

// Runs `steps` in `in`, in order, in as few trips as possible (one worker
// for a run of ordinary steps; a forked child for each step that needs the
// target's PID namespace), stopping at the first failure, which is prefixed
// "step K of N: ". Every step is checked before the first trip; a step's own
// `in` must be Self (bad_argument otherwise). Batch::Run is this.
absl::Status ExecuteBatch(absl::Span<const Command> steps, const Namespace& in);

// The command a raw mount(2) request means, decided in the kernel's order
// (fs/namespace.c path_mount): MS_REMOUNT → RemountCommand (with MS_BIND:
// per-mount flags only), else MS_BIND → BindCommand, else MS_MOVE →
// MoveCommand (MS_REC and MS_SILENT are the only other bits allowed), else
// MountCommand (a propagation change when only propagation bits, MS_REC and
// MS_SILENT are set). The legacy magic 0xC0ED0000 in the upper 16 bits is
// dropped. Unknown bits → bad_flag naming them; `create` with a remount or a
// move → bad_argument.
absl::StatusOr<Command> CommandFromMountCall(absl::string_view source,
                                             absl::string_view target,
                                             absl::string_view fstype,
                                             unsigned long flags,
                                             absl::string_view data,
                                             bool create, const Namespace& in);

}  // namespace linx

#endif  // LINX_MOUNT_COMMAND_H_
