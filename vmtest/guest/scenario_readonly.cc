// Scenario 4: read-only binds that stick. mount(2): "MS_RDONLY ... is
// ignored with MS_BIND"; the per-mount flags need MS_REMOUNT|MS_BIND. Inside
// a user namespace, flags inherited from a more privileged namespace are
// locked (mount_namespaces(7), "restrictions on mount namespaces"): the
// remount must keep nosuid/nodev, or it fails with EPERM (util-linux#1705).
// A recursive read-only needs mount_setattr(2) AT_RECURSIVE (5.12+):
// MS_REC is ignored on a remount.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/syscalls.h"
#include "vmtest/guest/harness.h"

namespace linx::vmtest {
namespace {

absl::StatusOr<unsigned long> Flags(const std::string& path) {
  struct statvfs st;
  if (::statvfs(path.c_str(), &st) != 0) {
    return Failure(absl::StrCat("statvfs ", path, ": ", ErrnoName(errno)));
  }
  return st.f_flag;
}

bool Writable(const std::string& dir) {
  std::string f = dir + "/.probe";
  int fd = ::open(f.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  ::close(fd);
  ::unlink(f.c_str());
  return true;
}

LINX_VM_SCENARIO(readonly_bind_sticks, 4,
                 "bind + MS_REMOUNT|MS_BIND|MS_RDONLY; survives a remount of "
                 "the source superblock") {
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/src"), "mkdir");
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/ro"), "mkdir");
  VM_SYS(::mount("src", "/scratch/src", "tmpfs", 0, "size=1m"));
  VM_RETURN_IF_ERROR(WriteFile("/scratch/src/f", "data"), "write");
  VM_SYS(::mount("/scratch/src", "/scratch/ro", nullptr, MS_BIND | MS_RDONLY,
                 nullptr));
  auto f = Flags("/scratch/ro");
  if (!f.ok()) return f.status();
  VM_EXPECT(!(*f & ST_RDONLY), "MS_RDONLY with MS_BIND was not ignored");
  Note("MS_BIND|MS_RDONLY alone gives a rw bind");
  VM_SYS(::mount(nullptr, "/scratch/ro", nullptr,
                 MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr));
  f = Flags("/scratch/ro");
  if (!f.ok()) return f.status();
  VM_EXPECT(*f & ST_RDONLY, "bind not read-only after remount");
  VM_EXPECT_ERRNO(::open("/scratch/ro/f", O_WRONLY | O_CLOEXEC), EROFS);
  VM_EXPECT(Writable("/scratch/src"), "source became read-only");
  // A remount of the superblock (not MS_BIND) leaves the bind's flag alone.
  VM_SYS(::mount(nullptr, "/scratch/src", nullptr, MS_REMOUNT, "size=2m"));
  f = Flags("/scratch/ro");
  if (!f.ok()) return f.status();
  VM_EXPECT(*f & ST_RDONLY, "read-only lost after remounting the source");
  auto t = ReadMounts();
  if (!t.ok()) return t.status();
  auto ro = FindMount(*t, "/scratch/ro");
  VM_EXPECT(ro.ok() && HasVfsOption(*ro, "ro"), "mountinfo does not say ro");
  return absl::OkStatus();
}

absl::Status InUserNamespace(const Channel& ch) {
  VM_RETURN_IF_ERROR(ch.Expect("mapped"), "wait for uid_map");
  const char* dst = "/scratch/locked_ro";
  VM_SYS(::mount("/scratch/locked", dst, nullptr, MS_BIND, nullptr));
  // Dropping the locked nosuid/nodev is refused...
  VM_EXPECT_ERRNO(
      ::mount(nullptr, dst, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr),
      EPERM);
  // ...keeping them works.
  VM_SYS(::mount(nullptr, dst, nullptr,
                 MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
                 nullptr));
  auto f = Flags(dst);
  if (!f.ok()) return f.status();
  VM_EXPECT((*f & (ST_RDONLY | ST_NOSUID | ST_NODEV)) ==
                (ST_RDONLY | ST_NOSUID | ST_NODEV),
            "flags ", *f);
  // The read-only bind cannot be made writable by its own remount either
  // way round; and the locked source cannot lose nosuid.
  VM_EXPECT_ERRNO(::mount(nullptr, "/scratch/locked", nullptr,
                          MS_REMOUNT | MS_BIND, nullptr),
                  EPERM);
  VM_EXPECT(!Writable(dst), "read-only bind is writable");
  return absl::OkStatus();
}

LINX_VM_SCENARIO(readonly_bind_locked_userns, 4,
                 "read-only bind over a nosuid,nodev source inside a user "
                 "namespace keeps the locked flags") {
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/locked"), "mkdir");
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/locked_ro"), "mkdir");
  VM_SYS(::mount("locked", "/scratch/locked", "tmpfs", MS_NOSUID | MS_NODEV,
                 "mode=0777"));
  auto child = Child::Start(CLONE_NEWUSER | CLONE_NEWNS, &InUserNamespace);
  if (!child.ok()) return child.status();
  std::string proc = absl::StrCat("/proc/", (*child)->pid());
  VM_RETURN_IF_ERROR(WriteFile(proc + "/uid_map", "0 0 1\n"), "uid_map");
  VM_RETURN_IF_ERROR(WriteFile(proc + "/setgroups", "deny"), "setgroups");
  VM_RETURN_IF_ERROR(WriteFile(proc + "/gid_map", "0 0 1\n"), "gid_map");
  VM_RETURN_IF_ERROR((*child)->channel().Send("mapped"), "send");
  return (*child)->Wait();
}

LINX_VM_SCENARIO(readonly_recursive, 4,
                 "recursive read-only on a tree with submounts: "
                 "mount_setattr(AT_RECURSIVE); MS_REC on a remount does not") {
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/tree"), "mkdir");
  VM_SYS(::mount("tree", "/scratch/tree", "tmpfs", 0, nullptr));
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/tree/sub"), "mkdir");
  VM_SYS(::mount("sub", "/scratch/tree/sub", "tmpfs", 0, nullptr));
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/tree/sub/deeper"), "mkdir");
  VM_SYS(::mount("deeper", "/scratch/tree/sub/deeper", "tmpfs", 0, nullptr));
  for (const char* d : {"/scratch/legacy", "/scratch/rec"}) {
    VM_RETURN_IF_ERROR(MakeDirs(d), "mkdir");
    VM_SYS(::mount("/scratch/tree", d, nullptr, MS_BIND | MS_REC, nullptr));
  }
  // Legacy: MS_REC is ignored on a remount; only the top becomes ro.
  VM_SYS(::mount(nullptr, "/scratch/legacy", nullptr,
                 MS_REMOUNT | MS_BIND | MS_RDONLY | MS_REC, nullptr));
  VM_EXPECT(!Writable("/scratch/legacy"), "legacy top writable");
  VM_EXPECT(Writable("/scratch/legacy/sub"),
            "MS_REC on a remount made a submount ro (kernel changed?)");
  // mount_setattr(2) with AT_RECURSIVE covers the whole tree.
  sys::MountAttr attr;
  attr.attr_set = sys::kMountAttrRdonly;
  if (sys::MountSetattr(AT_FDCWD, "/scratch/rec", sys::kAtRecursive, &attr) !=
      0) {
    int e = errno;
    if (e == ENOSYS) return Skip("mount_setattr(2) missing (kernel < 5.12)");
    return Failure(absl::StrCat("mount_setattr: ", ErrnoDescription(e)));
  }
  for (const char* d :
       {"/scratch/rec", "/scratch/rec/sub", "/scratch/rec/sub/deeper"}) {
    VM_EXPECT(!Writable(d), d, " writable after recursive ro");
    auto f = Flags(d);
    if (!f.ok()) return f.status();
    VM_EXPECT(*f & ST_RDONLY, d, " statvfs lacks ST_RDONLY");
  }
  for (const char* d :
       {"/scratch/tree", "/scratch/tree/sub", "/scratch/tree/sub/deeper"}) {
    VM_EXPECT(Writable(d), d, " (the source tree) became read-only");
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace linx::vmtest
