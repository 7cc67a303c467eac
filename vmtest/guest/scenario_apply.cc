// Issue 13: `linx apply` (mount/oci.h) on each kernel: an OCI config's
// mounts applied inside a root in one trip, a failing entry rolled back to
// the byte, and an image's escaping symlinks refused.
#include <fcntl.h>
#include <ftw.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mount/oci.h"
#include "vmtest/guest/harness.h"

namespace linx::vmtest {
namespace {

// Parses and translates `json` with bundle `/scratch/b` and root `root`.
absl::StatusOr<std::vector<OciStep>> Steps(absl::string_view json,
                                           const std::string& root) {
  absl::StatusOr<OciConfig> config = ParseOciConfig(json);
  if (!config.ok()) return config.status();
  OciTranslateOptions t;
  t.base_dir = "/scratch/b";
  t.root_dir = root;
  return TranslateOciMounts(config->mounts, t);
}

std::vector<std::string>* g_tree = nullptr;

int AddEntry(const char* path, const struct stat* st, int type, struct FTW*) {
  g_tree->push_back(
      absl::StrCat(path, " ", type, " ", st->st_mode, " ", st->st_size));
  return 0;
}

// Every path under `dir` with its type, mode and size.
std::string Tree(const std::string& dir) {
  std::vector<std::string> tree;
  g_tree = &tree;
  ::nftw(dir.c_str(), &AddEntry, 16, FTW_PHYS);
  g_tree = nullptr;
  return absl::StrJoin(tree, "\n");
}

absl::Status MakeBundle() {
  for (const char* d :
       {"/scratch/b/rootfs/etc", "/scratch/b/data/sub", "/scratch/host/etc"}) {
    VM_RETURN_IF_ERROR(MakeDirs(d), "mkdir");
  }
  VM_RETURN_IF_ERROR(WriteFile("/scratch/b/hostname", "vm\n"), "write");
  return absl::OkStatus();
}

LINX_VM_SCENARIO(apply_config, 24,
                 "linx apply: tmpfs /dev, /dev/shm inside it, rbind ro with "
                 "a submount and rprivate, a file bind onto a created file, "
                 "all inside the root in one trip") {
  VM_RETURN_IF_ERROR(MakeBundle(), "bundle");
  VM_SYS(::mount("sub", "/scratch/b/data/sub", "tmpfs", 0, nullptr));
  const std::string root = "/scratch/b/rootfs";
  const std::string host_before = Tree("/scratch/host");
  auto steps = Steps(R"([
      {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
       "options": ["nosuid", "strictatime", "mode=755", "size=64k"]},
      {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
       "options": ["nosuid", "noexec", "nodev"]},
      {"destination": "/data", "type": "bind", "source": "data",
       "options": ["rbind", "ro", "rprivate"]},
      {"destination": "/etc/hostname", "type": "bind", "source": "hostname",
       "options": ["bind", "ro"]}])",
                     root);
  if (!steps.ok()) return steps.status();
  OciApplyResult r = ApplyOci(*steps, root, Namespace::Self());
  VM_RETURN_IF_ERROR(r.status, "ApplyOci");
  auto t = ReadMounts();
  if (!t.ok()) return t.status();
  auto dev = FindMount(*t, root + "/dev");
  if (!dev.ok()) return dev.status();
  VM_EXPECT(dev->fstype == "tmpfs" && HasVfsOption(*dev, "nosuid"),
            "/dev: ", dev->fstype, " ", dev->vfs_options);
  auto shm = FindMount(*t, root + "/dev/shm");
  if (!shm.ok()) return shm.status();
  VM_EXPECT(shm->parent_id == dev->id, "/dev/shm is not inside the new /dev");
  auto data = FindMount(*t, root + "/data");
  if (!data.ok()) return data.status();
  VM_EXPECT(HasVfsOption(*data, "ro") && IsPrivate(*data),
            "/data: ", data->vfs_options);
  auto sub = FindMount(*t, root + "/data/sub");
  if (!sub.ok()) return sub.status();
  VM_EXPECT(HasVfsOption(*sub, "ro"), "rbind,ro left the submount writable");
  struct stat st;
  VM_SYS(::lstat((root + "/etc/hostname").c_str(), &st));
  VM_EXPECT(S_ISREG(st.st_mode), "/etc/hostname is not a file");
  auto text = ReadFile(root + "/etc/hostname");
  VM_EXPECT(text.ok() && *text == "vm\n", "the file bind shows the wrong file");
  VM_EXPECT(Tree("/scratch/host") == host_before,
            "something appeared outside the root");
  return absl::OkStatus();
}

