// Scenarios 1, 3, 4, 6 and 7 through linx's own verbs (//mount), so the
// library -- not just the kernel -- is proven on each kernel. The *_syscalls
// scenarios next to them do the same with raw syscalls as a baseline: when
// one of these fails and its baseline passes, the bug is in linx.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/op_error.h"
#include "mount/mount.h"
#include "vmtest/guest/harness.h"

namespace linx::vmtest {
namespace {

using MF = MountFlag;

absl::Status ExpectMountError(const absl::Status& s, Stage stage, int err,
                              absl::string_view what) {
  std::optional<MountError> e = GetMountError(s);
  if (s.ok() || !e || e->stage != stage || e->errno_value != err) {
    return Failure(absl::StrCat(what, ": want stage ", StageName(stage), " ",
                                ErrnoName(err), ", got ",
                                s.ok() ? "OK" : std::string(s.message())));
  }
  Note(absl::StrCat(what, ": \"", s.message(), "\""));
  return absl::OkStatus();
}

LINX_VM_SCENARIO(container_recipe, 1,
                 "linx verbs with in: pid on a parked child in new mount+pid "
                 "namespaces: bind rootfs to itself (rec, private), tmpfs "
                 "/dev, /dev/null onto a created placeholder, pivot_root, "
                 "lazy umount /old_root, proc in the child's pid ns") {
  auto box = StartContainer();
  if (!box.ok()) return box.status();

  const std::string root = "/scratch/rootfs";
  BindOptions self_bind;
  self_bind.flags = {MF::kRec, MF::kPrivate};
  self_bind.in = box->ns;
  VM_RETURN_IF_ERROR(Bind(root, root, self_bind), "Bind rootfs to itself");
  MountOptions dev;
  dev.flags = {MF::kNosuid};
  dev.data = "mode=0755,size=64k";
  dev.in = box->ns;
  VM_RETURN_IF_ERROR(Mount("dev", root + "/dev", "tmpfs", dev), "Mount /dev");
  BindOptions null;
  null.create = true;
  null.in = box->ns;
  VM_RETURN_IF_ERROR(Bind("/dev/null", root + "/dev/null", null),
                     "Bind /dev/null");
  PivotRootOptions pivot;
  pivot.in = box->ns;
  VM_RETURN_IF_ERROR(PivotRoot(root, "old_root", pivot), "PivotRoot");
  UmountOptions lazy;
  lazy.flags = {UmountFlag::kDetach};
  lazy.in = box->ns;
  VM_RETURN_IF_ERROR(Umount("/old_root", lazy), "Umount /old_root");
  MountOptions proc;
  proc.flags = {MF::kNosuid, MF::kNodev, MF::kNoexec};
  proc.in = box->ns;
  VM_RETURN_IF_ERROR(Mount("proc", "/proc", "proc", proc), "Mount proc");

  auto mine = ReadMounts();
  if (!mine.ok()) return mine.status();
  VM_EXPECT(!IsMountPoint(*mine, root), "the recipe leaked into the caller");
  // List(pid) reads the child's table without entering it.
  auto theirs = List(box->child->pid());
  if (!theirs.ok()) return theirs.status();
  VM_EXPECT(theirs->size() == 4, "List(pid) shows ", theirs->size(),
            " mounts, want 4");
  VM_RETURN_IF_ERROR(box->child->channel().Send("go"), "release");
  return box->child->Wait();
}

LINX_VM_SCENARIO(hot_mount_into_child, 3,
                 "linx Mount (a volume) and BindFromHost (a host path) into "
                 "a running child with in: pid, then Umount") {
  auto hot = StartHotMount(/*inj_read_only=*/true);
  if (!hot.ok()) return hot.status();
  MountOptions vol;
  vol.flags = {MF::kNosuid, MF::kNodev};
  vol.data = "size=1m";
  vol.in = hot->ns;
  VM_RETURN_IF_ERROR(Mount("volume", "/scratch/vol", "tmpfs", vol), "Mount");
  BindOptions host;
  host.flags = {MF::kRo};
  host.in = hot->ns;
  VM_RETURN_IF_ERROR(BindFromHost("/scratch/host", "/scratch/inj", host),
                     "BindFromHost");
  VM_RETURN_IF_ERROR(hot->child->channel().Send("mounted"), "send");
  VM_RETURN_IF_ERROR(hot->child->channel().Expect("seen"), "child check");
  UmountOptions um;
  um.in = hot->ns;
  VM_RETURN_IF_ERROR(Umount("/scratch/vol", um), "Umount volume");
  VM_RETURN_IF_ERROR(Umount("/scratch/inj", um), "Umount host path");
  VM_RETURN_IF_ERROR(hot->child->channel().Send("unmounted"), "send");
  VM_RETURN_IF_ERROR(hot->child->Wait(), "child");
  auto mine = ReadMounts();
  if (!mine.ok()) return mine.status();
  VM_EXPECT(IsMountPoint(*mine, "/scratch/host") &&
                !IsMountPoint(*mine, "/scratch/vol"),
            "the caller's table changed");
  return absl::OkStatus();
}

absl::Status LinxBindInUserNamespace(const Channel& ch) {
  VM_RETURN_IF_ERROR(ch.Expect("mapped"), "wait for uid_map");
  BindOptions ro;
  ro.flags = {MF::kRo};
  VM_RETURN_IF_ERROR(Bind("/scratch/locked", "/scratch/locked_ro", ro),
                     "Bind ro over a locked nosuid,nodev source");
  struct statvfs st;
  VM_SYS(::statvfs("/scratch/locked_ro", &st));
  VM_EXPECT((st.f_flag & (ST_RDONLY | ST_NOSUID | ST_NODEV)) ==
                (ST_RDONLY | ST_NOSUID | ST_NODEV),
            "flags ", st.f_flag);
  BindOptions rec_ro;
  rec_ro.flags = {MF::kRec, MF::kRo};
  VM_RETURN_IF_ERROR(Bind("/scratch/tree", "/scratch/tree_ro", rec_ro),
                     "Bind rec,ro of a tree with submounts");
  for (const char* d : {"/scratch/tree_ro", "/scratch/tree_ro/sub"}) {
    VM_SYS(::statvfs(d, &st));
    VM_EXPECT(st.f_flag & ST_RDONLY, d, " not read-only");
  }
  VM_SYS(::statvfs("/scratch/tree/sub", &st));
  VM_EXPECT(!(st.f_flag & ST_RDONLY), "the source tree became read-only");
  return absl::OkStatus();
}

LINX_VM_SCENARIO(readonly_bind_linx, 4,
                 "linx Bind ro keeps locked nosuid/nodev in a user namespace; "
                 "Bind rec,ro makes a whole tree read-only") {
  for (const char* d : {"/scratch/locked", "/scratch/locked_ro",
                        "/scratch/tree", "/scratch/tree_ro"}) {
    VM_RETURN_IF_ERROR(MakeDirs(d), "mkdir");
  }
  VM_SYS(::mount("locked", "/scratch/locked", "tmpfs", MS_NOSUID | MS_NODEV,
                 "mode=0777"));
  VM_SYS(::mount("tree", "/scratch/tree", "tmpfs", MS_NOSUID, nullptr));
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/tree/sub"), "mkdir");
  VM_SYS(::mount("sub", "/scratch/tree/sub", "tmpfs", MS_NODEV, nullptr));
  auto child =
      Child::Start(CLONE_NEWUSER | CLONE_NEWNS, &LinxBindInUserNamespace);
  if (!child.ok()) return child.status();
  std::string proc = absl::StrCat("/proc/", (*child)->pid());
  VM_RETURN_IF_ERROR(WriteFile(proc + "/uid_map", "0 0 1\n"), "uid_map");
  VM_RETURN_IF_ERROR(WriteFile(proc + "/setgroups", "deny"), "setgroups");
  VM_RETURN_IF_ERROR(WriteFile(proc + "/gid_map", "0 0 1\n"), "gid_map");
  VM_RETURN_IF_ERROR((*child)->channel().Send("mapped"), "send");
  return (*child)->Wait();
}

LINX_VM_SCENARIO(move_and_umount_linx, 6,
                 "linx Move, Umount detach with an open file, busy Umount "
                 "(EBUSY), Umount of a non-mount (EINVAL)") {
  for (const char* d : {"/scratch/a", "/scratch/b", "/scratch/plain"}) {
    VM_RETURN_IF_ERROR(MakeDirs(d), "mkdir");
  }
  VM_RETURN_IF_ERROR(Mount("m", "/scratch/a", "tmpfs"), "Mount");
  VM_RETURN_IF_ERROR(Move("/scratch/a", "/scratch/b"), "Move");
  auto t = ReadMounts();
  if (!t.ok()) return t.status();
  VM_EXPECT(!IsMountPoint(*t, "/scratch/a") && IsMountPoint(*t, "/scratch/b"),
            "Move did not move");
  UniqueFd fd(::open("/scratch/b/f", O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  VM_SYS(fd.get());
  VM_RETURN_IF_ERROR(ExpectMountError(Umount("/scratch/b"), Stage::kUmount,
                                      EBUSY, "busy Umount"),
                     "");
  VM_RETURN_IF_ERROR(ExpectMountError(Umount("/scratch/plain"), Stage::kUmount,
                                      EINVAL, "Umount of a non-mount"),
                     "");
  UmountOptions lazy;
  lazy.flags = {UmountFlag::kDetach};
  VM_RETURN_IF_ERROR(Umount("/scratch/b", lazy), "Umount detach");
  VM_SYS(::write(fd.get(), "still", 5));
  t = ReadMounts();
  if (!t.ok()) return t.status();
  VM_EXPECT(!IsMountPoint(*t, "/scratch/b"), "detached mount still listed");
  return absl::OkStatus();
}

LINX_VM_SCENARIO(error_stages_linx, 7,
                 "linx verbs report the failing stage: exited target "
                 "(setns), pivot_root on a non-mount (pivot_root)") {
  pid_t kid = ::fork();
  VM_SYS(kid);
  if (kid == 0) {
    ::pause();
    ::_exit(0);
  }
  auto held = Namespace::Pid(kid);
  if (!held.ok()) return held.status();
  VM_SYS(::kill(kid, SIGKILL));
  VM_SYS(::waitpid(kid, nullptr, 0));
  MountOptions into_dead;
  into_dead.in = *held;
  absl::Status s = Mount("x", "/scratch", "tmpfs", into_dead);
  std::optional<MountError> e = GetMountError(s);
  VM_EXPECT(!s.ok() && e && e->stage == Stage::kSetns,
            "Mount into an exited target: ", s.message());
  Note(absl::StrCat("Mount in exited pid: \"", s.message(), "\""));
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/notmnt/old"), "mkdir");
  VM_RETURN_IF_ERROR(
      ExpectMountError(PivotRoot("/scratch/notmnt", "old"), Stage::kPivotRoot,
                       EINVAL, "PivotRoot of a non-mount"),
      "");
  return absl::OkStatus();
}

}  // namespace
}  // namespace linx::vmtest
