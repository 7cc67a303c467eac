#include "mount/flags.h"

#include <sys/mount.h>

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/op_error.h"

namespace linx {
namespace {

struct MountFlagInfo {
  MountFlag flag;
  const char* word;
  const char* bit_name;
  unsigned long bit;
};

// mount(2) and mount(8). Indexed by the enum value.
constexpr MountFlagInfo kMountFlags[] = {
    {MountFlag::kRo, "ro", "MS_RDONLY", MS_RDONLY},
    {MountFlag::kNosuid, "nosuid", "MS_NOSUID", MS_NOSUID},
    {MountFlag::kNodev, "nodev", "MS_NODEV", MS_NODEV},
    {MountFlag::kNoexec, "noexec", "MS_NOEXEC", MS_NOEXEC},
    {MountFlag::kSync, "sync", "MS_SYNCHRONOUS", MS_SYNCHRONOUS},
    {MountFlag::kRemount, "remount", "MS_REMOUNT", MS_REMOUNT},
    {MountFlag::kMandlock, "mandlock", "MS_MANDLOCK", MS_MANDLOCK},
    {MountFlag::kDirsync, "dirsync", "MS_DIRSYNC", MS_DIRSYNC},
    {MountFlag::kNoatime, "noatime", "MS_NOATIME", MS_NOATIME},
    {MountFlag::kNodiratime, "nodiratime", "MS_NODIRATIME", MS_NODIRATIME},
    {MountFlag::kBind, "bind", "MS_BIND", MS_BIND},
    {MountFlag::kMove, "move", "MS_MOVE", MS_MOVE},
    {MountFlag::kRec, "rec", "MS_REC", MS_REC},
    {MountFlag::kSilent, "silent", "MS_SILENT", MS_SILENT},
    {MountFlag::kPrivate, "private", "MS_PRIVATE", MS_PRIVATE},
    {MountFlag::kShared, "shared", "MS_SHARED", MS_SHARED},
    {MountFlag::kSlave, "slave", "MS_SLAVE", MS_SLAVE},
    {MountFlag::kUnbindable, "unbindable", "MS_UNBINDABLE", MS_UNBINDABLE},
    {MountFlag::kRelatime, "relatime", "MS_RELATIME", MS_RELATIME},
    {MountFlag::kStrictatime, "strictatime", "MS_STRICTATIME", MS_STRICTATIME},
    {MountFlag::kLazytime, "lazytime", "MS_LAZYTIME", MS_LAZYTIME},
    {MountFlag::kNosymfollow, "nosymfollow", "MS_NOSYMFOLLOW", MS_NOSYMFOLLOW},
};
constexpr int kMountFlagCount = sizeof(kMountFlags) / sizeof(kMountFlags[0]);

struct UmountFlagInfo {
  UmountFlag flag;
  const char* word;
  const char* bit_name;
  int bit;
};

// umount2(2).
constexpr UmountFlagInfo kUmountFlags[] = {
    {UmountFlag::kForce, "force", "MNT_FORCE", MNT_FORCE},
    {UmountFlag::kDetach, "detach", "MNT_DETACH", MNT_DETACH},
    {UmountFlag::kExpire, "expire", "MNT_EXPIRE", MNT_EXPIRE},
    {UmountFlag::kNoFollow, "no_follow", "UMOUNT_NOFOLLOW", UMOUNT_NOFOLLOW},
};
constexpr int kUmountFlagCount = sizeof(kUmountFlags) / sizeof(kUmountFlags[0]);

constexpr MountFlag kAllMountFlags[] = {
    MountFlag::kRo,          MountFlag::kNosuid,      MountFlag::kNodev,
    MountFlag::kNoexec,      MountFlag::kSync,        MountFlag::kRemount,
    MountFlag::kMandlock,    MountFlag::kDirsync,     MountFlag::kNoatime,
    MountFlag::kNodiratime,  MountFlag::kBind,        MountFlag::kMove,
    MountFlag::kRec,         MountFlag::kSilent,      MountFlag::kPrivate,
    MountFlag::kShared,      MountFlag::kSlave,       MountFlag::kUnbindable,
    MountFlag::kRelatime,    MountFlag::kStrictatime, MountFlag::kLazytime,
    MountFlag::kNosymfollow,
};
constexpr UmountFlag kAllUmountFlags[] = {
    UmountFlag::kForce, UmountFlag::kDetach, UmountFlag::kExpire,
    UmountFlag::kNoFollow};

const MountFlagInfo* Info(MountFlag flag) {
  int i = static_cast<int>(flag);
  return (i >= 0 && i < kMountFlagCount) ? &kMountFlags[i] : nullptr;
}
const UmountFlagInfo* Info(UmountFlag flag) {
  int i = static_cast<int>(flag);
  return (i >= 0 && i < kUmountFlagCount) ? &kUmountFlags[i] : nullptr;
}

absl::Status BadFlag(absl::string_view kind, absl::string_view word) {
  return MakeOpError({"parse_flags", Stage::kBadFlag, 0, std::string(word)},
                     absl::StrCat("unknown ", kind, " flag \"", word, "\""));
}

absl::Status UnknownBits(absl::string_view kind, unsigned long bits) {
  std::string hex = absl::StrCat("0x", absl::Hex(bits));
  return MakeOpError({"parse_flags", Stage::kBadFlag, 0, hex},
                     absl::StrCat("unknown ", kind, " flag bits ", hex));
}

}  // namespace

absl::Span<const MountFlag> AllMountFlags() { return kAllMountFlags; }
absl::Span<const UmountFlag> AllUmountFlags() { return kAllUmountFlags; }

absl::StatusOr<MountFlag> ParseMountFlag(absl::string_view word) {
  for (const MountFlagInfo& f : kMountFlags) {
    if (word == f.word) return f.flag;
  }
  return BadFlag("mount", word);
}

absl::StatusOr<UmountFlag> ParseUmountFlag(absl::string_view word) {
  for (const UmountFlagInfo& f : kUmountFlags) {
    if (word == f.word) return f.flag;
  }
  return BadFlag("umount", word);
}

absl::StatusOr<std::vector<MountFlag>> ParseMountFlags(absl::string_view list) {
  std::vector<MountFlag> out;
  if (list.empty()) return out;
  for (absl::string_view word : absl::StrSplit(list, ',')) {
    absl::StatusOr<MountFlag> f = ParseMountFlag(word);
    if (!f.ok()) return f.status();
    out.push_back(*f);
  }
  return out;
}

absl::StatusOr<std::vector<UmountFlag>> ParseUmountFlags(
    absl::string_view list) {
  std::vector<UmountFlag> out;
  if (list.empty()) return out;
  for (absl::string_view word : absl::StrSplit(list, ',')) {
    absl::StatusOr<UmountFlag> f = ParseUmountFlag(word);
    if (!f.ok()) return f.status();
    out.push_back(*f);
  }
  return out;
}

const char* MountFlagName(MountFlag flag) {
  const MountFlagInfo* f = Info(flag);
  return f ? f->word : "unknown";
}
const char* UmountFlagName(UmountFlag flag) {
  const UmountFlagInfo* f = Info(flag);
  return f ? f->word : "unknown";
}
const char* MountFlagBitName(MountFlag flag) {
  const MountFlagInfo* f = Info(flag);
  return f ? f->bit_name : "unknown";
}
const char* UmountFlagBitName(UmountFlag flag) {
  const UmountFlagInfo* f = Info(flag);
  return f ? f->bit_name : "unknown";
}

std::string JoinMountFlags(absl::Span<const MountFlag> flags) {
  return absl::StrJoin(flags, ",", [](std::string* out, MountFlag f) {
    out->append(MountFlagName(f));
  });
}
std::string JoinUmountFlags(absl::Span<const UmountFlag> flags) {
  return absl::StrJoin(flags, ",", [](std::string* out, UmountFlag f) {
    out->append(UmountFlagName(f));
  });
}

unsigned long MountFlagBit(MountFlag flag) {
  const MountFlagInfo* f = Info(flag);
  return f ? f->bit : 0;
}
int UmountFlagBit(UmountFlag flag) {
  const UmountFlagInfo* f = Info(flag);
  return f ? f->bit : 0;
}

unsigned long MountFlagsToBits(absl::Span<const MountFlag> flags) {
  unsigned long bits = 0;
  for (MountFlag f : flags) bits |= MountFlagBit(f);
  return bits;
}
int UmountFlagsToBits(absl::Span<const UmountFlag> flags) {
  int bits = 0;
  for (UmountFlag f : flags) bits |= UmountFlagBit(f);
  return bits;
}

absl::StatusOr<std::vector<MountFlag>> MountFlagsFromBits(unsigned long bits) {
  std::vector<MountFlag> out;
  unsigned long left = bits;
  for (const MountFlagInfo& f : kMountFlags) {
    if ((bits & f.bit) != 0) {
      out.push_back(f.flag);
      left &= ~f.bit;
    }
  }
  if (left != 0) return UnknownBits("mount", left);
  return out;
}

absl::StatusOr<std::vector<UmountFlag>> UmountFlagsFromBits(int bits) {
  std::vector<UmountFlag> out;
  unsigned left = static_cast<unsigned>(bits);
  for (const UmountFlagInfo& f : kUmountFlags) {
    if ((bits & f.bit) != 0) {
      out.push_back(f.flag);
      left &= ~static_cast<unsigned>(f.bit);
    }
  }
  if (left != 0) return UnknownBits("umount", left);
  return out;
}

std::string RenderMountFlags(unsigned long bits) {
  if (bits == 0) return "0";
  std::string out;
  unsigned long left = bits;
  for (const MountFlagInfo& f : kMountFlags) {
    if ((bits & f.bit) != 0) {
      absl::StrAppend(&out, out.empty() ? "" : "|", f.bit_name);
      left &= ~f.bit;
    }
  }
  if (left != 0) {
    absl::StrAppend(&out, out.empty() ? "" : "|", "0x", absl::Hex(left));
  }
  return out;
}

std::string RenderUmountFlags(int bits) {
  if (bits == 0) return "0";
  std::string out;
  unsigned left = static_cast<unsigned>(bits);
  for (const UmountFlagInfo& f : kUmountFlags) {
    if ((bits & f.bit) != 0) {
      absl::StrAppend(&out, out.empty() ? "" : "|", f.bit_name);
      left &= ~static_cast<unsigned>(f.bit);
    }
  }
  if (left != 0) {
    absl::StrAppend(&out, out.empty() ? "" : "|", "0x", absl::Hex(left));
  }
  return out;
}

bool IsPropagationFlag(MountFlag flag) {
  return flag == MountFlag::kPrivate || flag == MountFlag::kShared ||
         flag == MountFlag::kSlave || flag == MountFlag::kUnbindable;
}

}  // namespace linx
