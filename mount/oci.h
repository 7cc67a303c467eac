// oci: a container's mounts from an OCI runtime-spec config, applied as one
// checked, reversible step (what `linx apply` does).
//
//   ASSIGN_OR_RETURN(linx::OciConfig config, linx::ParseOciConfig(text));
//   linx::OciTranslateOptions t;
//   t.base_dir = "/run/c1";          // FILE's directory, absolute
//   t.root_dir = "/run/c1/rootfs";   // --root, or root.path from the file
//   ASSIGN_OR_RETURN(std::vector<linx::OciStep> steps,
//                    linx::TranslateOciConfig(config, t));
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
// ignored. "linux": {"readonlyPaths": [...], "maskedPaths": [...]} are read
// too (arrays of non-empty path strings inside the container); everything
// else of the spec is ignored (linx applies mounts, nothing else).
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
// readonlyPaths and maskedPaths (TranslateOciConfig) become entries after
// all the mounts, readonlyPaths first, then maskedPaths, as runc applies
// them at the end of the rootfs setup. Each path is resolved inside the
// root like a destination (never created); a path that does not exist
// there (ENOENT, a dangling symlink included) is skipped, as runc ignores
// ENOENT. Any other failure fails the entry, and the apply rolls back.
//   - readonlyPaths: the path is bound onto itself, recursively, read-only:
//     open_tree(OPEN_TREE_CLONE|AT_RECURSIVE) of its resolved descriptor,
//     mount_setattr(AT_RECURSIVE, MOUNT_ATTR_RDONLY) on the detached tree,
//     move_mount onto the same descriptor (a BindCommand with
//     source_in_root, source = target, flags ro + rec). Submounts under
//     the path are read-only too (runc 1.1 makes only the top mount so).
//   - maskedPaths: a directory gets a read-only tmpfs (mount "tmpfs",
//     MS_RDONLY, no data), anything else a bind of /dev/null. That
//     /dev/null is the CALLER's: opened (O_PATH) in the namespace linx runs
//     in before the trip, checked to be the character device 1:3 (fstat),
//     and cloned from that descriptor (open_tree(OPEN_TREE_CLONE|
//     AT_EMPTY_PATH)), one detached tree per masked path; the image's
//     /dev/null (runc's source, CVE-2025-31133) is never used.
// After each, the mount must sit at the canonical path the decision was
// made on (the executor resolves the path again): if the tree changed in
// between, the entry fails (EAGAIN) and everything is rolled back.
//
// Thread-safety: all functions may be called concurrently.
#ifndef LINX_MOUNT_OCI_H_
#define LINX_MOUNT_OCI_H_

#include <cstddef>
#include <cstdint>
#include <memory>
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
  // linux.readonlyPaths and linux.maskedPaths as written, in order; empty
  // for a bare array or a config without them. Each is non-empty, holds no
  // NUL and is shorter than PATH_MAX (checked by ParseOciConfig).
  std::vector<std::string> readonly_paths;
  std::vector<std::string> masked_paths;
};

// Parses the text of a config file (see the overview). No syscalls.
// Errors: kInvalidArgument with an OpError payload (operation "apply",
// stage bad_argument, value: where, e.g. "mounts[2].options[0]"), message
// "config: mounts[2].options[0]: expected a string, got number" (for the
// paths: "config: linux.maskedPaths[1]: is empty"); JSON
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

// What an entry comes from.
enum class OciStepKind {
  kMount,         // an entry of "mounts"
  kReadonlyPath,  // an entry of linux.readonlyPaths
  kMaskedPath,    // an entry of linux.maskedPaths
};

// "mount", "readonly_path", "masked_path". Static storage.
const char* OciStepKindName(OciStepKind kind);

