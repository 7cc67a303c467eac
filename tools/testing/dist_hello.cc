// Built outside Bazel against the install tree of //tools:dist with
//   c++ dist_hello.cc $(pkg-config --cflags --libs linx)
// Parses a mountinfo line with the C++ API and, in a throwaway mount
// namespace, mounts a tmpfs and finds it in linx::List(). Prints "ok".
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "mount/mount.h"
#include "mountinfo/mountinfo.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto table = linx::ParseMountInfo(
      "36 35 98:0 /mnt1 /mnt/a\\040b rw,noatime master:1 - ext3 /dev/root "
      "rw\n");
  if (!table.ok() || table->size() != 1 ||
      table->entries()[0].target != "/mnt/a b") {
    std::fprintf(stderr, "ParseMountInfo failed\n");
    return 1;
  }
  if (::unshare(CLONE_NEWNS) != 0) {
    std::printf("SKIPPED: unshare(CLONE_NEWNS) failed\n");
    return 0;
  }
  linx::MountOptions priv;
  priv.flags = {linx::MountFlag::kRec, linx::MountFlag::kPrivate};
  absl::Status s = linx::Mount("", "/", "", priv);
  // Everything below happens on a scratch tmpfs.
  const std::string scratch = argv[1];
  if (s.ok()) s = linx::Mount("dist-scratch", scratch, "tmpfs");
  std::string target = scratch + "/cxx";
  if (s.ok()) ::mkdir(target.c_str(), 0755);
  if (s.ok()) s = linx::Mount("dist-cxx", target, "tmpfs");
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }
  auto list = linx::List();
  bool found = false;
  if (list.ok()) {
    for (const linx::MountInfo& m : *list)
      found |= m.target == target && m.source == "dist-cxx";
  }
  if (!found || !linx::Umount(target).ok() || !linx::Umount(scratch).ok()) {
    std::fprintf(stderr, "mount not listed or not unmounted\n");
    return 1;
  }
  std::printf("ok %s\n", linx::Version());
  return 0;
}
