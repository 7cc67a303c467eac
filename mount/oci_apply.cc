// linx apply's application half (mount/oci.h ApplyOci): what runs before
// the trip in the caller's namespace (user namespaces for idmaps, the
// checked /dev/null, bind sources cloned for --in), the trip itself (each
// step through Execute, readonlyPaths/maskedPaths resolved in the root,
// the dry run's resolution) and the rollback. Translation is mount/oci.cc.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <climits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/syscalls.h"
#include "base/unique_fd.h"
#include "mount/in_root.h"
#include "mount/internal/oci_steps.h"
#include "mount/oci.h"
#include "nsexec/userns.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256  // Linux 5.10; older headers lack it
#endif

namespace linx {
namespace {

using oci_internal::Joined;
using oci_internal::RenderCalls;
using oci_internal::RenderCommand;
using oci_internal::StepName;

// Whether a bind's source is a directory (stat(2), following symlinks: the
// source is the caller's path). Unknown (stat fails): treated as a
// directory, so that the bind itself reports the error.
bool SourceIsDirectory(const OciStep& step) {
  const auto* b = std::get_if<BindCommand>(&step.main);
  if (b == nullptr) return true;
  struct stat st;
  if (::stat(b->source.c_str(), &st) != 0) return true;
  return S_ISDIR(st.st_mode);
}

// A dry run's resolution of one destination: what exists, what would be
// created, and what would stop the entry. Creates nothing.
void DryResolve(int root_fd, const OciStep& step, OciStepResult* out) {
  std::vector<std::string> parts;
  for (absl::string_view p :
       absl::StrSplit(step.mount.destination, '/', absl::SkipEmpty())) {
    if (p != ".") parts.emplace_back(p);
  }
  std::string prefix;
  std::string resolved = "/";
  UniqueFd last;  // empty: the root itself
  for (size_t j = 0; j < parts.size(); ++j) {
    prefix += "/" + parts[j];
    absl::StatusOr<InRootPath> r = ResolveInRoot(root_fd, prefix);
    if (r.ok()) {
      resolved = r->path;
      last = std::move(r->fd);
      continue;
    }
    std::optional<OpError> e = GetOpError(r.status());
    if (e && e->errno_value == ENOENT && parts[j] != "..") {
      struct stat st;
      int parent = last.valid() ? last.get() : root_fd;
      if (::fstatat(parent, parts[j].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        out->problem = absl::StrCat(
            Quote(Joined(resolved, parts[j])),
            " is a dangling symlink; linx never creates through a symlink");
        out->problem_errno = ENOENT;
        break;
      }
      std::string at = resolved;
      for (size_t k = j; k < parts.size(); ++k) {
        if (parts[k] == "..") {
          out->problem = absl::StrCat("\"..\" after the missing component ",
                                      Quote(parts[j]));
          out->problem_errno = ENOENT;
          break;
        }
        at = Joined(at, parts[k]);
        out->created.push_back(at);
      }
      break;
    }
    out->problem = std::string(r.status().message());
    out->problem_errno = e ? e->errno_value : 0;
    break;
  }
  out->resolved = resolved;
}

// A maskedPaths entry's file form with the caller's /dev/null: the caller's
// /dev/null (O_PATH, following symlinks: a trusted path of the caller's
// namespace), proven to be the null device, to clone per masked path.
absl::StatusOr<UniqueFd> OpenCallersDevNull() {
  UniqueFd fd(::open("/dev/null", O_PATH | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    return MakeOpError(
        {"apply", Stage::kResolve, err, "/dev/null"},
        absl::StrCat("open(\"/dev/null\", O_PATH): ", ErrnoDescription(err)));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    int err = errno;
    return MakeOpError(
        {"apply", Stage::kResolve, err, "/dev/null"},
        absl::StrCat("fstat(\"/dev/null\"): ", ErrnoDescription(err)));
  }
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
    return MakeOpError(
        {"apply", Stage::kResolve, EXDEV, "/dev/null"},
        absl::StrCat("the caller's \"/dev/null\" is not the null device "
                     "(character device 1:3; found mode 0",
                     absl::Hex(st.st_mode & S_IFMT), ", device ",
                     major(st.st_rdev), ":", minor(st.st_rdev),
                     "); refusing to mask with it"));
  }
  return fd;
}

// One detached copy of the checked /dev/null (open_tree(2) on its
// descriptor: no second walk of the path), made in the caller's namespace.
absl::StatusOr<std::shared_ptr<UniqueFd>> CloneDevNull(int dev_null) {
  int fd = sys::OpenTree(dev_null, "",
                         sys::kOpenTreeClone | O_CLOEXEC | sys::kAtEmptyPath);
  if (fd < 0) {
    int err = errno;
    return MakeOpError(
        {"apply", Stage::kMount, err, "/dev/null"},
        absl::StrCat("open_tree(\"/dev/null\", \"\", OPEN_TREE_CLONE|"
                     "AT_EMPTY_PATH): ",
                     ErrnoDescription(err),
                     err == ENOSYS ? ": masking needs Linux 5.2+" : ""));
  }
  return std::make_shared<UniqueFd>(fd);
}

// A clone of a `mounts` bind's source made in the caller's namespace
// (open_tree(2) OPEN_TREE_CLONE; AT_RECURSIVE for an rbind), for --in.
absl::StatusOr<std::shared_ptr<UniqueFd>> CloneSource(const BindCommand& b) {
  bool rec = false;
  for (MountFlag f : b.options.flags) rec |= f == MountFlag::kRec;
  unsigned flags =
      sys::kOpenTreeClone | O_CLOEXEC | (rec ? sys::kAtRecursive : 0);
  int fd = sys::OpenTree(AT_FDCWD, b.source.c_str(), flags);
  if (fd < 0) {
    int err = errno;
    return MakeOpError(
        {"apply", Stage::kMount, err, b.source},
        absl::StrCat("open_tree(AT_FDCWD, ", Quote(b.source),
                     ", OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC",
                     rec ? "|AT_RECURSIVE" : "",
                     ") in the caller's namespace: ", ErrnoDescription(err),
                     err == ENOSYS ? ": binds with --in need Linux 5.2+" : ""));
  }
  return std::make_shared<UniqueFd>(fd);
}

// The result of resolving a readonlyPaths/maskedPaths entry: nullopt when
// the path is missing (ENOENT: skipped, as runc does), else its fd and
// canonical path; other failures are errors.
absl::StatusOr<std::optional<InRootPath>> ResolvePath(int root_fd,
                                                      const OciStep& step) {
  absl::StatusOr<InRootPath> at =
      ResolveInRoot(root_fd, step.mount.destination);
  if (at.ok()) return std::optional<InRootPath>(*std::move(at));
  std::optional<OpError> e = GetOpError(at.status());
  if (e && e->errno_value == ENOENT) return std::optional<InRootPath>();
  return at.status();
}

// Runs a readonlyPaths/maskedPaths entry on the trip's thread.
absl::Status RunPathStep(int root_fd, const OciStep& step,
                         const std::string& root_dir,
                         const std::shared_ptr<UniqueFd>& dev_null_tree,
                         OciStepResult* r, std::vector<UndoRecord>* undo) {
  ASSIGN_OR_RETURN(std::optional<InRootPath> at, ResolvePath(root_fd, step));
  if (!at.has_value()) {
    r->state = OciStepState::kSkipped;
    r->note = "does not exist in the root (ENOENT): skipped, as runc does";
    r->calls.clear();
    return absl::OkStatus();
  }
  r->resolved = at->path;
  Command cmd = step.main;
  if (step.mask_file.has_value()) {
    struct stat st;
    if (::fstat(at->fd.get(), &st) != 0) {
      int err = errno;
      return MakeOpError({"apply", Stage::kResolve, err, r->resolved},
                         absl::StrCat("fstat(", Quote(r->resolved),
                                      "): ", ErrnoDescription(err)));
    }
    r->file_destination = !S_ISDIR(st.st_mode);
    if (r->file_destination) cmd = *step.mask_file;
  }
  r->calls.clear();
  RenderCommand(cmd, root_dir, "", &r->calls);
  if (auto* b = std::get_if<BindCommand>(&cmd); b && step.mask_file) {
    b->source_tree = dev_null_tree;
  }
  at->fd.reset();
  const size_t before = undo->size();
  RETURN_IF_ERROR(Execute(cmd, undo));
  // The executor resolved the path again: the mount must be where the
  // decision (skip, file or directory) was made.
  if (undo->size() > before && (*undo)[before].mounted_at != r->resolved) {
    return MakeOpError(
        {"apply", Stage::kResolve, EAGAIN, step.mount.destination},
        absl::StrCat(Quote(step.mount.destination), " resolved to ",
                     Quote(r->resolved), ", then to ",
                     Quote((*undo)[before].mounted_at),
                     ": the root changed during the apply"));
  }
  return absl::OkStatus();
}

// A dry run of a readonlyPaths/maskedPaths entry.
void DryResolvePath(int root_fd, const OciStep& step,
                    const std::string& root_dir, OciStepResult* r) {
  absl::StatusOr<std::optional<InRootPath>> at = ResolvePath(root_fd, step);
  if (!at.ok()) {
    std::optional<OpError> e = GetOpError(at.status());
    r->problem = std::string(at.status().message());
    r->problem_errno = e ? e->errno_value : 0;
    return;
  }
  if (!at->has_value()) {
    r->note =
        "does not exist now: skipped unless an earlier entry's mount "
        "provides it";
    return;
  }
  r->resolved = (*at)->path;
  if (!step.mask_file.has_value()) return;
  struct stat st;
  if (::fstat((*at)->fd.get(), &st) != 0) return;  // keep both forms
  r->file_destination = !S_ISDIR(st.st_mode);
  r->calls.clear();
  RenderCommand(r->file_destination ? *step.mask_file : step.main, root_dir, "",
                &r->calls);
}

}  // namespace

OciApplyResult ApplyOci(const std::vector<OciStep>& steps,
                        const std::string& root_dir, const Namespace& in,
                        const OciApplyOptions& options) {
  OciApplyResult result;
  for (const OciStep& step : steps) {
    OciStepResult r;
    r.index = step.index;
    r.destination = step.mount.destination;
    r.calls = RenderCalls(step, root_dir);
    result.steps.push_back(std::move(r));
  }
  // Entry i failed with `s`: the result names it. In the trip,
  // fail_and_roll_back also marks it and takes back what was done.
  auto failed = [&](size_t i, const absl::Status& s) {
    result.failed_index = i + 1;
    result.status = PrefixStatus(s, absl::StrCat(StepName(steps[i]), ": "));
  };
  auto fail_and_roll_back = [&](size_t i, const absl::Status& s,
                                const std::vector<UndoRecord>& undo) {
    result.steps[i].state = OciStepState::kFailed;
    failed(i, s);
    result.rolled_back = true;
    result.rollback_status = Undo(undo, Namespace::Self());
  };
  // The user namespaces of idmapped binds are made before the trip: they
  // belong to no mount namespace, and making one forks a helper child.
  std::vector<std::optional<UserNamespace>> idmaps(steps.size());
  if (!options.dry_run) {
    for (size_t i = 0; i < steps.size(); ++i) {
      if (steps[i].uid_map.empty()) continue;
      absl::StatusOr<UserNamespace> ns =
          UserNamespace::WithMaps(steps[i].uid_map, steps[i].gid_map);
      if (!ns.ok()) {
        failed(i, ns.status());
        return result;
      }
      idmaps[i] = *std::move(ns);
    }
  }
  // maskedPaths bind the caller's /dev/null: checked and cloned here, in
  // the caller's namespace, before the trip (open_tree(OPEN_TREE_CLONE)
  // copies only mounts of the caller's own namespace).
  std::vector<std::shared_ptr<UniqueFd>> dev_null(steps.size());
  if (!options.dry_run) {
    UniqueFd checked;
    for (size_t i = 0; i < steps.size(); ++i) {
      if (steps[i].kind != OciStepKind::kMaskedPath) continue;
      absl::Status s;
      if (!checked.valid()) {
        absl::StatusOr<UniqueFd> fd = OpenCallersDevNull();
        if (fd.ok()) {
          checked = *std::move(fd);
        } else {
          s = fd.status();
        }
      }
      if (s.ok()) {
        absl::StatusOr<std::shared_ptr<UniqueFd>> tree =
            CloneDevNull(checked.get());
        if (tree.ok()) {
          dev_null[i] = *std::move(tree);
        } else {
          s = tree.status();
        }
      }
      if (!s.ok()) {
        failed(i, s);
        return result;
      }
    }
  }
  // With --in, the `mounts` binds' sources are paths of the caller (made
  // absolute here, next to the bundle): each is cloned here, in the
  // caller's namespace, before the trip (open_tree(2) OPEN_TREE_CLONE,
  // AT_RECURSIVE for rbind), and the trip attaches the clone; whether a
  // source is a directory is read here too. Without --in the trip runs in
  // this namespace and clones there.
  std::vector<std::shared_ptr<UniqueFd>> source_trees(steps.size());
  std::vector<std::optional<bool>> source_is_dir(steps.size());
  if (!in.is_self()) {
    for (size_t i = 0; i < steps.size(); ++i) {
      const auto* b = std::get_if<BindCommand>(&steps[i].main);
      if (steps[i].kind != OciStepKind::kMount || b == nullptr ||
          b->options.source_in_root || b->source_tree != nullptr) {
        continue;
      }
      source_is_dir[i] = SourceIsDirectory(steps[i]);
      if (options.dry_run) continue;
      absl::StatusOr<std::shared_ptr<UniqueFd>> tree = CloneSource(*b);
      if (!tree.ok()) {
        failed(i, tree.status());
        return result;
      }
      source_trees[i] = *std::move(tree);
    }
  }
  // Whether step i's source is a directory: read before the trip with
  // --in, else here (a stat(2) in the trip's namespace, only when needed).
  auto source_is_directory = [&](size_t i) {
    return source_is_dir[i].has_value() ? *source_is_dir[i]
                                        : SourceIsDirectory(steps[i]);
  };
  bool ran = false;
  absl::Status trip = RunIn(in, "apply", [&]() -> absl::Status {
    ran = true;
    // The root is opened once up front, so that a missing root fails
    // before anything is touched; each command resolves it again by path
    // (a trusted path of this namespace).
    ASSIGN_OR_RETURN(UniqueFd root, OpenRoot(root_dir));
    if (options.dry_run) {
      for (size_t i = 0; i < steps.size(); ++i) {
        OciStepResult& r = result.steps[i];
        if (steps[i].kind == OciStepKind::kMount) {
          r.file_destination = steps[i].bind && !source_is_directory(i);
          DryResolve(root.get(), steps[i], &r);
        } else {
          DryResolvePath(root.get(), steps[i], root_dir, &r);
        }
        r.state = OciStepState::kPlanned;
        if (!r.problem.empty() && result.status.ok()) {
          // The first entry that would fail makes the dry run fail too.
          OpError e;
          e.operation = "apply";
          e.stage = Stage::kResolve;
          e.errno_value = r.problem_errno;
          e.value = r.destination;
          result.failed_index = i + 1;
          result.status = MakeOpError(
              e, absl::StrCat(StepName(steps[i]), ": would fail: ", r.problem));
        }
      }
      return absl::OkStatus();
    }
    std::vector<UndoRecord> undo;
    for (size_t i = 0; i < steps.size(); ++i) {
      OciStepResult& r = result.steps[i];
      if (steps[i].kind != OciStepKind::kMount) {
        absl::Status s =
            RunPathStep(root.get(), steps[i], root_dir, dev_null[i], &r, &undo);
        if (s.ok()) {
          if (r.state != OciStepState::kSkipped) r.state = OciStepState::kDone;
          continue;
        }
        fail_and_roll_back(i, s, undo);
        return absl::OkStatus();
      }
      Command main = steps[i].main;
      if (auto* m = std::get_if<MountCommand>(&main);
          m != nullptr && m->fstype == "proc" && !in.is_self()) {
        // A proc shows the PID namespace of whoever opens its context, and
        // this thread is only in the target's mount namespace: the
        // executor forks a child into the target's PID namespace for that
        // (mount/internal/forked.h) and mounts on a worker of its own.
        m->options.in = in;
      }
      if (auto* b = std::get_if<BindCommand>(&main)) {
        // A file is bound onto a file: create the destination as one.
        b->options.create = r.file_destination = !source_is_directory(i);
        b->options.idmap = idmaps[i];
        if (source_trees[i] != nullptr) b->source_tree = source_trees[i];
      }
      const size_t before = undo.size();
      absl::Status s = Execute(main, &undo);
      for (const Command& p : steps[i].propagation) {
        if (!s.ok()) break;
        s = Execute(p, &undo);
      }
      for (size_t u = before; u < undo.size(); ++u) {
        if (r.resolved.empty()) r.resolved = undo[u].mounted_at;
        for (const Created& c : undo[u].created) r.created.push_back(c.path);
      }
      if (s.ok()) {
        r.state = OciStepState::kDone;
        continue;
      }
      fail_and_roll_back(i, s, undo);
      return absl::OkStatus();
    }
    return absl::OkStatus();
  });
  if (!trip.ok()) {
    result.status = ran ? trip : PrefixStatus(trip, "apply: ");
  }
  return result;
}

}  // namespace linx