// One translated entry.
struct OciStep {
  // 1-based position among all entries: the mounts, then the readonlyPaths,
  // then the maskedPaths ("entry K" in messages).
  size_t index = 0;
  OciStepKind kind = OciStepKind::kMount;
  // A path entry: its 0-based position in its array ("maskedPaths[1]").
  size_t path_index = 0;
  // As written; a path entry has only `destination` (the path).
  OciMount mount;
  // A bind (a readonlyPaths entry is one; a maskedPaths entry is decided
  // when it runs: see `mask_file`).
  bool bind = false;
  // The mount or bind, propagation words removed (MountCommand or
  // BindCommand; options.root.dir, options.mkdir set, `in` = Self). A
  // readonlyPaths entry: the read-only recursive bind of the path onto
  // itself (no mkdir). A maskedPaths entry: the form for a directory, a
  // read-only tmpfs (no mkdir).
  Command main;
  // A maskedPaths entry: the form for anything else, a BindCommand of
  // "/dev/null" onto the path (no mkdir, no create); ApplyOci gives it a
  // source_tree cloned from the caller's /dev/null. nullopt otherwise.
  std::optional<Command> mask_file;
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

// TranslateOciMounts(config.mounts), then one entry per readonlyPaths path,
// then one per maskedPaths path (see the overview), indices running on.
// No syscalls. Errors: those of TranslateOciMounts.
absl::StatusOr<std::vector<OciStep>> TranslateOciConfig(
    const OciConfig& config, const OciTranslateOptions& options);

// How far an entry got.
enum class OciStepState {
  kPlanned,     // dry run: resolved, nothing done
  kDone,        // applied (and, after a rollback, taken back again)
  kFailed,      // this entry failed
  kNotReached,  // after the failed entry: never run
  kSkipped,     // a readonlyPaths/maskedPaths path missing in the root
};

// "planned", "done", "failed", "not_reached", "skipped". Static storage.
const char* OciStepStateName(OciStepState state);

// What happened to one entry (and, in a dry run, what would).
struct OciStepResult {
  size_t index = 0;
  std::string destination;  // as written
  // The destination's canonical path inside the root ("/dev/pts"), as far
  // as it exists (dry run) or as mounted; "" when not resolved.
  std::string resolved;
  // Whether the destination is (or would be) created as a file; for a
  // maskedPaths entry, whether the path is not a directory (so /dev/null is
  // bound over it rather than a tmpfs mounted).
  bool file_destination = false;
  // Paths inside the root that were (or would be) created, parents first.
  std::vector<std::string> created;
  // A dry run's verdict when the destination cannot be made ("" when it
  // can), e.g. `"/dev" is a dangling symlink`.
  std::string problem;
  int problem_errno = 0;  // its errno (ENOENT, ELOOP, ENOTDIR, ...)
  // The calls the entry makes, written out with flags by name and the
  // destination as "<root>/dev/pts". A maskedPaths entry not resolved yet
  // lists both forms, prefixed "if a directory: " and "otherwise: "; a
  // skipped one lists none.
  std::vector<std::string> calls;
  // For readonlyPaths/maskedPaths: why a path was skipped ("does not exist
  // in the root") or, in a dry run, that it is missing now; "" otherwise.
  std::string note;
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
// `in` = Self. Before the trip (not in a dry run), when there are
// maskedPaths entries, the caller's /dev/null is opened, checked (char 1:3)
// and cloned once per such entry (open_tree). First the root is opened
// (OpenRoot(root_dir)); then for each entry: a bind's source is stat(2)ed
// to choose a directory or file destination, the main command runs, then
// its propagation calls; a readonlyPaths/maskedPaths entry is resolved
// (ResolveInRoot, no creation): missing → kSkipped; else its command runs
// (for a mask, the form the resolved type calls for), and the mount must
// be at the canonical path resolved (else EAGAIN). When
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
// rolled back (nothing was done). A dry run's missing readonlyPaths/
// maskedPaths path is kPlanned with a `note`: it may appear once an
// earlier entry's mount is made (/proc/kcore under a new proc).
// Errors in `status` as described in OciApplyResult; a failure to enter
// `in` or open the root, or to open, check or clone the caller's
// /dev/null (the failed_index is then the first maskedPaths entry),
// changes nothing. A path entry is named "entry K (maskedPaths[1]
// "/proc/kcore")". Capabilities: CAP_SYS_ADMIN (and
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
