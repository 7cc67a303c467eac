// Scenario 9: what the kernel prints in mountinfo, read back with
// //mountinfo (strict parse), matches what was created, field by field,
// against independent sources (statx mount ids, stat st_dev), including
// names the kernel escapes (space \040, tab \011, newline \012, backslash
// \134; see proc(5) and fs/proc_namespace.c mangle()).
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "mountinfo/mountinfo.h"
#include "vmtest/guest/harness.h"

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

namespace linx::vmtest {
namespace {

absl::StatusOr<uint64_t> MountIdOf(const std::string& path) {
  struct statx stx;
  if (::statx(AT_FDCWD, path.c_str(), AT_NO_AUTOMOUNT, STATX_MNT_ID, &stx) !=
      0) {
    return Failure(absl::StrCat("statx ", path, ": ", ErrnoName(errno)));
  }
  if (!(stx.stx_mask & STATX_MNT_ID)) return Skip("statx lacks STATX_MNT_ID");
  return stx.stx_mnt_id;
}

absl::Status CheckEntry(const std::vector<MountInfo>& table,
                        const std::string& target, const std::string& parent,
                        absl::string_view want_root,
                        absl::string_view want_fstype,
                        absl::string_view want_source,
                        const std::vector<std::string>& want_vfs,
                        const std::vector<std::string>& want_fs) {
  auto m = FindMount(table, target);
  VM_EXPECT(m.ok(), "no entry for ", absl::CEscape(target));
  auto id = MountIdOf(target);
  if (!id.ok()) return id.status();
  auto pid = MountIdOf(parent);
  if (!pid.ok()) return pid.status();
  VM_EXPECT(static_cast<uint64_t>(m->id) == *id, "mount id ", m->id,
            " != statx ", *id);
  VM_EXPECT(static_cast<uint64_t>(m->parent_id) == *pid, "parent id ",
            m->parent_id, " != statx of parent ", *pid);
  struct stat st;
  VM_SYS(::stat(target.c_str(), &st));
  VM_EXPECT(m->major == major(st.st_dev) && m->minor == minor(st.st_dev),
            "major:minor ", m->major, ":", m->minor, " != st_dev ",
            major(st.st_dev), ":", minor(st.st_dev));
  VM_EXPECT(m->root == want_root, "root \"", absl::CEscape(m->root), "\"");
  VM_EXPECT(m->fstype == want_fstype, "fstype ", m->fstype);
  VM_EXPECT(m->source == want_source, "source \"", absl::CEscape(m->source),
            "\"");
  for (const std::string& o : want_vfs) {
    VM_EXPECT(HasVfsOption(*m, o), "vfs options ", m->vfs_options, " lack ", o);
  }
  for (const std::string& o : want_fs) {
    bool found = false;
    for (absl::string_view f : absl::StrSplit(m->fs_options, ','))
      found |= (f == o);
    VM_EXPECT(found, "fs options ", m->fs_options, " lack ", o);
  }
  VM_EXPECT(m->optional_fields.empty(), "optional fields ",
            absl::StrJoin(m->optional_fields, " "));
  return absl::OkStatus();
}

LINX_VM_SCENARIO(mountinfo_fields, 9,
                 "mountinfo read back matches field by field, escaped names "
                 "included") {
  const std::string odd = "/scratch/odd dir\twith\nnewline\\back";
  VM_RETURN_IF_ERROR(MakeDirs(odd), "mkdir");
  VM_SYS(::mount("src with space", odd.c_str(), "tmpfs",
                 MS_NOSUID | MS_NODEV | MS_NOATIME, "size=1m,mode=0700"));
  VM_RETURN_IF_ERROR(MakeDirs(odd + "/sub dir"), "mkdir");
  const std::string bind = "/scratch/bound";
  VM_RETURN_IF_ERROR(MakeDirs(bind), "mkdir");
  VM_SYS(::mount((odd + "/sub dir").c_str(), bind.c_str(), nullptr, MS_BIND,
                 nullptr));
  VM_SYS(::mount(
      nullptr, bind.c_str(), nullptr,
      MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOATIME,
      nullptr));

  // The raw text really carries the escapes (so the parser had work to do).
  auto raw = ReadFile("/proc/thread-self/mountinfo");
  if (!raw.ok()) return raw.status();
  VM_EXPECT(absl::StrContains(
                *raw, "/scratch/odd\\040dir\\011with\\012newline\\134back"),
            "escaped mount point not found in the raw text");
  VM_EXPECT(absl::StrContains(*raw, "src\\040with\\040space"),
            "escaped source not found");

  auto table = ReadMounts();
  if (!table.ok()) return table.status();
  VM_RETURN_IF_ERROR(
      CheckEntry(*table, odd, "/scratch", "/", "tmpfs", "src with space",
                 {"rw", "nosuid", "nodev", "noatime"},
                 {"size=1024k", "mode=700"}),
      "tmpfs with escaped name");
  VM_RETURN_IF_ERROR(
      CheckEntry(*table, bind, "/scratch", "/sub dir", "tmpfs",
                 "src with space", {"ro", "nosuid", "nodev", "noatime"},
                 {"size=1024k", "mode=700"}),
      "read-only bind of a subdirectory");
  // The line re-formats to exactly what the kernel printed.
  auto m = FindMount(*table, odd);
  std::string line = FormatMountInfoLine(*m);
  VM_EXPECT(absl::StrContains(*raw, line + "\n"), "FormatMountInfoLine gave \"",
            absl::CEscape(line), "\", not in the kernel's text");
  return absl::OkStatus();
}

}  // namespace
}  // namespace linx::vmtest
