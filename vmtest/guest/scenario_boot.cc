// Scenario 2: pivot_root of the whole machine away from the initramfs.
//
// pivot_root(2), NOTES: "The rootfs (initial ramfs) cannot be pivot_root()ed.
// The recommended method of changing the root filesystem in this case is to
// delete everything in rootfs, overmount rootfs with the new root, attach
// stdin/stdout/stderr to the new /dev/console, and exec the new init(1).
// Helper programs for this process exist; see switch_root(8)." The kernel
// refuses because rootfs has no parent mount to move it to (EINVAL), and a
// fresh mount namespace does not help: its root is a copy of rootfs.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "base/op_error.h"
#include "base/syscalls.h"
#include "mount/mount.h"
#include "vmtest/guest/boot_stage.h"
#include "vmtest/guest/harness.h"

namespace linx::vmtest {
namespace {

absl::Status CopyFile(const std::string& from, const std::string& to,
                      mode_t mode) {
  UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return absl::OkStatus();  // optional files
  struct stat st;
  VM_SYS(::fstat(in.get(), &st));
  UniqueFd out(
      ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  VM_SYS(out.get());
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = ::sendfile(out.get(), in.get(), &off, st.st_size - off);
    VM_SYS(n);
    if (n == 0) break;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status PivotRootOnRootfsIsRefused(std::string* note) {
  auto child = Child::Start(CLONE_NEWNS, [](const Channel& ch) -> absl::Status {
    VM_SYS(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr));
    // The most favourable setup: new_root is a real mount point, put_old is
    // under it, nothing is shared. Only "/" being rootfs is wrong.
    ::mkdir("/pivot_try", 0755);
    VM_SYS(::mount("try", "/pivot_try", "tmpfs", 0, nullptr));
    VM_SYS(::mkdir("/pivot_try/old", 0755));
    VM_SYS(::chdir("/pivot_try"));
    VM_EXPECT_ERRNO(sys::PivotRoot(".", "old"), EINVAL);
    VM_EXPECT_ERRNO(sys::PivotRoot(".", "."), EINVAL);
    // And what linx says about it.
    absl::Status s = PivotRoot("/pivot_try", "old");
    std::optional<MountError> e = GetMountError(s);
    VM_EXPECT(e && e->stage == Stage::kPivotRoot && e->errno_value == EINVAL,
              "linx::PivotRoot on rootfs: ", s.message());
    return ch.Send(s.message());
  });
  if (!child.ok()) return child.status();
  absl::StatusOr<std::string> linx_message = (*child)->channel().Recv();
  absl::Status s = (*child)->Wait();
  ::rmdir("/pivot_try");
  if (s.ok()) {
    *note = absl::StrCat(
        "pivot_root on rootfs: EINVAL (also in a fresh mount namespace); "
        "linx says \"",
        linx_message.ok() ? *linx_message : "?", "\"");
  }
  return s;
}

absl::Status SwitchRoot(const std::string& new_root) {
  ::mkdir(new_root.c_str(), 0755);
  VM_SYS(::mount("root", new_root.c_str(), "tmpfs", 0, "mode=0755"));
  for (const char* d :
       {"bin", "modules", "proc", "sys", "dev", "tmp", "scratch"}) {
    VM_SYS(::mkdir((new_root + "/" + d).c_str(), 0755));
  }
  VM_RETURN_IF_ERROR(CopyFile("/init", new_root + "/init", 0755), "copy /init");
  VM_RETURN_IF_ERROR(CopyFile("/bin/busybox", new_root + "/bin/busybox", 0755),
                     "busybox");
  VM_RETURN_IF_ERROR(
      CopyFile("/modules/overlay.ko", new_root + "/modules/overlay.ko", 0644),
      "overlay.ko");
  ::symlink("busybox", (new_root + "/bin/sh").c_str());
  for (const char* d : {"/proc", "/sys", "/dev"}) {
    VM_SYS(::mount(d, (new_root + d).c_str(), nullptr, MS_MOVE, nullptr));
  }
  VM_SYS(::chdir(new_root.c_str()));
  VM_SYS(::mount(".", "/", nullptr, MS_MOVE, nullptr));
  VM_SYS(::chroot("."));
  VM_SYS(::chdir("/"));
  // Re-open the console from the new /dev (still the same devtmpfs).
  int fd = ::open("/dev/console", O_RDWR | O_CLOEXEC);
  if (fd >= 0) ::close(fd);
  return absl::OkStatus();
}

absl::Status PivotRootAfterSwitchRootWorks(std::string* note) {
  auto child = Child::Start(CLONE_NEWNS, [](const Channel& ch) -> absl::Status {
    VM_SYS(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr));
    // "/" itself is the current root, and pivot_root refuses to pivot the
    // current root onto itself (EBUSY). Bind the whole tree to a directory
    // and pivot into that: the machine's tree, now a real mount with a
    // parent. pivot_root(".", ".") stacks the old root under the new one at
    // the same place; detach it (nsjail's trick, see pivot_root(2)).
    ::mkdir("/.pivot", 0755);
    VM_SYS(::mount("/", "/.pivot", nullptr, MS_BIND | MS_REC, nullptr));
    VM_SYS(::chdir("/.pivot"));
    VM_SYS(sys::PivotRoot(".", "."));
    VM_SYS(::umount2(".", MNT_DETACH));
    VM_SYS(::chdir("/"));
    VM_EXPECT(Exists("/init"), "/init missing after pivot_root");
    VM_EXPECT(Exists("/bin/busybox"), "/bin/busybox missing");
    auto table = ReadMounts();
    if (!table.ok()) return table.status();
    VM_EXPECT(IsMountPoint(*table, "/"), "/ not in mountinfo");
    return absl::OkStatus();
  });
  if (!child.ok()) return child.status();
  absl::Status s = (*child)->Wait();
  if (s.ok())
    *note = "then pivot_root of the whole tree (bound to /.pivot) works";
  return s;
}

}  // namespace linx::vmtest