LINX_VM_SCENARIO(apply_rollback, 24,
                 "linx apply: entry 4 fails in the kernel; the mount table "
                 "and the tree are byte for byte as before") {
  VM_RETURN_IF_ERROR(MakeBundle(), "bundle");
  const std::string root = "/scratch/b/rootfs";
  auto steps = Steps(R"([
      {"destination": "/dev", "type": "tmpfs", "source": "tmpfs"},
      {"destination": "/dev/pts/x", "type": "tmpfs", "source": "t2"},
      {"destination": "/data", "type": "bind", "source": "data",
       "options": ["rbind", "ro", "rshared"]},
      {"destination": "/new/dir/mnt", "type": "tmpfs", "source": "bad",
       "options": ["nosuchoption=1"]},
      {"destination": "/never", "type": "tmpfs", "source": "t5"}])",
                     root);
  if (!steps.ok()) return steps.status();
  auto table_before = ReadFile("/proc/self/mountinfo");
  if (!table_before.ok()) return table_before.status();
  const std::string tree_before = Tree("/scratch");
  OciApplyResult r = ApplyOci(*steps, root, Namespace::Self());
  std::optional<MountError> e = GetMountError(r.status);
  VM_EXPECT(
      !r.status.ok() && r.failed_index == 4 && e && e->errno_value == EINVAL,
      "want entry 4 to fail with EINVAL, got ", r.status.ToString());
  VM_EXPECT(r.rolled_back && r.rollback_status.ok(),
            "rollback: ", r.rollback_status.ToString());
  Note(r.status.message());
  auto table_after = ReadFile("/proc/self/mountinfo");
  if (!table_after.ok()) return table_after.status();
  VM_EXPECT(*table_after == *table_before, "the mount table changed:\n",
            *table_after);
  VM_EXPECT(Tree("/scratch") == tree_before, "the tree changed:\n",
            Tree("/scratch"));
  return absl::OkStatus();
}

LINX_VM_SCENARIO(apply_hostile_root, 24,
                 "linx apply: destinations through absolute and relative "
                 "symlinks out of the root fail; nothing appears outside") {
  VM_RETURN_IF_ERROR(MakeBundle(), "bundle");
  const std::string root = "/scratch/b/rootfs";
  VM_SYS(::symlink("/scratch/host/etc", (root + "/abs").c_str()));
  VM_SYS(::symlink("../../host/etc", (root + "/rel").c_str()));
  const std::string host_before = Tree("/scratch/host");
  auto table_before = ReadFile("/proc/self/mountinfo");
  if (!table_before.ok()) return table_before.status();
  for (const char* dest : {"/abs/x", "/rel/x", "/abs/hostname"}) {
    auto steps = Steps(absl::StrCat(R"([{"destination": ")", dest,
                                    R"(", "type": "bind", "source": "hostname",
                       "options": ["bind"]}])"),
                       root);
    if (!steps.ok()) return steps.status();
    OciApplyResult r = ApplyOci(*steps, root, Namespace::Self());
    std::optional<MountError> e = GetMountError(r.status);
    VM_EXPECT(!r.status.ok() && e && e->errno_value == ENOENT, dest,
              ": want ENOENT, got ", r.status.ToString());
    auto table_after = ReadFile("/proc/self/mountinfo");
    if (!table_after.ok()) return table_after.status();
    VM_EXPECT(*table_after == *table_before, dest, ": the table changed");
    VM_EXPECT(Tree("/scratch/host") == host_before, dest,
              ": something appeared outside the root");
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace linx::vmtest
