#include "mount/oci.h"

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
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/json.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/syscalls.h"
#include "base/unique_fd.h"
#include "mount/flags.h"
#include "mount/in_root.h"
#include "nsexec/userns.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256  // Linux 5.10; older headers lack it
#endif

namespace linx {
namespace {

constexpr size_t kMaxData = 4095;  // mount(2) copies one page

// How runc's specconv reads a word: sets or clears a mount(2) bit.
struct FlagWord {
  const char* word;
  bool clear;
  unsigned long bit;
};

constexpr FlagWord kFlagWords[] = {
    {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},
    {"defaults", false, 0},
    {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},
    {"lazytime", false, MS_LAZYTIME},
    {"loud", true, MS_SILENT},
    {"mand", false, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},
    {"nolazytime", true, MS_LAZYTIME},
    {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"silent", false, MS_SILENT},
    {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},
    {"symfollow", true, MS_NOSYMFOLLOW},
    {"sync", false, MS_SYNCHRONOUS},
};

struct PropagationWord {
  const char* word;
  MountFlag type;
  bool rec;
};

constexpr PropagationWord kPropagationWords[] = {
    {"private", MountFlag::kPrivate, false},
    {"rprivate", MountFlag::kPrivate, true},
    {"shared", MountFlag::kShared, false},
    {"rshared", MountFlag::kShared, true},
    {"slave", MountFlag::kSlave, false},
    {"rslave", MountFlag::kSlave, true},
    {"unbindable", MountFlag::kUnbindable, false},
    {"runbindable", MountFlag::kUnbindable, true},
};

// Words runc (or the spec) knows and linx cannot honour, with the reason.
struct RefusedWord {
  const char* word;
  const char* why;
};

constexpr const char* kRecursiveAttr =
    "recursive mount attributes (mount_setattr(2) AT_RECURSIVE) are not "
    "supported by linx apply yet";

constexpr RefusedWord kRefusedWords[] = {
    {"tmpcopyup",
     "copying the image's directory into the new tmpfs is not supported"},
    {"rro", kRecursiveAttr},
    {"rrw", kRecursiveAttr},
    {"rnosuid", kRecursiveAttr},
    {"rsuid", kRecursiveAttr},
    {"rnodev", kRecursiveAttr},
    {"rdev", kRecursiveAttr},
    {"rnoexec", kRecursiveAttr},
    {"rexec", kRecursiveAttr},
    {"rnoatime", kRecursiveAttr},
    {"ratime", kRecursiveAttr},
    {"rrelatime", kRecursiveAttr},
    {"rnorelatime", kRecursiveAttr},
    {"rstrictatime", kRecursiveAttr},
    {"rnostrictatime", kRecursiveAttr},
    {"rnodiratime", kRecursiveAttr},
    {"rdiratime", kRecursiveAttr},
    {"rnosymfollow", kRecursiveAttr},
    {"rsymfollow", kRecursiveAttr},
    {"acl", "linx has no flag word for MS_POSIXACL"},
    {"noacl", "linx has no flag word for MS_POSIXACL"},
    {"iversion", "linx has no flag word for MS_I_VERSION"},
    {"noiversion", "linx has no flag word for MS_I_VERSION"},
    {"remount",
     "an apply entry makes a new mount; remount it with `linx remount`"},
};

// Per-mount bits: the only ones a bind (and its follow-up) can carry.
constexpr unsigned long kSuperblockBits =
    MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK | MS_LAZYTIME;
constexpr unsigned long kAtimeBits = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;

std::string EntryName(size_t index, absl::string_view destination) {
  return absl::StrCat("entry ", index, " (", Quote(destination), ")");
}

// "entry 3 ("/dev/shm")", or for a path entry
// "entry 12 (maskedPaths[1] "/proc/kcore")".
std::string StepName(const OciStep& step) {
  switch (step.kind) {
    case OciStepKind::kMount:
      break;
    case OciStepKind::kReadonlyPath:
    case OciStepKind::kMaskedPath:
      return absl::StrCat(
          "entry ", step.index, " (",
          step.kind == OciStepKind::kMaskedPath ? "maskedPaths["
                                                : "readonlyPaths[",
          step.path_index, "] ", Quote(step.mount.destination), ")");
  }
  return EntryName(step.index, step.mount.destination);
}

absl::Status EntryError(size_t index, const OciMount& m, Stage stage,
                        absl::string_view value, absl::string_view what) {
  OpError e;
  e.operation = "apply";
  e.stage = stage;
  e.value = std::string(value);
  return MakeOpError(e,
                     absl::StrCat(EntryName(index, m.destination), ": ", what));
}

std::string Joined(const std::string& root, const std::string& path) {
  std::string p = path;
  if (p.empty() || p[0] != '/') p.insert(0, "/");
  if (root == "/") return p;
  return root + p;
}

// The calls one command makes, written out by the executor's own planner
// (for plans and reports), with the destination joined to the root, each
// line prefixed with `prefix`.
void RenderCommand(Command c, const std::string& root_dir,
                   absl::string_view prefix, std::vector<std::string>* calls) {
  std::visit(
      [&](auto& cmd) {
        using T = std::decay_t<decltype(cmd)>;
        if constexpr (!std::is_same_v<T, PivotRootCommand>) {
          cmd.options.root.dir = root_dir;
        }
      },
      c);
  absl::StatusOr<std::vector<std::string>> planned = PlanCalls(c);
  if (!planned.ok()) {
    calls->push_back(absl::StrCat(prefix, planned.status().message()));
    return;
  }
  for (const std::string& line : *planned) {
    calls->push_back(absl::StrCat(prefix, line));
  }
}

// The calls an entry makes (a maskedPaths entry: both forms).
std::vector<std::string> RenderCalls(const OciStep& step,
                                     const std::string& root_dir) {
  std::vector<std::string> calls;
  if (step.mask_file.has_value()) {
    RenderCommand(step.main, root_dir, "if a directory: ", &calls);
    RenderCommand(*step.mask_file, root_dir, "otherwise: ", &calls);
    return calls;
  }
  auto add = [&](const Command& c) { RenderCommand(c, root_dir, "", &calls); };
  add(step.main);
  if (!step.uid_map.empty()) {
    calls.push_back(absl::StrCat(
        "MOUNT_ATTR_IDMAP through a new user namespace (uid_map ",
        Quote(step.uid_map), ", gid_map ", Quote(step.gid_map), ")"));
  }
  for (const Command& c : step.propagation) add(c);
  return calls;
}

absl::StatusOr<OciStep> TranslateOne(size_t index, const OciMount& m,
                                     const OciTranslateOptions& options) {
  if (m.destination.empty()) {
    return EntryError(index, m, Stage::kBadArgument, "destination",
                      "destination is empty");
  }
  unsigned long bits = 0;
  std::vector<std::string> data;
  std::vector<const PropagationWord*> propagation;
  bool idmap = !m.uid_mappings.empty() || !m.gid_mappings.empty();
  bool ridmap = false;
  for (const std::string& word : m.options) {
    bool known = false;
    if (word == "idmap" || word == "ridmap") {
      idmap = true;
      ridmap = ridmap || word == "ridmap";
      continue;
    }
    for (const RefusedWord& r : kRefusedWords) {
      if (word == r.word) {
        return EntryError(
            index, m, Stage::kBadFlag, word,
            absl::StrCat("option ", Quote(word), " is not supported: ", r.why));
      }
    }
    for (const FlagWord& f : kFlagWords) {
      if (word == f.word) {
        bits = f.clear ? bits & ~f.bit : bits | f.bit;
        known = true;
        break;
      }
    }
    for (const PropagationWord& p : kPropagationWords) {
      if (word == p.word) {
        propagation.push_back(&p);
        known = true;
        break;
      }
    }
    if (!known) data.push_back(word);
  }
  OciStep step;
  step.index = index;
  step.mount = m;
  step.bind = (bits & MS_BIND) != 0 || m.type == "bind";
  std::string joined_data = absl::StrJoin(data, ",");
  if (joined_data.size() > kMaxData) {
    return EntryError(
        index, m, Stage::kBadArgument, "data",
        absl::StrCat("the data string is ", joined_data.size(),
                     " bytes; mount(2) takes at most ", kMaxData));
  }
  if (idmap) {
    // An idmapped mount is a bind with MOUNT_ATTR_IDMAP, through a user
    // namespace with exactly these maps.
    if (!step.bind) {
      return EntryError(index, m, Stage::kBadFlag, "idmap",
                        "idmap/ridmap and uidMappings/gidMappings apply to "
                        "binds only in linx apply");
    }
    if (m.uid_mappings.empty() || m.gid_mappings.empty()) {
      return EntryError(index, m, Stage::kBadArgument, "uidMappings",
                        "an idmapped bind needs both uidMappings and "
                        "gidMappings");
    }
    for (const OciIdMapping& u : m.uid_mappings) {
      absl::StrAppend(&step.uid_map, u.container_id, " ", u.host_id, " ",
                      u.size, "\n");
    }
    for (const OciIdMapping& g : m.gid_mappings) {
      absl::StrAppend(&step.gid_map, g.container_id, " ", g.host_id, " ",
                      g.size, "\n");
    }
    // ridmap: the whole tree (the bind's AT_RECURSIVE covers it).
    if (ridmap) bits |= MS_REC;
  }
  if (!step.bind && m.type.empty()) {
    return EntryError(index, m, Stage::kBadArgument, "type",
                      "no type, and the options hold no bind or rbind");
  }
  if (!step.bind && m.type == "cgroup") {
    return EntryError(index, m, Stage::kBadArgument, "type",
                      "type \"cgroup\" is runc's emulation (a cgroup2 mount "
                      "or binds of the cgroup v1 hierarchies), not a "
                      "filesystem; write \"cgroup2\"");
  }
  InRoot root;
  root.dir = options.root_dir;
  absl::StatusOr<std::vector<MountFlag>> flags =
      MountFlagsFromBits(bits & ~MS_BIND);
  if (!flags.ok()) return flags.status();  // every bit above has a word
  if (step.bind) {
    if (unsigned long sb = bits & kSuperblockBits; sb != 0) {
      return EntryError(
          index, m, Stage::kBadFlag, RenderMountFlags(sb),
          absl::StrCat(RenderMountFlags(sb),
                       " is a superblock flag and cannot apply to a bind "
                       "mount"));
    }
    unsigned long atime = bits & kAtimeBits;
    if ((atime & (atime - 1)) != 0) {
      return EntryError(
          index, m, Stage::kBadFlag, RenderMountFlags(atime),
          absl::StrCat("contradictory atime flags ", RenderMountFlags(atime)));
    }
    if (m.source.empty()) {
      return EntryError(index, m, Stage::kBadArgument, "source",
                        "a bind needs a source");
    }
    BindCommand b;
    b.source =
        m.source[0] == '/'
            ? m.source
            : absl::StrCat(options.base_dir == "/" ? "" : options.base_dir, "/",
                           m.source);
    b.target = m.destination;
    b.options.flags = *std::move(flags);
    b.options.data = joined_data;
    b.options.mkdir = true;
    b.options.root = root;
    step.main = std::move(b);
  } else {
    MountCommand c;
    c.source = m.source;
    c.target = m.destination;
    c.fstype = m.type;
    c.options.flags = *std::move(flags);
    c.options.data = joined_data;
    c.options.mkdir = true;
    c.options.root = root;
    step.main = std::move(c);
  }
  for (const PropagationWord* p : propagation) {
    MountCommand c;
    c.target = m.destination;
    c.options.flags = {p->type};
    if (p->rec) c.options.flags.push_back(MountFlag::kRec);
    c.options.root = root;
    step.propagation.push_back(std::move(c));
  }
  return step;
}

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

// A readonlyPaths or maskedPaths entry (see mount/oci.h). The path is
// resolved in the root like a destination; nothing is ever created for it.
OciStep TranslatePath(OciStepKind kind, size_t index, size_t path_index,
                      const std::string& path,
                      const OciTranslateOptions& options) {
  OciStep step;
  step.index = index;
  step.kind = kind;
  step.path_index = path_index;
  step.mount.destination = path;
  InRoot root;
  root.dir = options.root_dir;
  if (kind == OciStepKind::kReadonlyPath) {
    // Bound onto itself (resolved once, mount/mount.h source_in_root), the
    // whole tree read-only (mount_setattr AT_RECURSIVE on the clone).
    BindCommand b;
    b.source = path;
    b.target = path;
    b.options.flags = {MountFlag::kRo, MountFlag::kRec};
    b.options.root = root;
    b.options.source_in_root = true;
    step.bind = true;
    step.main = std::move(b);
    return step;
  }
  // runc's maskPath: a read-only tmpfs over a directory, /dev/null bound
  // over anything else.
  MountCommand dir;
  dir.source = "tmpfs";
  dir.target = path;
  dir.fstype = "tmpfs";
  dir.options.flags = {MountFlag::kRo};
  dir.options.root = root;
  step.main = std::move(dir);
  BindCommand file;
  file.source = "/dev/null";
  file.target = path;
  file.options.root = root;
  step.mask_file = std::move(file);
  return step;
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

absl::StatusOr<std::vector<OciStep>> TranslateOciMounts(
    const std::vector<OciMount>& mounts, const OciTranslateOptions& options) {
  for (const auto& [name, value] : {std::pair<const char*, const std::string*>{
                                        "base_dir", &options.base_dir},
                                    {"root_dir", &options.root_dir}}) {
    if (value->empty() || (*value)[0] != '/') {
      return BadArgumentError(
          "apply", name,
          absl::StrCat("must be an absolute path, got ", Quote(*value)));
    }
  }
  std::vector<OciStep> steps;
  for (size_t i = 0; i < mounts.size(); ++i) {
    ASSIGN_OR_RETURN(OciStep step, TranslateOne(i + 1, mounts[i], options));
    steps.push_back(std::move(step));
  }
  return steps;
}

absl::StatusOr<std::vector<OciStep>> TranslateOciConfig(
    const OciConfig& config, const OciTranslateOptions& options) {
  ASSIGN_OR_RETURN(std::vector<OciStep> steps,
                   TranslateOciMounts(config.mounts, options));
  for (size_t i = 0; i < config.readonly_paths.size(); ++i) {
    steps.push_back(TranslatePath(OciStepKind::kReadonlyPath, steps.size() + 1,
                                  i, config.readonly_paths[i], options));
  }
  for (size_t i = 0; i < config.masked_paths.size(); ++i) {
    steps.push_back(TranslatePath(OciStepKind::kMaskedPath, steps.size() + 1, i,
                                  config.masked_paths[i], options));
  }
  return steps;
}

const char* OciStepKindName(OciStepKind kind) {
  switch (kind) {
    case OciStepKind::kMount:
      return "mount";
    case OciStepKind::kReadonlyPath:
      return "readonly_path";
    case OciStepKind::kMaskedPath:
      return "masked_path";
  }
  return "unknown";
}

const char* OciStepStateName(OciStepState state) {
  switch (state) {
    case OciStepState::kPlanned:
      return "planned";
    case OciStepState::kDone:
      return "done";
    case OciStepState::kFailed:
      return "failed";
    case OciStepState::kNotReached:
      return "not_reached";
    case OciStepState::kSkipped:
      return "skipped";
  }
  return "unknown";
}

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
  // The user namespaces of idmapped binds are made before the trip: they
  // belong to no mount namespace, and making one forks a helper child.
  std::vector<std::optional<UserNamespace>> idmaps(steps.size());
  if (!options.dry_run) {
    for (size_t i = 0; i < steps.size(); ++i) {
      if (steps[i].uid_map.empty()) continue;
      absl::StatusOr<UserNamespace> ns =
          UserNamespace::WithMaps(steps[i].uid_map, steps[i].gid_map);
      if (!ns.ok()) {
        result.failed_index = i + 1;
        result.status =
            PrefixStatus(ns.status(), absl::StrCat(StepName(steps[i]), ": "));
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
        result.failed_index = i + 1;
        result.status = PrefixStatus(s, absl::StrCat(StepName(steps[i]), ": "));
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
        result.failed_index = i + 1;
        result.status =
            PrefixStatus(tree.status(), absl::StrCat(StepName(steps[i]), ": "));
        return result;
      }
      source_trees[i] = *std::move(tree);
    }
  }
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
          r.file_destination =
              steps[i].bind &&
              !source_is_dir[i].value_or(SourceIsDirectory(steps[i]));
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
        r.state = OciStepState::kFailed;
        result.failed_index = i + 1;
        result.status = PrefixStatus(s, absl::StrCat(StepName(steps[i]), ": "));
        result.rolled_back = true;
        result.rollback_status = Undo(undo, Namespace::Self());
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
        b->options.create = r.file_destination =
            !source_is_dir[i].value_or(SourceIsDirectory(steps[i]));
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
      r.state = OciStepState::kFailed;
      result.failed_index = i + 1;
      result.status = PrefixStatus(s, absl::StrCat(StepName(steps[i]), ": "));
      result.rolled_back = true;
      result.rollback_status = Undo(undo, Namespace::Self());
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
