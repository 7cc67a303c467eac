#include "mount/internal/fd_api.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/syscalls.h"
#include "mount/flags.h"
#include "mount/internal/hooks.h"
#include "mount/internal/render.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

namespace linx::mount_internal {
namespace {

std::atomic<bool> g_no_fsopen{false};

absl::Status OverlayLayers(const Plan& plan, int fs, const std::string& value,
                           bool* split);
std::atomic<bool> g_no_mount_setattr{false};  // see MountSetattrMissing

// The fs_context's messages (fsopen(2): "e <text>" per read), the errors
// and warnings joined; "" when there are none.
std::string KernelMessages(int fs_fd) {
  std::vector<std::string> lines;
  char buf[1024];
  for (int i = 0; i < 32; ++i) {
    ssize_t n = ::read(fs_fd, buf, sizeof(buf) - 1);
    if (n <= 0) break;
    absl::string_view line(buf, static_cast<size_t>(n));
    absl::ConsumeSuffix(&line, "\n");
    if (absl::ConsumePrefix(&line, "e ") || absl::ConsumePrefix(&line, "w ")) {
      lines.emplace_back(line);
    }
  }
  return absl::StrJoin(lines, "; ");
}

// MS_* bits as fsmount(2) attributes (per mount) and as superblock flags
// for fsconfig (FSCONFIG_SET_FLAG: "ro", "sync", "dirsync", "mand",
// "lazytime", the words vfs_parse_sb_flag takes).
unsigned AttrsOf(unsigned long ms) {
  unsigned a = 0;
  if (ms & MS_RDONLY) a |= sys::kMountAttrRdonly;
  if (ms & MS_NOSUID) a |= sys::kMountAttrNosuid;
  if (ms & MS_NODEV) a |= sys::kMountAttrNodev;
  if (ms & MS_NOEXEC) a |= sys::kMountAttrNoexec;
  if (ms & MS_NOATIME) a |= sys::kMountAttrNoatime;
  if (ms & MS_STRICTATIME) a |= sys::kMountAttrStrictatime;
  if (ms & MS_NODIRATIME) a |= sys::kMountAttrNodiratime;
  if (ms & MS_NOSYMFOLLOW) a |= sys::kMountAttrNosymfollow;
  return a;
}

std::vector<const char*> SbFlagsOf(unsigned long ms) {
  std::vector<const char*> out;
  if (ms & MS_RDONLY) out.push_back("ro");
  if (ms & MS_SYNCHRONOUS) out.push_back("sync");
  if (ms & MS_DIRSYNC) out.push_back("dirsync");
  if (ms & MS_MANDLOCK) out.push_back("mand");
  if (ms & MS_LAZYTIME) out.push_back("lazytime");
  return out;
}

std::atomic<bool> g_no_lowerdir_plus{false};

// overlayfs(7): a "lowerdir=a:b:c" longer than a page as one fsconfig
// "lowerdir+" per layer (6.8+), so the number of layers is not bounded by
// one page of options.
// Colons inside a layer are escaped as "\\:"; "::" separates data-only
// layers (left to the single string). *split is false where the kernel does
// not know lowerdir+ (remembered), and the caller passes the string whole.
absl::Status OverlayLayers(const Plan& plan, int fs, const std::string& value,
                           bool* split) {
  // Only where one string cannot carry the layers: "lowerdir+" shows in
  // mountinfo as "lowerdir+=" (measured on 6.12), and a legacy overlay
  // (before 6.5) takes the key without complaint and fails at
  // FSCONFIG_CMD_CREATE; a value that fits keeps the classic form.
  if (value.size() <= kMaxClassicDataBytes || g_no_lowerdir_plus.load() ||
      value.find("::") != std::string::npos) {
    return absl::OkStatus();
  }
  std::vector<std::string> layers(1);
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size()) {
      layers.back() += value[++i];
    } else if (value[i] == ':') {
      layers.emplace_back();
    } else {
      layers.back() += value[i];
    }
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    if (sys::Fsconfig(fs, sys::kFsconfigSetString, "lowerdir+",
                      layers[i].c_str(), 0) == 0) {
      continue;
    }
    int err = errno;
    std::string messages = KernelMessages(fs);
    if (i == 0 && err == EINVAL &&
        messages.find("nknown parameter") != std::string::npos) {
      g_no_lowerdir_plus.store(true);  // before 6.8: one lowerdir string
      return absl::OkStatus();
    }
    return CallError(plan, PrimaryCall(plan), Stage::kMount, err,
                     absl::StrCat("fsconfig(FSCONFIG_SET_STRING, "
                                  "\"lowerdir+\", ",
                                  Quote(layers[i]), ") (layer ", i + 1, " of ",
                                  layers.size(), ")"),
                     messages);
  }
  *split = true;
  return absl::OkStatus();
}

}  // namespace

