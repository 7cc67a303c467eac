// An overlayfs container rootfs (the usual image layering), mounted with
// linx::Mount in: pid into a parked child. overlay is a module (=m) in every
// Debian flavour; the guest loads the overlay.ko shipped in the kernel's
// modules.cpio (6.12's is .ko.xz upstream, decompressed on the host).
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "mount/mount.h"
#include "vmtest/guest/harness.h"

namespace linx::vmtest {
namespace {

LINX_VM_SCENARIO(overlay_rootfs, 10,
                 "overlayfs (loaded overlay.ko) mounted into a child with "
                 "linx::Mount in: pid; copy-up lands in upper only") {
  auto fs = ReadFile("/proc/filesystems");
  if (!fs.ok()) return fs.status();
  VM_EXPECT(absl::StrContains(*fs, "\toverlay\n"),
            "overlay not in /proc/filesystems (overlay.ko not loaded?)");
  for (const char* d : {"/scratch/ov/lower", "/scratch/ov/upper",
                        "/scratch/ov/work", "/scratch/ov/merged"}) {
    VM_RETURN_IF_ERROR(MakeDirs(d), "mkdir");
  }
  VM_RETURN_IF_ERROR(WriteFile("/scratch/ov/lower/base", "from the image"),
                     "lower file");
  auto child = Child::Start(
      CLONE_NEWNS | CLONE_NEWPID, [](const Channel& ch) -> absl::Status {
        VM_RETURN_IF_ERROR(ch.Send("parked"), "send");
        VM_RETURN_IF_ERROR(ch.Expect("mounted"), "wait");
        auto base = ReadFile("/scratch/ov/merged/base");
        VM_EXPECT(base.ok() && *base == "from the image", "lower not visible");
        VM_RETURN_IF_ERROR(WriteFile("/scratch/ov/merged/base", "changed"),
                           "copy-up write");
        VM_RETURN_IF_ERROR(WriteFile("/scratch/ov/merged/new", "new"), "new");
        auto t = ReadMounts();
        if (!t.ok()) return t.status();
        auto m = FindMount(*t, "/scratch/ov/merged");
        VM_EXPECT(
            m.ok() && m->fstype == "overlay" &&
                absl::StrContains(m->fs_options,
                                  "lowerdir=/scratch/ov/lower") &&
                absl::StrContains(m->fs_options, "upperdir=/scratch/ov/upper"),
            "mountinfo: ", m.ok() ? m->fs_options : "no entry");
        return absl::OkStatus();
      });
  if (!child.ok()) return child.status();
  VM_RETURN_IF_ERROR((*child)->channel().Expect("parked"), "child");
  auto ns = Namespace::Pid((*child)->pid());
  if (!ns.ok()) return ns.status();
  MountOptions ov;
  ov.data =
      "lowerdir=/scratch/ov/lower,upperdir=/scratch/ov/upper,"
      "workdir=/scratch/ov/work";
  ov.in = *ns;
  VM_RETURN_IF_ERROR(Mount("overlay", "/scratch/ov/merged", "overlay", ov),
                     "Mount overlay");
  VM_RETURN_IF_ERROR((*child)->channel().Send("mounted"), "send");
  VM_RETURN_IF_ERROR((*child)->Wait(), "child");
  // The layers are plain directories on the shared scratch tmpfs: look.
  auto lower = ReadFile("/scratch/ov/lower/base");
  auto upper = ReadFile("/scratch/ov/upper/base");
  VM_EXPECT(lower.ok() && *lower == "from the image", "lower layer modified");
  VM_EXPECT(upper.ok() && *upper == "changed", "copy-up not in upper");
  VM_EXPECT(Exists("/scratch/ov/upper/new") && !Exists("/scratch/ov/lower/new"),
            "new file in the wrong layer");
  return absl::OkStatus();
}

}  // namespace
}  // namespace linx::vmtest
