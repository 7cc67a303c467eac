// Scenarios 1 and 3: a container built from the outside, and volumes
// hot-plugged into it while it runs. The container is a child parked in
// fresh mount + PID namespaces; everything is done to it from the scenario
// process through nsexec (setns on a throwaway thread; the proc path forks
// into the child's PID namespace), exactly how a runtime drives linx.
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <set>

#include "absl/strings/str_join.h"
#include "base/op_error.h"
#include "base/syscalls.h"
#include "nsexec/nsexec.h"
#include "vmtest/guest/harness.h"

namespace linx::vmtest {
namespace {

constexpr long kTmpfsMagic = 0x01021994;
constexpr long kProcMagic = 0x9fa0;

// Runs in a child forked into the container's PID namespace (nsexec's proc
// path): async-signal-safe only.
StageErrno MountProc(void*) {
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              nullptr) != 0) {
    return {Stage::kMount, errno};
  }
  return {};
}

std::set<std::string> ProcPids() {
  std::set<std::string> pids;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return pids;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') pids.insert(e->d_name);
  }
  ::closedir(d);
  return pids;
}

}  // namespace

// What the container checks about itself once released.
absl::Status CheckInsideContainer() {
  VM_EXPECT(::getpid() == 1, "container init is pid ", ::getpid());
  auto marker = ReadFile("/etc/marker");
  VM_EXPECT(marker.ok() && *marker == "container rootfs",
            "rootfs marker missing: ", marker.status().message());
  // old_root: detached, so an empty directory and not a mount point.
  DIR* d = ::opendir("/old_root");
  VM_EXPECT(d != nullptr, "/old_root missing");
  int entries = 0;
  while (struct dirent* e = ::readdir(d)) {
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..")
      ++entries;
  }
  ::closedir(d);
  VM_EXPECT(entries == 0, "/old_root has ", entries, " entries");
  // /proc belongs to this PID namespace: only this process is in it.
  struct statfs sfs;
  VM_SYS(::statfs("/proc", &sfs));
  VM_EXPECT(sfs.f_type == kProcMagic, "/proc is not procfs");
  std::set<std::string> pids = ProcPids();
  VM_EXPECT(pids == std::set<std::string>{"1"}, "/proc lists pids ",
            absl::StrJoin(pids, ","));
  char self[16] = {};
  VM_SYS(::readlink("/proc/self", self, sizeof self - 1));
  VM_EXPECT(std::string(self) == "1", "/proc/self -> ", self);
  // /dev is a tmpfs with /dev/null bound onto a placeholder.
  VM_SYS(::statfs("/dev", &sfs));
  VM_EXPECT(sfs.f_type == kTmpfsMagic, "/dev is not tmpfs");
  struct stat st;
  VM_SYS(::stat("/dev/null", &st));
  VM_EXPECT(
      S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3,
      "/dev/null is not the 1:3 character device");
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  VM_SYS(null.get());
  VM_SYS(::write(null.get(), "x", 1));
  char c;
  VM_EXPECT(::read(null.get(), &c, 1) == 0, "/dev/null read returned data");
  // The whole mount table, from inside.
  auto table = ReadMounts();
  if (!table.ok()) return table.status();
  std::vector<std::string> targets;
  for (const MountInfo& m : *table) targets.push_back(m.target);
  VM_EXPECT(
      targets == (std::vector<std::string>{"/", "/dev", "/dev/null", "/proc"}),
      "mount table inside is ", absl::StrJoin(targets, " "));
  VM_EXPECT(IsPrivate((*table)[0]), "/ is not private: ",
            absl::StrJoin((*table)[0].optional_fields, " "));
  VM_EXPECT((*table)[0].root == "/rootfs", "root field ", (*table)[0].root);
  return absl::OkStatus();
}

