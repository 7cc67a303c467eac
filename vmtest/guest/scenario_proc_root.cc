// Scenario 26: a proc mounted with a root (InRoot) into a child's PID
// namespace, as `linx apply --in pid:N` mounts a container's /proc. The
// child forked into that PID namespace opens only the fs context; a worker
// resolves, configures and attaches it (mount/internal/forked.h). On 6.1
// and 6.12 the child must then see exactly itself in that /proc, and the
// mount is in the undo journal and taken back there.
#include <dirent.h>
#include <sched.h>

#include <cctype>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mount/command.h"
#include "mount/mount.h"
#include "vmtest/guest/harness.h"

namespace linx::vmtest {
namespace {

// The numeric entries of a proc directory: the pids it shows.
std::vector<std::string> Pids(const std::string& proc) {
  std::vector<std::string> out;
  DIR* d = ::opendir(proc.c_str());
  if (d == nullptr) return out;
  while (struct dirent* e = ::readdir(d)) {
    if (std::isdigit(static_cast<unsigned char>(e->d_name[0]))) {
      out.push_back(e->d_name);
    }
  }
  ::closedir(d);
  return out;
}

LINX_VM_SCENARIO(proc_in_root_into_pidns, 26,
                 "linx Mount proc with a root into a child's PID namespace: "
                 "the child sees only itself; journaled and undone there") {
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/proot/proc"), "mkdir");
  auto child = Child::Start(
      CLONE_NEWNS | CLONE_NEWPID, [](const Channel& ch) -> absl::Status {
        VM_RETURN_IF_ERROR(ch.Send("parked"), "send");
        VM_RETURN_IF_ERROR(ch.Expect("mounted"), "wait");
        std::vector<std::string> pids = Pids("/scratch/proot/proc");
        VM_EXPECT(pids == std::vector<std::string>{"1"}, "the proc shows ",
                  pids.size(), " pids, not just 1");
        VM_RETURN_IF_ERROR(ch.Send("seen"), "send");
        // Stay (and keep the namespaces) until the caller has undone it.
        return ch.Expect("undone");
      });
  if (!child.ok()) return child.status();
  VM_RETURN_IF_ERROR((*child)->channel().Expect("parked"), "child");
  auto ns = Namespace::Pid((*child)->pid());
  if (!ns.ok()) return ns.status();
  MountCommand proc{"proc", "/proc", "proc", {}};
  proc.options.in = *ns;
  proc.options.root.dir = "/scratch/proot";
  proc.options.flags = {MountFlag::kNosuid, MountFlag::kNodev,
                        MountFlag::kNoexec};
  std::vector<UndoRecord> undo;
  VM_RETURN_IF_ERROR(Execute(proc, &undo), "Execute proc");
  VM_EXPECT(undo.size() == 1 && undo[0].mount_id != 0, "journal ", undo.size());
  VM_RETURN_IF_ERROR((*child)->channel().Send("mounted"), "send");
  VM_RETURN_IF_ERROR((*child)->channel().Expect("seen"), "child check");
  VM_RETURN_IF_ERROR(Undo(undo, *ns), "Undo");
  auto theirs = ReadMounts(absl::StrCat((*child)->pid()));
  if (!theirs.ok()) return theirs.status();
  VM_EXPECT(!IsMountPoint(*theirs, "/scratch/proot/proc"),
            "the proc is still mounted after Undo");
  VM_RETURN_IF_ERROR((*child)->channel().Send("undone"), "send");
  VM_RETURN_IF_ERROR((*child)->Wait(), "child");
  auto mine = ReadMounts();
  if (!mine.ok()) return mine.status();
  VM_EXPECT(!IsMountPoint(*mine, "/scratch/proot/proc"),
            "the caller's table changed");
  return absl::OkStatus();
}

}  // namespace
}  // namespace linx::vmtest
