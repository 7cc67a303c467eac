// Issues 13 and 14 on real kernels: the feature probe agrees with the
// kernel's version, MOVE_MOUNT_BENEATH works or is refused with "needs Linux
// 6.5", the kernel's own error text reaches the message, idmapped binds
// (tmpfs supports them from 6.3), and an untrusted rootfs whose symlinks
// point out of it. On 6.1 these show the fallbacks and refusals for real;
// on 6.12 the features.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/match.h"
#include "base/op_error.h"
#include "mount/features.h"
#include "mount/mount.h"
#include "nsexec/testing/mapped_child.h"
#include "nsexec/userns.h"
#include "vmtest/guest/harness.h"

namespace linx::vmtest {
namespace {

using ::linx::testing::MappedChild;

int KernelVersion() {
  struct utsname u;
  if (::uname(&u) != 0) return 0;
  int major = 0, minor = 0;
  std::sscanf(u.release, "%d.%d", &major, &minor);
  return major * 100 + minor;
}

LINX_VM_SCENARIO(fd_api_features, 21,
                 "linx features agrees with the kernel; beneath works or is "
                 "refused as needing 6.5; the kernel's own error text") {
  const int v = KernelVersion();
  for (const KernelFeatureInfo& f : KernelFeatures()) {
    int major = 0, minor = 0;
    std::sscanf(f.since, "%d.%d", &major, &minor);
    Support want = v >= major * 100 + minor ? Support::kYes : Support::kNo;
    VM_EXPECT(f.support == want, f.name, ": ", SupportName(f.support), " on a ",
              v / 100, ".", v % 100, " kernel (", f.detail, ")");
  }
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/b"), "mkdir");
  VM_SYS(::mount("old", "/scratch/b", "tmpfs", 0, nullptr));
  MountOptions under;
  under.beneath = true;
  absl::Status s = Mount("new", "/scratch/b", "tmpfs", under);
  if (v >= 605) {
    VM_EXPECT(s.ok(), "beneath: ", s.ToString());
    VM_SYS(::umount2("/scratch/b", 0));
    Note("beneath: the new mount was under the old one");
  } else {
    std::optional<OpError> e = GetOpError(s);
    VM_EXPECT(e && e->stage == Stage::kBadArgument &&
                  absl::StrContains(s.message(), "needs Linux 6.5"),
              "beneath before 6.5: ", s.ToString());
    Note("beneath refused: needs Linux 6.5");
  }
  MountOptions bogus;
  bogus.data = "size=bogus";
  absl::Status k = Mount("none", "/scratch/b", "tmpfs", bogus);
  std::optional<OpError> e = GetOpError(k);
  VM_EXPECT(e && e->errno_value == EINVAL &&
                absl::StrContains(e->kernel_message, "size"),
            "kernel message: ", k.ToString());
  Note(absl::StrCat("kernel says: ", e->kernel_message));
  return absl::OkStatus();
}

LINX_VM_SCENARIO(idmapped_bind, 22,
                 "a bind idmapped through a 0->100000 user namespace shows "
                 "uid 0 as 100000 (tmpfs: 6.3+; before, the kernel's EINVAL)") {
  MappedChild child(/*own_mount_ns=*/false);
  VM_EXPECT(child.ready(), "no mapped user namespace");
  absl::StatusOr<UserNamespace> ns = UserNamespace::Pid(child.pid());
  VM_EXPECT(ns.ok(), ns.status().ToString());
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/src"), "mkdir");
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/dst"), "mkdir");
  VM_SYS(::mount("src", "/scratch/src", "tmpfs", 0, nullptr));
  VM_RETURN_IF_ERROR(WriteFile("/scratch/src/f", "x"), "write");
  BindOptions o;
  o.idmap = *ns;
  absl::Status s = Bind("/scratch/src", "/scratch/dst", o);
  if (KernelVersion() >= 603) {
    VM_EXPECT(s.ok(), "idmapped bind: ", s.ToString());
    struct stat st;
    VM_SYS(::stat("/scratch/dst/f", &st));
    VM_EXPECT(st.st_uid == 100000, "uid through the bind: ", st.st_uid);
    Note("uid 0 shows as 100000");
  } else {
    std::optional<OpError> e = GetOpError(s);
    VM_EXPECT(e && e->stage == Stage::kMount && e->errno_value == EINVAL,
              "tmpfs idmap before 6.3: ", s.ToString());
    Note("tmpfs has no idmap support here: EINVAL at stage mount");
  }
  return absl::OkStatus();
}

LINX_VM_SCENARIO(hostile_rootfs, 23,
                 "an image's symlinks and .. never place a file or a mount "
                 "outside --root") {
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/rootfs"), "mkdir");
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/host/etc"), "mkdir");
  VM_SYS(::symlink("../host/etc", "/scratch/rootfs/dev"));
  VM_SYS(::symlink("/../../host/etc", "/scratch/rootfs/abs"));
  VM_SYS(::symlink("/proc/self/root", "/scratch/rootfs/magic"));
  BindOptions b;
  b.root.dir = "/scratch/rootfs";
  b.create = true;
  b.mkdir = true;
  for (const char* target : {"/dev/null", "/abs/null", "/magic/etc/x"}) {
    absl::Status s = Bind("/dev/null", target, b);
    std::optional<OpError> e = GetOpError(s);
    VM_EXPECT(!s.ok() && e && e->stage == Stage::kResolve, target,
              " was not refused: ", s.ToString());
  }
  MountOptions m;
  m.root.dir = "/scratch/rootfs";
  m.mkdir = true;
  absl::Status dotdot = Mount("none", "../../../host/etc/t", "tmpfs", m);
  VM_EXPECT(dotdot.ok(), ".. chain: ", dotdot.ToString());
  struct stat st;
  VM_EXPECT(::stat("/scratch/rootfs/host/etc/t", &st) == 0,
            ".. chain did not land inside the root");
  VM_EXPECT(::rmdir("/scratch/host/etc") == 0, "host/etc is not empty");
  Note(
      "dev->../host/etc, /../../host/etc, /proc/self/root refused; .. "
      "chain landed inside");
  return absl::OkStatus();
}

LINX_VM_SCENARIO(userns_mount, 25,
                 "--userns: a tmpfs mounted into a rootless child (its user "
                 "namespace maps 0->100000) belongs to that namespace") {
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/u"), "mkdir");
  MappedChild child(/*own_mount_ns=*/true);
  VM_EXPECT(child.ready(), "no rootless child");
  absl::StatusOr<Namespace> plain = Namespace::Pid(child.pid());
  VM_EXPECT(plain.ok(), plain.status().ToString());
  absl::StatusOr<Namespace> rootless = plain->WithUserNamespace();
  VM_EXPECT(rootless.ok(), rootless.status().ToString());
  MountOptions o;
  o.in = *rootless;
  absl::Status s = Mount("none", "/scratch/u", "tmpfs", o);
  struct stat st {};
  int stat_rc = ::stat(
      absl::StrCat("/proc/", child.pid(), "/root/scratch/u").c_str(), &st);
  VM_EXPECT(s.ok(), "mount with --userns: ", s.ToString());
  VM_EXPECT(stat_rc == 0 && st.st_uid == 100000, "the tmpfs root is owned by ",
            st.st_uid);
  Note("tmpfs root owned by host uid 100000");
  return absl::OkStatus();
}

}  // namespace
}  // namespace linx::vmtest
