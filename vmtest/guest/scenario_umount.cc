// Scenario 6: move, lazy umount with an open file, busy umount (EBUSY),
// umount of a non-mount (EINVAL). umount2(2) ERRORS: EBUSY "target could not
// be unmounted because it is busy"; EINVAL "target is not a mount point".
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmtest/guest/harness.h"

namespace linx::vmtest {
namespace {

LINX_VM_SCENARIO(move_mount_point, 6, "MS_MOVE moves a mount with its files") {
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/a"), "mkdir");
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/b"), "mkdir");
  VM_SYS(::mount("movable", "/scratch/a", "tmpfs", 0, "size=1m"));
  VM_RETURN_IF_ERROR(WriteFile("/scratch/a/f", "moved"), "write");
  auto before = ReadMounts();
  if (!before.ok()) return before.status();
  auto a = FindMount(*before, "/scratch/a");
  VM_EXPECT(a.ok(), "tmpfs not at /scratch/a");
  VM_SYS(::mount("/scratch/a", "/scratch/b", nullptr, MS_MOVE, nullptr));
  auto after = ReadMounts();
  if (!after.ok()) return after.status();
  VM_EXPECT(!IsMountPoint(*after, "/scratch/a"), "/scratch/a still mounted");
  auto b = FindMount(*after, "/scratch/b");
  VM_EXPECT(b.ok(), "nothing at /scratch/b after MS_MOVE");
  VM_EXPECT(b->id == a->id, "mount id changed: ", a->id, " -> ", b->id);
  VM_EXPECT(b->source == "movable", "source ", b->source);
  auto content = ReadFile("/scratch/b/f");
  VM_EXPECT(content.ok() && *content == "moved", "file did not move along");
  VM_EXPECT(!Exists("/scratch/a/f"), "file still visible at the old place");
  return absl::OkStatus();
}

LINX_VM_SCENARIO(
    lazy_umount_open_file, 6,
    "MNT_DETACH with an open file: gone from the table, fd works") {
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/lazy"), "mkdir");
  VM_SYS(::mount("lazy", "/scratch/lazy", "tmpfs", 0, nullptr));
  UniqueFd fd(::open("/scratch/lazy/open", O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  VM_SYS(fd.get());
  VM_SYS(::write(fd.get(), "before", 6));
  // Without MNT_DETACH the open file keeps the mount busy.
  VM_EXPECT_ERRNO(::umount2("/scratch/lazy", 0), EBUSY);
  VM_SYS(::umount2("/scratch/lazy", MNT_DETACH));
  auto table = ReadMounts();
  if (!table.ok()) return table.status();
  VM_EXPECT(!IsMountPoint(*table, "/scratch/lazy"),
            "still in mountinfo after MNT_DETACH");
  VM_EXPECT(!Exists("/scratch/lazy/open"), "file visible after detach");
  // The detached filesystem lives on while the fd is open.
  VM_SYS(::write(fd.get(), "+after", 6));
  char buf[32] = {};
  VM_SYS(::pread(fd.get(), buf, sizeof buf - 1, 0));
  VM_EXPECT(std::string(buf) == "before+after", "read back \"", buf, "\"");
  return absl::OkStatus();
}

LINX_VM_SCENARIO(busy_umount_ebusy, 6, "umount of a busy mount: EBUSY") {
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/busy"), "mkdir");
  VM_SYS(::mount("busy", "/scratch/busy", "tmpfs", 0, nullptr));
  // Busy because of a submount, then because of a cwd inside it.
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/busy/sub"), "mkdir");
  VM_SYS(::mount("sub", "/scratch/busy/sub", "tmpfs", 0, nullptr));
  VM_EXPECT_ERRNO(::umount2("/scratch/busy", 0), EBUSY);
  VM_SYS(::umount2("/scratch/busy/sub", 0));
  VM_SYS(::chdir("/scratch/busy"));
  VM_EXPECT_ERRNO(::umount2("/scratch/busy", 0), EBUSY);
  VM_SYS(::chdir("/"));
  VM_SYS(::umount2("/scratch/busy", 0));
  auto table = ReadMounts();
  if (!table.ok()) return table.status();
  VM_EXPECT(!IsMountPoint(*table, "/scratch/busy"), "still mounted");
  return absl::OkStatus();
}

LINX_VM_SCENARIO(umount_non_mount_einval, 6,
                 "umount of a directory that is not a mount point: EINVAL") {
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/plain"), "mkdir");
  VM_EXPECT_ERRNO(::umount2("/scratch/plain", 0), EINVAL);
  VM_EXPECT_ERRNO(::umount2("/scratch/plain", MNT_DETACH), EINVAL);
  VM_EXPECT_ERRNO(::umount2("/scratch/missing", 0), ENOENT);
  return absl::OkStatus();
}

}  // namespace
}  // namespace linx::vmtest
