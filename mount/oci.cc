#include "mount/oci.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/json.h"
#include "base/op_error.h"
#include "base/status.h"
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

// The calls an entry makes, written out by the executor's own planner (for
// plans and reports), with the destination joined to the root.
std::vector<std::string> RenderCalls(const OciStep& step,
                                     const std::string& root_dir) {
  std::vector<std::string> calls;
  auto add = [&](Command c) {
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
      calls.push_back(std::string(planned.status().message()));
      return;
    }
    calls.insert(calls.end(), planned->begin(), planned->end());
  };
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
        result.status = PrefixStatus(
            ns.status(),
            absl::StrCat(EntryName(steps[i].index, steps[i].mount.destination),
                         ": "));
        return result;
      }
      idmaps[i] = *std::move(ns);
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
        r.file_destination = steps[i].bind && !SourceIsDirectory(steps[i]);
        DryResolve(root.get(), steps[i], &r);
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
              e, absl::StrCat(EntryName(steps[i].index, r.destination),
                              ": would fail: ", r.problem));
        }
      }
      return absl::OkStatus();
    }
    std::vector<UndoRecord> undo;
    for (size_t i = 0; i < steps.size(); ++i) {
      OciStepResult& r = result.steps[i];
      Command main = steps[i].main;
      if (auto* b = std::get_if<BindCommand>(&main)) {
        // A file is bound onto a file: create the destination as one.
        b->options.create = r.file_destination = !SourceIsDirectory(steps[i]);
        b->options.idmap = idmaps[i];
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
      result.status = PrefixStatus(
          s, absl::StrCat(EntryName(steps[i].index, r.destination), ": "));
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
