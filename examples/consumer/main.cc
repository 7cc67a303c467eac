// A program that uses linx as a vendored dependency: in a throwaway mount
// namespace it mounts a tmpfs, bind-mounts a directory of it read-only, lists
// the mounts under it, and unmounts everything again.
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "mount/linx_mount.h"
#include "mount/mount.h"
#include "mountinfo/format.h"
#include "mountinfo/monitor.h"
#include "mountinfo/mountinfo.h"
#include "mountinfo/query.h"
#include "mountinfo/statmount.h"
#include "mountinfo/tree.h"
#include "nsexec/nsexec.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer SCRATCH_DIR\n");
    return 2;
  }
  // A private mount namespace of our own, so nothing reaches the host.
  if (::unshare(CLONE_NEWNS) != 0 ||
      ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    std::perror("consumer: private mount namespace");
    return 1;
  }
  const std::string root = argv[1];
  linx::MountOptions tmpfs;
  tmpfs.data = "size=1m";
  absl::Status s = linx::Mount("consumer", root, "tmpfs", tmpfs);
  if (!s.ok()) {
    std::fprintf(stderr, "consumer: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  ::mkdir((root + "/src").c_str(), 0755);
  ::mkdir((root + "/dst").c_str(), 0755);
  linx::BindOptions ro;
  ro.flags = {linx::MountFlag::kRo};
  s = linx::Bind(root + "/src", root + "/dst", ro);
  if (!s.ok()) {
    std::fprintf(stderr, "consumer: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  auto table = linx::List();
  if (!table.ok()) {
    std::fprintf(stderr, "consumer: %s\n",
                 std::string(table.status().message()).c_str());
    return 1;
  }
  for (const linx::MountInfo& m : *table) {
    if (m.target.rfind(root, 0) == 0) {
      std::printf("%s %s %s %s\n", m.target.c_str(), m.fstype.c_str(),
                  m.root.c_str(), m.vfs_options.c_str());
    }
  }
  // The statx + statmount query agrees that dst is a mount point.
  auto is_mp = linx::IsMountPoint(root + "/dst");
  if (!is_mp.ok() || !*is_mp) {
    std::fprintf(stderr, "consumer: IsMountPoint(%s/dst) is not true\n",
                 root.c_str());
    return 1;
  }
  for (const std::string& t : {root + "/dst", root}) {
    s = linx::Umount(t);
    if (!s.ok()) {
      std::fprintf(stderr, "consumer: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  std::printf("linx %s (C ABI %s): ok\n", linx::Version(), linx_version());
  return 0;
}