absl::Status HotMountChildSide(const Channel& ch, bool inj_read_only) {
  VM_RETURN_IF_ERROR(ch.Send("parked"), "send");
  VM_RETURN_IF_ERROR(ch.Expect("mounted"), "wait");
  auto t = ReadMounts();
  if (!t.ok()) return t.status();
  auto vol = FindMount(*t, "/scratch/vol");
  VM_EXPECT(vol.ok() && vol->fstype == "tmpfs" && vol->source == "volume",
            "volume not visible inside");
  VM_EXPECT(HasVfsOption(*vol, "nosuid"), "volume lacks nosuid");
  auto inj = FindMount(*t, "/scratch/inj");
  VM_EXPECT(inj.ok(), "host path not visible inside");
  auto data = ReadFile("/scratch/inj/from_host");
  VM_EXPECT(data.ok() && *data == "host data", "host file not readable");
  if (inj_read_only) {
    VM_EXPECT(HasVfsOption(*inj, "ro"), "host path not read-only");
    VM_EXPECT(
        ::open("/scratch/inj/new", O_WRONLY | O_CREAT | O_CLOEXEC, 0644) < 0 &&
            errno == EROFS,
        "read-only host bind is writable");
  }
  VM_RETURN_IF_ERROR(WriteFile("/scratch/vol/from_child", "x"), "write");
  VM_RETURN_IF_ERROR(ch.Send("seen"), "send");
  VM_RETURN_IF_ERROR(ch.Expect("unmounted"), "wait");
  t = ReadMounts();
  if (!t.ok()) return t.status();
  VM_EXPECT(
      !IsMountPoint(*t, "/scratch/vol") && !IsMountPoint(*t, "/scratch/inj"),
      "mounts still visible inside after unmount");
  VM_EXPECT(!Exists("/scratch/inj/from_host"), "host file still there");
  return absl::OkStatus();
}

absl::StatusOr<ParkedInNamespaces> StartContainer() {
  for (const char* d : {"proc", "dev", "old_root", "etc"}) {
    VM_RETURN_IF_ERROR(MakeDirs(absl::StrCat("/scratch/rootfs/", d)), "mkdir");
  }
  VM_RETURN_IF_ERROR(
      WriteFile("/scratch/rootfs/etc/marker", "container rootfs"), "marker");
  auto child = Child::Start(CLONE_NEWNS | CLONE_NEWPID,
                            [](const Channel& ch) -> absl::Status {
                              VM_RETURN_IF_ERROR(ch.Send("parked"), "send");
                              VM_RETURN_IF_ERROR(ch.Expect("go"), "park");
                              return CheckInsideContainer();
                            });
  if (!child.ok()) return child.status();
  VM_RETURN_IF_ERROR((*child)->channel().Expect("parked"), "child");
  auto ns = Namespace::Pid((*child)->pid());
  if (!ns.ok()) return ns.status();
  return ParkedInNamespaces{*std::move(child), *std::move(ns)};
}

absl::StatusOr<ParkedInNamespaces> StartHotMount(bool inj_read_only) {
  for (const char* d : {"/scratch/vol", "/scratch/inj", "/scratch/host"}) {
    VM_RETURN_IF_ERROR(MakeDirs(d), "mkdir");
  }
  auto child = Child::Start(CLONE_NEWNS | CLONE_NEWPID,
                            [inj_read_only](const Channel& ch) {
                              return HotMountChildSide(ch, inj_read_only);
                            });
  if (!child.ok()) return child.status();
  VM_RETURN_IF_ERROR((*child)->channel().Expect("parked"), "child");
  VM_SYS(::mount("hostdata", "/scratch/host", "tmpfs", 0, nullptr));
  VM_RETURN_IF_ERROR(WriteFile("/scratch/host/from_host", "host data"), "w");
  auto ns = Namespace::Pid((*child)->pid());
  if (!ns.ok()) return ns.status();
  return ParkedInNamespaces{*std::move(child), *std::move(ns)};
}

