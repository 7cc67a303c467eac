// oci: a container's mounts from an OCI runtime-spec config, applied as one
// checked, reversible step (what `linx apply` does).
//
//   ASSIGN_OR_RETURN(linx::OciConfig config, linx::ParseOciConfig(text));
//   linx::OciTranslateOptions t;
//   t.base_dir = "/run/c1";          // FILE's directory, absolute
//   t.root_dir = "/run/c1/rootfs";   // --root, or root.path from the file
//   ASSIGN_OR_RETURN(std::vector<linx::OciStep> steps,
//                    linx::TranslateOciMounts(config.mounts, t));
//   linx::OciApplyResult r = linx::ApplyOci(steps, t.root_dir, ns, {});
//   if (!r.status.ok()) ...  // entry k failed; entries 1..k-1 were undone
//
// The config file: either a runtime-spec config.json object — its "mounts"
// array (absent: no mounts) and "root": {"path": ...} (relative to the
// file's directory; the default root) — or a bare JSON array of mount
// objects. A mount object has "destination" (required), "type", "source"
// "options" (an array of strings), and for an idmapped bind "uidMappings"
// and "gidMappings" (arrays of {"containerID", "hostID", "size"}, at most
// 340 each, the kernel's limit); members the spec does not define are
// ignored. Objects outside "mounts" and "root" are ignored (linx applies
// mounts, nothing else of the spec).
//
// Translation (TranslateOciMounts), word by word in order, as runc's
// libcontainer/specconv does (a later word overrides an earlier one):
//   - flag words set or clear a mount(2) bit: ro/rw, nosuid/suid,
//     nodev/dev, noexec/exec, sync/async, dirsync, mand/nomand,
//     noatime/atime, nodiratime/diratime, relatime/norelatime,
//     strictatime/nostrictatime, lazytime/nolazytime, silent/loud,
//     nosymfollow/symfollow (5.10+), defaults (nothing);
//   - bind and rbind make the entry a bind (type "bind" alone also does:
//     runc 1.1 would pass "bind" to mount(2) as a filesystem type and fail
//     with ENODEV); rbind is MS_BIND|MS_REC;
//   - propagation words private, rprivate, shared, rshared, slave, rslave,
//     unbindable, runbindable each become their own call after the mount,
//     in order (mount(NULL, dest, NULL, MS_<type>[|MS_REC], NULL));
//   - words linx cannot honour are refused by name before anything runs:
//     tmpcopyup, the recursive-attribute words (rro, rrw,
//     rnosuid, rsuid, rnodev, rdev, rnoexec, rexec, rnoatime, ratime,
//     rrelatime, rnorelatime, rstrictatime, rnostrictatime, rnodiratime,
//     rdiratime, rnosymfollow, rsymfollow), acl, noacl, iversion,
//     noiversion, remount (an apply entry is a new mount), and for a bind
//     the superblock words sync, dirsync, mand, lazytime;
//   - every other word goes, comma-joined in order, into the data string
//     ("mode=755,size=65536k").
// idmap and ridmap (or uidMappings/gidMappings alone) make a bind
// idmapped: when the entry runs, a throwaway user namespace with those maps
// is made (UserNamespace::WithMaps) and the bind gets MOUNT_ATTR_IDMAP on
// its detached tree (5.12+; the filesystem must support it). ridmap (or
// idmap on an rbind) covers the whole tree. Both maps are required, and
// only binds are idmapped (anything else is refused by name).
// Type "cgroup" is refused by name too: runc emulates it (a cgroup2 mount
// or binds of the host's cgroup v1 hierarchies); say "cgroup2" instead.
// A bind's relative source is relative to `base_dir`; other sources are
// passed as written ("proc", "tmpfs").
//
// Each entry becomes a MountCommand or BindCommand with options.root set
// (the destination is a path inside the root, resolved with the rules of
// mount/in_root.h: symlinks and ".." never leave the root) and
// options.mkdir (missing directories are created, 0755); a bind whose source
// is not a directory (checked with stat(2) when the entry runs) also gets
// options.create, so the destination is created as an empty file. A bind's
// source is a path of the namespace the entries run in (with `in` = Self,
// the caller's) and is cloned there with open_tree(2).
//
// Thread-safety: all functions may be called concurrently.
#ifndef LINX_MOUNT_OCI_H_
#define LINX_MOUNT_OCI_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mount/command.h"
#include "nsexec/nsexec.h"

namespace linx {

// One entry of an OCI "mounts" array, as written.
// One line of a user namespace's map (runtime-spec LinuxIDMapping).
struct OciIdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

struct OciMount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
  std::vector<OciIdMapping> uid_mappings;  // "uidMappings"
  std::vector<OciIdMapping> gid_mappings;  // "gidMappings"
};

// A parsed config file.
struct OciConfig {
  std::vector<OciMount> mounts;
  // config.json's root.path as written (relative to the file's directory
  // unless absolute); nullopt for a bare array or a config without it.
  std::optional<std::string> root_path;
};

// Parses the text of a config file (see the overview). No syscalls.
// Errors: kInvalidArgument with an OpError payload (operation "apply",
// stage bad_argument, value: where, e.g. "mounts[2].options[0]"), message
// "config: mounts[2].options[0]: expected a string, got number"; JSON
// syntax errors are base/json.h's ("json line 3, column 9: ..."). A
// string holding a NUL byte, or a destination/source of PATH_MAX bytes or
// more, is refused here.
absl::StatusOr<OciConfig> ParseOciConfig(absl::string_view text);

