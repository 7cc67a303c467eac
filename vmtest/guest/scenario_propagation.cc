// Scenario 5: propagation types across two mount namespaces, checked from
// mountinfo on both sides (mount_namespaces(7), "Shared subtrees"). A copy of
// a shared mount in a new namespace (same user namespace) is a peer in the
// same group; MS_SLAVE there turns it into a slave of that group.
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include "absl/strings/str_join.h"
#include "vmtest/guest/harness.h"

namespace linx::vmtest {
namespace {

constexpr char kBase[] = "/scratch/prop";

std::string P(absl::string_view leaf) { return absl::StrCat(kBase, "/", leaf); }

absl::Status ChildSide(const Channel& ch) {
  VM_SYS(::mount(nullptr, P("slave").c_str(), nullptr, MS_SLAVE, nullptr));
  VM_RETURN_IF_ERROR(ch.Send("ready"), "send");
  VM_RETURN_IF_ERROR(ch.Expect("parent mounted"), "wait");
  auto t = ReadMounts();
  if (!t.ok()) return t.status();
  VM_EXPECT(IsMountPoint(*t, P("shared/x")), "shared: parent's mount missing");
  VM_EXPECT(IsMountPoint(*t, P("slave/x")), "slave: parent's mount missing");
  VM_EXPECT(!IsMountPoint(*t, P("private/x")),
            "private: parent's mount leaked");
  VM_EXPECT(!IsMountPoint(*t, P("unbindable/x")),
            "unbindable: parent's mount leaked");
  VM_SYS(::mount("c", P("shared/y").c_str(), "tmpfs", 0, nullptr));
  VM_SYS(::mount("c", P("slave/y").c_str(), "tmpfs", 0, nullptr));
  VM_SYS(::mount("c", P("private/y").c_str(), "tmpfs", 0, nullptr));
  VM_RETURN_IF_ERROR(ch.Send("child mounted"), "send");
  VM_RETURN_IF_ERROR(ch.Expect("done"), "wait");
  return absl::OkStatus();
}

LINX_VM_SCENARIO(propagation, 5,
                 "shared, slave, private, unbindable across two namespaces") {
  VM_RETURN_IF_ERROR(MakeDirs(kBase), "mkdir");
  VM_SYS(::mount("prop", kBase, "tmpfs", 0, nullptr));
  for (const char* kind : {"shared", "slave", "private", "unbindable"}) {
    VM_RETURN_IF_ERROR(MakeDirs(P(kind)), "mkdir");
    VM_SYS(::mount(kind, P(kind).c_str(), "tmpfs", 0, nullptr));
    VM_RETURN_IF_ERROR(MakeDirs(P(absl::StrCat(kind, "/x"))), "mkdir");
    VM_RETURN_IF_ERROR(MakeDirs(P(absl::StrCat(kind, "/y"))), "mkdir");
  }
  VM_SYS(::mount(nullptr, P("shared").c_str(), nullptr, MS_SHARED, nullptr));
  VM_SYS(::mount(nullptr, P("slave").c_str(), nullptr, MS_SHARED, nullptr));
  VM_SYS(::mount(nullptr, P("private").c_str(), nullptr, MS_PRIVATE, nullptr));
  VM_SYS(::mount(nullptr, P("unbindable").c_str(), nullptr, MS_UNBINDABLE,
                 nullptr));

  auto child = Child::Start(CLONE_NEWNS, &ChildSide);
  if (!child.ok()) return child.status();
  const Channel& ch = (*child)->channel();
  VM_RETURN_IF_ERROR(ch.Expect("ready"), "child");

  auto mine = ReadMounts();
  auto theirs = ReadMounts(std::to_string((*child)->pid()));
  if (!mine.ok()) return mine.status();
  if (!theirs.ok()) return theirs.status();
  auto get = [](const std::vector<MountInfo>& t, const std::string& p) {
    auto m = FindMount(t, p);
    return m.ok() ? *m : MountInfo();
  };
  MountInfo ms = get(*mine, P("shared")), ts = get(*theirs, P("shared"));
  MountInfo ml = get(*mine, P("slave")), tl = get(*theirs, P("slave"));
  MountInfo mp = get(*mine, P("private")), tp = get(*theirs, P("private"));
  MountInfo mu = get(*mine, P("unbindable")),
            tu = get(*theirs, P("unbindable"));
  VM_EXPECT(ms.shared && ts.shared && *ms.shared == *ts.shared,
            "shared: not peers: ", absl::StrJoin(ms.optional_fields, " "),
            " vs ", absl::StrJoin(ts.optional_fields, " "));
  VM_EXPECT(ml.shared && !tl.shared && tl.master && *tl.master == *ml.shared,
            "slave: want master:", ml.shared.value_or(0), ", got ",
            absl::StrJoin(tl.optional_fields, " "));
  VM_EXPECT(IsPrivate(mp) && IsPrivate(tp),
            "private: not private: ", absl::StrJoin(tp.optional_fields, " "));
  VM_EXPECT(mu.unbindable && tu.unbindable, "unbindable: tag missing: ",
            absl::StrJoin(tu.optional_fields, " "));
  VM_EXPECT(ms.id != 0 && ml.id != 0 && mp.id != 0 && mu.id != 0,
            "a propagation mount is missing from our table");

  for (const char* kind : {"shared", "slave", "private", "unbindable"}) {
    VM_SYS(
        ::mount("p", P(absl::StrCat(kind, "/x")).c_str(), "tmpfs", 0, nullptr));
  }
  VM_RETURN_IF_ERROR(ch.Send("parent mounted"), "send");
  VM_RETURN_IF_ERROR(ch.Expect("child mounted"), "child");
  mine = ReadMounts();
  if (!mine.ok()) return mine.status();
  VM_EXPECT(IsMountPoint(*mine, P("shared/y")),
            "shared: child's mount did not come back");
  VM_EXPECT(!IsMountPoint(*mine, P("slave/y")),
            "slave: child's mount propagated to the master");
  VM_EXPECT(!IsMountPoint(*mine, P("private/y")),
            "private: child's mount leaked");
  // Unbindable: cannot be the source of a bind (EINVAL), recursive or not.
  VM_RETURN_IF_ERROR(MakeDirs("/scratch/ub"), "mkdir");
  VM_EXPECT_ERRNO(::mount(P("unbindable").c_str(), "/scratch/ub", nullptr,
                          MS_BIND, nullptr),
                  EINVAL);
  VM_RETURN_IF_ERROR(ch.Send("done"), "send");
  return (*child)->Wait();
}

}  // namespace
}  // namespace linx::vmtest
