// linx apply's translation half (mount/oci.h): OCI mount entries and
// readonlyPaths/maskedPaths into typed commands, as runc's specconv reads
// their options; and how the steps are written out for plans and reports.
// Applying them is mount/oci_apply.cc.
#include "mount/oci.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/unique_fd.h"
#include "mount/flags.h"
#include "mount/in_root.h"
#include "mount/internal/oci_steps.h"
#include "nsexec/userns.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256  // Linux 5.10; older headers lack it
#endif

namespace linx {
namespace oci_internal {

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

}  // namespace oci_internal

using oci_internal::TranslateOne;
using oci_internal::TranslatePath;

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

}  // namespace linx