struct OciTranslateOptions {
  // Absolute directory that relative bind sources are relative to (FILE's
  // directory).
  std::string base_dir;
  // The root every destination is resolved in: a trusted, absolute path of
  // the namespace the entries will run in.
  std::string root_dir;
};

// One translated entry.
struct OciStep {
  size_t index = 0;  // 1-based position in the "mounts" array
  OciMount mount;    // as written
  bool bind = false;
  // The mount or bind, propagation words removed (MountCommand or
  // BindCommand; options.root.dir, options.mkdir set, `in` = Self).
  Command main;
  // One propagation-only MountCommand per propagation word, in order.
  std::vector<Command> propagation;
  // An idmapped bind: the maps of the user namespace made when the entry
  // runs, in /proc/<pid>/uid_map form ("0 100000 65536\n"); "" otherwise.
  std::string uid_map, gid_map;
};

// Translates `mounts` (see the overview) into steps, all or nothing: the
// first entry that cannot be honoured fails the whole call. No syscalls.
// Errors: kInvalidArgument, OpError operation "apply", stage bad_flag (an
// option word refused by name; value: the word) or bad_argument (empty
// destination, missing type, relative base_dir/root_dir, data longer than
// 4095 bytes; value: the field), message
//   entry 3 ("/dev/shm"): option "tmpcopyup" is not supported: ...
absl::StatusOr<std::vector<OciStep>> TranslateOciMounts(
    const std::vector<OciMount>& mounts, const OciTranslateOptions& options);

// How far an entry got.
enum class OciStepState {
  kPlanned,     // dry run: resolved, nothing done
  kDone,        // applied (and, after a rollback, taken back again)
  kFailed,      // this entry failed
  kNotReached,  // after the failed entry: never run
};

// "planned", "done", "failed", "not_reached". Static storage.
const char* OciStepStateName(OciStepState state);

// What happened to one entry (and, in a dry run, what would).
struct OciStepResult {
  size_t index = 0;
  std::string destination;  // as written
  // The destination's canonical path inside the root ("/dev/pts"), as far
  // as it exists (dry run) or as mounted; "" when not resolved.
  std::string resolved;
  // Whether the destination is (or would be) created as a file.
  bool file_destination = false;
  // Paths inside the root that were (or would be) created, parents first.
  std::vector<std::string> created;
  // A dry run's verdict when the destination cannot be made ("" when it
  // can), e.g. `"/dev" is a dangling symlink`.
  std::string problem;
  int problem_errno = 0;  // its errno (ENOENT, ELOOP, ENOTDIR, ...)
  // The calls the entry makes, written out with flags by name and the
  // destination as "<root>/dev/pts".
  std::vector<std::string> calls;
  OciStepState state = OciStepState::kNotReached;
};

struct OciApplyOptions {
  // Resolve every destination and report the plan; create and mount
  // nothing (no mkdir, no create, no mount).
  bool dry_run = false;
};

struct OciApplyResult {
  std::vector<OciStepResult> steps;
  // OK, or the first failure, prefixed "entry K (\"DEST\"): " (code and
  // OpError payload kept: the call, the stage and the errno).
  absl::Status status;
  // Which entry failed (1-based; 0: none, or a failure before the first
  // entry such as entering the namespace or opening the root).
  size_t failed_index = 0;
  // After a failure: whether a rollback ran and how it went (OK: the
  // mount table and the created paths are as before).
  bool rolled_back = false;
  absl::Status rollback_status;
};

// Runs `steps` in `in`, in ONE trip (nsexec RunIn: one worker thread, one
// setns), each entry's commands run there with Execute(cmd, &undo) and
// `in` = Self. First the root is opened (OpenRoot(root_dir)); then for
// each entry: a bind's source is stat(2)ed to choose a directory or file
// destination, the main command runs, then its propagation calls. When
// entry k fails, Undo(undo) takes back everything entries 1..k (and the
// failed one's own partial work) did, in reverse order, on the same
// thread: mounts detached, moves reversed, created directories and files
// removed. With options.dry_run nothing is created or mounted: the root is
// opened and each destination resolved (ResolveInRoot without creation,
// one prefix at a time) to report what exists and what would be created.
// A dry run resolves every destination against the tree as it is now: a
// destination below an earlier entry's mount point is resolved in the
// directory that mount will cover. The first entry with a `problem` makes
// the dry run's `status` an error (stage resolve, the problem's errno,
// "entry K ("DEST"): would fail: ..."), with `failed_index` set and nothing
// rolled back (nothing was done).
// Errors in `status` as described in OciApplyResult; a failure to enter
// `in` or open the root changes nothing. Capabilities: CAP_SYS_ADMIN (and
// CAP_SYS_CHROOT to enter another namespace). Minimum kernel: that of the
// in-root verbs (5.2 for open_tree/move_mount binds).
//
// Note: a "proc" entry is mounted on the worker, so it shows the PID
// namespace linx runs in, not the target's (the executor cannot yet mount
// proc in a forked child with a root); mount proc from inside the
// container, or run linx in the container's PID namespace.
OciApplyResult ApplyOci(const std::vector<OciStep>& steps,
                        const std::string& root_dir, const Namespace& in,
                        const OciApplyOptions& options = {});

}  // namespace linx

#endif  // LINX_MOUNT_OCI_H_