// mount(2) data as fsconfig(2) calls: split at commas outside double quotes
// (as the kernel's monolithic parser and the LSMs' quoted context= values
// need), "key=value" → FSCONFIG_SET_STRING, "key" → FSCONFIG_SET_FLAG;
// empty options are skipped, as by the kernel.
std::vector<std::pair<std::string, std::optional<std::string>>> SplitData(
    absl::string_view data) {
  std::vector<std::pair<std::string, std::optional<std::string>>> out;
  std::string cur;
  bool quoted = false;
  auto flush = [&] {
    if (cur.empty()) return;
    size_t eq = cur.find('=');
    if (eq == std::string::npos) {
      out.emplace_back(cur, std::nullopt);
    } else if (eq > 0) {
      out.emplace_back(cur.substr(0, eq), cur.substr(eq + 1));
    }
    cur.clear();
  };
  for (char c : data) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      flush();
    } else {
      cur += c;
    }
  }
  flush();
  return out;
}

absl::StatusOr<UniqueFd> NewDetachedMount(const Plan& plan,
                                          const NewMountPlan& p,
                                          bool* unsupported) {
  // A context opened already (by a child in the target's PID namespace,
  // forked.h) or one of this thread's.
  UniqueFd own;
  if (p.fs_context == nullptr || !p.fs_context->valid()) {
    own.reset(sys::Fsopen(p.fstype.c_str(), sys::kFsopenCloexec));
  }
  const int fs_fd = own.valid() ? own.get()
                    : p.fs_context != nullptr && p.fs_context->valid()
                        ? p.fs_context->get()
                        : -1;
  if (fs_fd < 0) {
    int err = errno;
    if (err == ENOSYS) {
      g_no_fsopen.store(true);  // probed once: a kernel before 5.2
      *unsupported = true;
      return UniqueFd();
    }
    // As mount(2) would say it (ENODEV: the type is not configured).
    return CallError(plan, PrimaryCall(plan), Stage::kMount, err,
                     MainCallHint(plan, err));
  }
  auto config = [&](unsigned cmd, const char* key, const char* value,
                    const std::string& call) -> absl::Status {
    if (sys::Fsconfig(fs_fd, cmd, key, value, 0) == 0) {
      return absl::OkStatus();
    }
    int err = errno;
    return CallError(plan, PrimaryCall(plan), Stage::kMount, err, call,
                     KernelMessages(fs_fd));
  };
  if (!p.source.empty()) {
    RETURN_IF_ERROR(config(sys::kFsconfigSetString, "source", p.source.c_str(),
                           absl::StrCat("fsconfig(FSCONFIG_SET_STRING, "
                                        "\"source\", ",
                                        Quote(p.source), ")")));
  }
  for (const char* flag : SbFlagsOf(p.flags)) {
    RETURN_IF_ERROR(
        config(sys::kFsconfigSetFlag, flag, nullptr,
               absl::StrCat("fsconfig(FSCONFIG_SET_FLAG, \"", flag, "\")")));
  }
  for (const auto& [key, value] : SplitData(p.data)) {
    if (value && p.fstype == "overlay" && key == "lowerdir") {
      bool split = false;
      RETURN_IF_ERROR(OverlayLayers(plan, fs_fd, *value, &split));
      if (split) continue;
    }
    if (value) {
      RETURN_IF_ERROR(
          config(sys::kFsconfigSetString, key.c_str(), value->c_str(),
                 absl::StrCat("fsconfig(FSCONFIG_SET_STRING, ", Quote(key),
                              ", ", Quote(*value), ")")));
    } else {
      RETURN_IF_ERROR(config(
          sys::kFsconfigSetFlag, key.c_str(), nullptr,
          absl::StrCat("fsconfig(FSCONFIG_SET_FLAG, ", Quote(key), ")")));
    }
  }
  RETURN_IF_ERROR(config(sys::kFsconfigCmdCreate, nullptr, nullptr,
                         "fsconfig(FSCONFIG_CMD_CREATE)"));
  UniqueFd mnt(sys::Fsmount(fs_fd, sys::kFsmountCloexec, AttrsOf(p.flags)));
  if (!mnt.valid()) {
    int err = errno;
    return CallError(plan, PrimaryCall(plan), Stage::kMount, err,
                     "fsmount(FSMOUNT_CLOEXEC)", KernelMessages(fs_fd));
  }
  return mnt;
}