namespace {

LINX_VM_SCENARIO(container_recipe_syscalls, 1,
                 "the container recipe with raw syscalls on nsexec workers "
                 "(the kernel baseline for container_recipe)") {
  auto box = StartContainer();
  if (!box.ok()) return box.status();

  absl::Status built = RunIn(box->ns, "recipe", []() -> absl::Status {
    const char* root = "/scratch/rootfs";
    // pivot_root(2): new_root must be a mount point; its parent mount and
    // itself must not be shared.
    VM_SYS(::mount(root, root, nullptr, MS_BIND | MS_REC, nullptr));
    VM_SYS(::mount(nullptr, root, nullptr, MS_PRIVATE | MS_REC, nullptr));
    VM_SYS(::mount("dev", "/scratch/rootfs/dev", "tmpfs", MS_NOSUID,
                   "mode=0755,size=64k"));
    UniqueFd placeholder(::open("/scratch/rootfs/dev/null",
                                O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
    VM_SYS(placeholder.get());
    VM_SYS(::mount("/dev/null", "/scratch/rootfs/dev/null", nullptr, MS_BIND,
                   nullptr));
    VM_SYS(::chdir(root));
    VM_SYS(sys::PivotRoot(".", "old_root"));
    VM_SYS(::chdir("/"));
    VM_SYS(::umount2("/old_root", MNT_DETACH));
    return absl::OkStatus();
  });
  VM_RETURN_IF_ERROR(built, "building the container from outside");
  VM_RETURN_IF_ERROR(RunInForked(box->ns, "mount proc", &MountProc, nullptr),
                     "proc in the child's pid namespace");
  // Our own table is untouched by all of this.
  auto mine = ReadMounts();
  if (!mine.ok()) return mine.status();
  VM_EXPECT(!IsMountPoint(*mine, "/scratch/rootfs"),
            "the recipe leaked into the caller's namespace");
  VM_RETURN_IF_ERROR(box->child->channel().Send("go"), "release");
  return box->child->Wait();
}

LINX_VM_SCENARIO(hot_mount_syscalls, 3,
                 "hot mount with raw open_tree/move_mount on nsexec workers "
                 "(the kernel baseline for hot_mount_into_child)") {
  auto hot = StartHotMount(/*inj_read_only=*/false);
  if (!hot.ok()) return hot.status();
  // A detached copy made on this thread, attached on the worker (5.2+).
  UniqueFd tree(sys::OpenTree(AT_FDCWD, "/scratch/host",
                              sys::kOpenTreeClone | O_CLOEXEC));
  VM_SYS(tree.get());
  absl::Status s = RunIn(hot->ns, "hot mount", [&]() -> absl::Status {
    VM_SYS(::mount("volume", "/scratch/vol", "tmpfs", MS_NOSUID | MS_NODEV,
                   "size=1m"));
    VM_SYS(sys::MoveMount(tree.get(), "", AT_FDCWD, "/scratch/inj",
                          sys::kMoveMountFEmptyPath));
    return absl::OkStatus();
  });
  // The open_tree fd pins the attached mount: umount would say EBUSY.
  tree.reset();
  VM_RETURN_IF_ERROR(s, "mounting into the child");
  VM_RETURN_IF_ERROR(hot->child->channel().Send("mounted"), "send");
  VM_RETURN_IF_ERROR(hot->child->channel().Expect("seen"), "child check");
  // The child wrote into the volume; read it back through its namespace.
  s = RunIn(hot->ns, "check + umount", [&]() -> absl::Status {
    VM_EXPECT(Exists("/scratch/vol/from_child"), "child's file not seen");
    VM_SYS(::umount2("/scratch/vol", 0));
    VM_SYS(::umount2("/scratch/inj", 0));
    return absl::OkStatus();
  });
  VM_RETURN_IF_ERROR(s, "unmounting in the child");
  VM_RETURN_IF_ERROR(hot->child->channel().Send("unmounted"), "send");
  VM_RETURN_IF_ERROR(hot->child->Wait(), "child");
  auto mine = ReadMounts();
  if (!mine.ok()) return mine.status();
  VM_EXPECT(!IsMountPoint(*mine, "/scratch/vol"), "volume leaked to caller");
  return absl::OkStatus();
}

}  // namespace
}  // namespace linx::vmtest
