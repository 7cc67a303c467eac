// Mount and umount flag words, both ways: word ↔ typed flag ↔ kernel bit.
//
//   absl::StatusOr<std::vector<linx::MountFlag>> flags =
//       linx::ParseMountFlags("ro,nosuid,nodev");   // from a CLI or config
//   if (!flags.ok()) return flags.status();          // bad_flag, names the
//   word linx::BindOptions opts; opts.flags = *flags;
//
//   linx::RenderMountFlags(MS_NOSUID | MS_NODEV);     // "MS_NOSUID|MS_NODEV"
//
// The words are mount(8)'s: ro nosuid nodev noexec sync remount mandlock
// dirsync noatime nodiratime bind move rec silent private shared slave
// unbindable relatime strictatime lazytime; and for umount2(2) force detach
// expire no_follow. docs/mount.md has the table with each kernel bit.
//
// Kernel bits are plain integers here (`unsigned long` as mount(2) takes
// them, `int` as umount2(2) takes them) so that the C ABI can convert; the
// MS_* / MNT_* macros themselves stay in the .cc files.
//
// Everything in this file is pure (no syscalls, no global state) and
// thread-safe.
#ifndef LINX_MOUNT_FLAGS_H_
#define LINX_MOUNT_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace linx {

// One mount(2) flag. The order is the order of RenderMountFlags' output and
// of the table in docs/mount.md; never renumber (the C ABI does not depend
// on the values, but logs might).
enum class MountFlag {
  kRo,           // MS_RDONLY
  kNosuid,       // MS_NOSUID
  kNodev,        // MS_NODEV
  kNoexec,       // MS_NOEXEC
  kSync,         // MS_SYNCHRONOUS
  kRemount,      // MS_REMOUNT
  kMandlock,     // MS_MANDLOCK
  kDirsync,      // MS_DIRSYNC
  kNoatime,      // MS_NOATIME
  kNodiratime,   // MS_NODIRATIME
  kBind,         // MS_BIND
  kMove,         // MS_MOVE
  kRec,          // MS_REC
  kSilent,       // MS_SILENT
  kPrivate,      // MS_PRIVATE
  kShared,       // MS_SHARED
  kSlave,        // MS_SLAVE
  kUnbindable,   // MS_UNBINDABLE
  kRelatime,     // MS_RELATIME
  kStrictatime,  // MS_STRICTATIME
  kLazytime,     // MS_LAZYTIME
  kNosymfollow,  // MS_NOSYMFOLLOW (5.10+): symlinks are not followed here
};

// One umount2(2) flag.
enum class UmountFlag {
  kForce,     // MNT_FORCE
  kDetach,    // MNT_DETACH
  kExpire,    // MNT_EXPIRE
  kNoFollow,  // UMOUNT_NOFOLLOW
};

// Every MountFlag / UmountFlag, in enum order (for tables and tests).
absl::Span<const MountFlag> AllMountFlags();
absl::Span<const UmountFlag> AllUmountFlags();

// ---- Words ----------------------------------------------------------------

// "ro" → kRo, ... Exact, case-sensitive match. Any other word (including
// "") → kInvalidArgument with an OpError payload {operation "parse_flags",
// stage kBadFlag, errno 0, value = the word} and the message
// `unknown mount flag "rw"`.
absl::StatusOr<MountFlag> ParseMountFlag(absl::string_view word);
absl::StatusOr<UmountFlag> ParseUmountFlag(absl::string_view word);

// A comma-separated list ("ro,nosuid"). "" gives no flags; empty items
// ("ro,,nosuid", a trailing comma) are a bad_flag error (value ""), and the
// first unknown word fails the whole list as ParseMountFlag does.
// Duplicates are kept (they are harmless).
absl::StatusOr<std::vector<MountFlag>> ParseMountFlags(absl::string_view list);
absl::StatusOr<std::vector<UmountFlag>> ParseUmountFlags(
    absl::string_view list);

// kRo → "ro". Static storage. "unknown" for a value outside the enum.
const char* MountFlagName(MountFlag flag);
const char* UmountFlagName(UmountFlag flag);

// kRo → "MS_RDONLY", kNoFollow → "UMOUNT_NOFOLLOW". Static storage.
const char* MountFlagBitName(MountFlag flag);
const char* UmountFlagBitName(UmountFlag flag);

// {kRo, kNosuid} → "ro,nosuid" (the inverse of ParseMountFlags).
std::string JoinMountFlags(absl::Span<const MountFlag> flags);
std::string JoinUmountFlags(absl::Span<const UmountFlag> flags);

// ---- Kernel bits ----------------------------------------------------------

// The kernel bit of one flag (MS_RDONLY for kRo, ...).
unsigned long MountFlagBit(MountFlag flag);
int UmountFlagBit(UmountFlag flag);

// The OR of the flags' bits.
unsigned long MountFlagsToBits(absl::Span<const MountFlag> flags);
int UmountFlagsToBits(absl::Span<const UmountFlag> flags);

// The flags whose bits make up `bits`, in enum order. A bit that no flag
// word names (e.g. MS_NOSYMFOLLOW, MS_KERNMOUNT, or the old MS_MGC_VAL magic
// in the upper 16 bits) → kInvalidArgument, stage kBadFlag, value
// "0x<the unknown bits in hex>". 0 → no flags.
absl::StatusOr<std::vector<MountFlag>> MountFlagsFromBits(unsigned long bits);
absl::StatusOr<std::vector<UmountFlag>> UmountFlagsFromBits(int bits);

// `bits` by name, as the C headers spell them, in enum order, joined by "|":
// MS_NOSUID|MS_NODEV → "MS_NOSUID|MS_NODEV"; 0 → "0". Bits no flag names
// are appended in hex ("MS_RDONLY|0x100"), so nothing is hidden.
std::string RenderMountFlags(unsigned long bits);
std::string RenderUmountFlags(int bits);

// True for kPrivate, kShared, kSlave, kUnbindable: the propagation types of
// mount_namespaces(7), which mount(2) takes only on their own (with MS_REC
// and MS_SILENT at most).
bool IsPropagationFlag(MountFlag flag);

}  // namespace linx

#endif  // LINX_MOUNT_FLAGS_H_