bool UseFsopen(const NewMountPlan& p) {
  return p.main_call && (p.flags & (MS_BIND | MS_MOVE | MS_REMOUNT)) == 0 &&
         p.data.find('"') == std::string::npos && !ForceClassicCalls() &&
         !g_no_fsopen.load();
}

sys::MountAttr SetOnlyAttr(unsigned long per_mount) {
  sys::MountAttr attr;
  attr.attr_set = AttrsOf(per_mount);
  if (per_mount & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)) {
    attr.attr_clr = sys::kMountAttrAtimeMask;
  }
  return attr;
}

std::string AttrSetNames(const sys::MountAttr& attr) {
  static constexpr struct {
    uint64_t bit;
    const char* name;
  } kNames[] = {
      {sys::kMountAttrRdonly, "MOUNT_ATTR_RDONLY"},
      {sys::kMountAttrNosuid, "MOUNT_ATTR_NOSUID"},
      {sys::kMountAttrNodev, "MOUNT_ATTR_NODEV"},
      {sys::kMountAttrNoexec, "MOUNT_ATTR_NOEXEC"},
      {sys::kMountAttrNoatime, "MOUNT_ATTR_NOATIME"},
      {sys::kMountAttrStrictatime, "MOUNT_ATTR_STRICTATIME"},
      {sys::kMountAttrNodiratime, "MOUNT_ATTR_NODIRATIME"},
      {sys::kMountAttrIdmap, "MOUNT_ATTR_IDMAP"},
      {sys::kMountAttrNosymfollow, "MOUNT_ATTR_NOSYMFOLLOW"},
  };
  std::string out;
  for (const auto& n : kNames) {
    if (attr.attr_set & n.bit) {
      absl::StrAppend(&out, out.empty() ? "" : "|", n.name);
    }
  }
  if ((attr.attr_clr & sys::kMountAttrAtimeMask) != 0 &&
      (attr.attr_set & sys::kMountAttrAtimeMask) == 0) {
    absl::StrAppend(&out, out.empty() ? "" : "|", "MOUNT_ATTR_RELATIME");
  }
  return out.empty() ? "0" : out;
}

bool MountSetattrMissing() { return g_no_mount_setattr.load(); }

void NoteMountSetattrMissing() { g_no_mount_setattr.store(true); }

bool UseOpenTreeBinds() {
  return !ForceClassicCalls() && !MountSetattrMissing();
}

absl::Status SetTreeAttrs(const Plan& plan, int tree, unsigned long per_mount,
                          bool rec, bool* unsupported, int userns_fd) {
  if (per_mount == 0 && userns_fd < 0) return absl::OkStatus();
  sys::MountAttr attr = SetOnlyAttr(per_mount);
  if (userns_fd >= 0) {
    attr.attr_set |= sys::kMountAttrIdmap;
    attr.userns_fd = static_cast<uint64_t>(userns_fd);
  }
  unsigned flags = sys::kAtEmptyPath | (rec ? sys::kAtRecursive : 0);
  if (sys::MountSetattr(tree, "", flags, &attr) == 0) return absl::OkStatus();
  int err = errno;
  if (err == ENOSYS) {
    NoteMountSetattrMissing();  // probed once: a kernel before 5.12
    *unsupported = true;
    return absl::OkStatus();
  }
  return CallError(plan, PrimaryCall(plan), Stage::kMount, err,
                   absl::StrCat("mount_setattr(", tree, ", \"\", AT_EMPTY_PATH",
                                rec ? "|AT_RECURSIVE" : "",
                                ", {attr_set=", AttrSetNames(attr), "})"));
}

}  // namespace linx::mount_internal
