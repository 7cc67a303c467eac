// One request, three front ends, one answer. Every row sends the same
// request (each verb with the flag combinations that matter, refused ones
// included) through the C++ API, the C ABI (linx_mount.h) and the CLI (the
// real //tools:linx binary), each on fresh scratch directories of this
// test's private mount namespace, and checks that all three agree on the
// outcome, the stage and the errno, and on the mount the kernel then shows.
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/testing/privileged.h"
#include "gtest/gtest.h"
#include "mount/command.h"
#include "mount/linx_mount.h"
#include "mount/mount.h"
#include "tools/linx_process.h"

namespace linx::tools {
namespace {

using linx::testing::MakeScratchDir;
using linx::testing::MakeSubdir;

// What a front end answered, in the words all three share.
struct Outcome {
  bool ok = false;
  std::string stage;       // StageName; "" when ok
  std::string errno_name;  // ErrnoName; "EINVAL" for argument stages
  std::string mount;       // after the call: fstype, options and propagation of
                           // the top mount at the row's target, or "-"
  bool operator==(const Outcome& o) const {
    return ok == o.ok && stage == o.stage && errno_name == o.errno_name &&
           mount == o.mount;
  }
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << (o.ok ? "ok" : "failed") << " stage=" << o.stage
            << " errno=" << o.errno_name << " mount=" << o.mount;
}

// The directories one front end's run works on.
struct Dirs {
  std::string src;  // a directory with a file
  std::string dst;  // an empty directory
  std::string mnt;  // a tmpfs mount point with a submount at mnt/sub
};

Dirs Fresh(const std::string& name) {
  Dirs d;
  d.src = MakeScratchDir(name + "-src");
  d.dst = MakeScratchDir(name + "-dst");
  d.mnt = MakeScratchDir(name + "-mnt");
  EXPECT_EQ(::mount("agree", d.mnt.c_str(), "tmpfs", MS_NOSUID, nullptr), 0);
  MakeSubdir(d.mnt, "sub");
  EXPECT_EQ(::mount("agree-sub", (d.mnt + "/sub").c_str(), "tmpfs", 0, nullptr),
            0);
  return d;
}

std::string MountState(const std::string& target) {
  absl::StatusOr<std::vector<MountInfo>> table = List();
  if (!table.ok()) return "unreadable";
  std::optional<MountInfo> top;
  for (const MountInfo& m : *table) {
    if (m.target == target) top = m;
  }
  if (!top) return "-";
  std::string prop = top->shared ? "shared" : "private";
  if (top->master) prop += ",slave";
  if (top->unbindable) prop = "unbindable";
  return absl::StrCat(top->fstype, " ", top->vfs_options, " ", prop);
}

Outcome FromStatus(const absl::Status& s) {
  Outcome o;
  o.ok = s.ok();
  if (s.ok()) return o;
  std::optional<OpError> e = GetOpError(s);
  if (!e) {
    o.stage = "no payload";
    return o;
  }
  o.stage = StageName(e->stage);
  // C callers get EINVAL for argument errors (no syscall was made).
  o.errno_name =
      IsArgumentStage(e->stage) ? "EINVAL" : ErrnoName(e->errno_value);
  return o;
}

Outcome FromC(int rc, const linx_error& err) {
  Outcome o;
  o.ok = rc == 0;
  if (o.ok) return o;
  o.stage = linx_stage_name(err.stage);
  o.errno_name = ErrnoName(err.errno_value);
  return o;
}

// The CLI: exit 0 ok; exit 2 an argument stage (its line names it as a usage
// error); exit 1 "<call>: <stage>: <ERRNO> (<description>)".
Outcome FromCli(const std::vector<std::string>& args) {
  LinxResult r = RunLinx(args);
  Outcome o;
  o.ok = r.exit_code == 0;
  if (o.ok) return o;
  if (r.exit_code == 2) {
    o.stage = "argument";
    o.errno_name = "EINVAL";
    return o;
  }
  // The first ": <stage>: <ERRNO> (" in the line.
  const std::string& e = r.err;
  for (size_t at = e.find(": "); at != std::string::npos;
       at = e.find(": ", at + 1)) {
    size_t stage_end = at + 2;
    while (stage_end < e.size() &&
           (absl::ascii_islower(e[stage_end]) || e[stage_end] == '_')) {
      ++stage_end;
    }
    if (stage_end == at + 2 || e.compare(stage_end, 3, ": E") != 0) continue;
    size_t errno_end = stage_end + 2;
    while (errno_end < e.size() && (absl::ascii_isupper(e[errno_end]) ||
                                    absl::ascii_isdigit(e[errno_end]))) {
      ++errno_end;
    }
    if (e.compare(errno_end, 2, " (") != 0) continue;
    o.stage = e.substr(at + 2, stage_end - at - 2);
    o.errno_name = e.substr(stage_end + 2, errno_end - stage_end - 2);
    return o;
  }
  o.stage = "unparsed: " + r.err;
  return o;
}

struct Row {
  const char* name;
  // Which directory the resulting mount state is read at.
  std::function<std::string(const Dirs&)> target;
  std::function<absl::Status(const Dirs&)> cc;
  std::function<int(const Dirs&, linx_error*)> c;  // null: no C form
  std::function<std::vector<std::string>(const Dirs&)> cli;
};

std::string Dst(const Dirs& d) { return d.dst; }
std::string Mnt(const Dirs& d) { return d.mnt; }

const std::vector<Row>& Rows() {
  static const auto* rows = new std::vector<Row>{
      {"mount tmpfs nosuid,nodev", Dst,
       [](const Dirs& d) {
         MountOptions o;
         o.flags = {MountFlag::kNosuid, MountFlag::kNodev};
         o.data = "size=1m";
         return Mount("none", d.dst, "tmpfs", o);
       },
       [](const Dirs& d, linx_error* e) {
         return linx_mount("none", d.dst.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                           "size=1m", nullptr, nullptr, 0, e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"mount",   "none",         d.dst,    "tmpfs",
                 "--flags", "nosuid,nodev", "--data", "size=1m"};
       }},
      {"mount unknown fstype", Dst,
       [](const Dirs& d) { return Mount("none", d.dst, "nosuchfs"); },
       [](const Dirs& d, linx_error* e) {
         return linx_mount("none", d.dst.c_str(), "nosuchfs", 0, nullptr,
                           nullptr, nullptr, 0, e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"mount", "none", d.dst, "nosuchfs"};
       }},
      {"mount shared+private", Mnt,
       [](const Dirs& d) {
         MountOptions o;
         o.flags = {MountFlag::kShared, MountFlag::kPrivate};
         return Mount("", d.mnt, "", o);
       },
       [](const Dirs& d, linx_error* e) {
         return linx_mount(nullptr, d.mnt.c_str(), nullptr,
                           MS_SHARED | MS_PRIVATE, nullptr, nullptr, nullptr, 0,
                           e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"mount", "", d.mnt, "", "--flags", "shared,private"};
       }},
      {"bind ro", Dst,
       [](const Dirs& d) {
         BindOptions o;
         o.flags = {MountFlag::kRo};
         return Bind(d.src, d.dst, o);
       },
       [](const Dirs& d, linx_error* e) {
         return linx_bind(d.src.c_str(), d.dst.c_str(), MS_RDONLY, nullptr, 0,
                          e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"bind", d.src, d.dst, "--flags", "ro"};
       }},
      {"bind rec,ro,shared of a tree", Dst,
       [](const Dirs& d) {
         BindOptions o;
         o.flags = {MountFlag::kRec, MountFlag::kRo, MountFlag::kShared};
         return Bind(d.mnt, d.dst, o);
       },
       [](const Dirs& d, linx_error* e) {
         return linx_bind(d.mnt.c_str(), d.dst.c_str(),
                          MS_REC | MS_RDONLY | MS_SHARED, nullptr, 0, e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"bind", d.mnt, d.dst, "--flags", "rec,ro,shared"};
       }},
      {"bind sync (not per-mount)", Dst,
       [](const Dirs& d) {
         BindOptions o;
         o.flags = {MountFlag::kSync};
         return Bind(d.src, d.dst, o);
       },
       [](const Dirs& d, linx_error* e) {
         return linx_bind(d.src.c_str(), d.dst.c_str(), MS_SYNCHRONOUS, nullptr,
                          0, e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"bind", d.src, d.dst, "--flags", "sync"};
       }},
      {"bind missing source", Dst,
       [](const Dirs& d) { return Bind(d.src + "/nope", d.dst); },
       [](const Dirs& d, linx_error* e) {
         return linx_bind((d.src + "/nope").c_str(), d.dst.c_str(), 0, nullptr,
                          0, e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"bind", d.src + "/nope", d.dst};
       }},
      {"remount private (propagation only)", Mnt,
       [](const Dirs& d) {
         RemountOptions o;
         o.flags = {MountFlag::kPrivate};
         return Remount(d.mnt, o);
       },
       [](const Dirs& d, linx_error* e) {
         return linx_remount(d.mnt.c_str(), MS_PRIVATE, nullptr, nullptr, e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"remount", d.mnt, "--flags", "private"};
       }},
      {"remount shared on a plain directory", Dst,
       [](const Dirs& d) {
         RemountOptions o;
         o.flags = {MountFlag::kShared};
         return Remount(d.dst, o);
       },
       [](const Dirs& d, linx_error* e) {
         return linx_remount(d.dst.c_str(), MS_SHARED, nullptr, nullptr, e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"remount", d.dst, "--flags", "shared"};
       }},
      {"remount bind,ro,nosuid,shared", Mnt,
       [](const Dirs& d) {
         RemountOptions o;
         o.flags = {MountFlag::kBind, MountFlag::kRo, MountFlag::kNosuid,
                    MountFlag::kShared};
         return Remount(d.mnt, o);
       },
       [](const Dirs& d, linx_error* e) {
         return linx_remount(d.mnt.c_str(),
                             MS_BIND | MS_RDONLY | MS_NOSUID | MS_SHARED,
                             nullptr, nullptr, e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"remount", d.mnt, "--flags", "bind,ro,nosuid,shared"};
       }},
      {"remount move", Mnt,
       [](const Dirs& d) {
         RemountOptions o;
         o.flags = {MountFlag::kMove};
         return Remount(d.mnt, o);
       },
       [](const Dirs& d, linx_error* e) {
         return linx_remount(d.mnt.c_str(), MS_MOVE, nullptr, nullptr, e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"remount", d.mnt, "--flags", "move"};
       }},
      {"move a non-mount", Dst,
       [](const Dirs& d) { return Move(d.src, d.dst); },
       [](const Dirs& d, linx_error* e) {
         return linx_move(d.src.c_str(), d.dst.c_str(), nullptr, e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"move", d.src, d.dst};
       }},
      {"move a mount", Dst,
       [](const Dirs& d) { return Move(d.mnt + "/sub", d.dst); },
       [](const Dirs& d, linx_error* e) {
         return linx_move((d.mnt + "/sub").c_str(), d.dst.c_str(), nullptr, e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"move", d.mnt + "/sub", d.dst};
       }},
      {"umount a non-mount", Dst, [](const Dirs& d) { return Umount(d.dst); },
       [](const Dirs& d, linx_error* e) {
         return linx_umount(d.dst.c_str(), 0, nullptr, e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"umount", d.dst};
       }},
      {"umount busy (a submount)", Mnt,
       [](const Dirs& d) { return Umount(d.mnt); },
       [](const Dirs& d, linx_error* e) {
         return linx_umount(d.mnt.c_str(), 0, nullptr, e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"umount", d.mnt};
       }},
      {"umount detach", Mnt,
       [](const Dirs& d) {
         UmountOptions o;
         o.flags = {UmountFlag::kDetach};
         return Umount(d.mnt, o);
       },
       [](const Dirs& d, linx_error* e) {
         return linx_umount(d.mnt.c_str(), MNT_DETACH, nullptr, e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"umount", d.mnt, "--flags", "detach"};
       }},
      {"umount expire,detach", Mnt,
       [](const Dirs& d) {
         UmountOptions o;
         o.flags = {UmountFlag::kExpire, UmountFlag::kDetach};
         return Umount(d.mnt, o);
       },
       [](const Dirs& d, linx_error* e) {
         return linx_umount(d.mnt.c_str(), MNT_EXPIRE | MNT_DETACH, nullptr, e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"umount", d.mnt, "--flags", "expire,detach"};
       }},
      {"umount recursive", Mnt,
       [](const Dirs& d) {
         UmountOptions o;
         o.recursive = true;
         return Umount(d.mnt, o);
       },
       nullptr,  // the C ABI has no recursive umount
       [](const Dirs& d) -> std::vector<std::string> {
         return {"umount", d.mnt, "--recursive"};
       }},
      {"pivot_root onto a non-mount", Dst,
       [](const Dirs& d) { return PivotRoot(d.dst, "old"); },
       [](const Dirs& d, linx_error* e) {
         return linx_pivot_root(d.dst.c_str(), "old", nullptr, e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"pivot-root", d.dst, "old"};
       }},
      {"relative target in another namespace", Dst,
       [](const Dirs& d) {
         absl::StatusOr<Namespace> ns = Namespace::Path("/proc/self/ns/mnt");
         if (!ns.ok()) return ns.status();
         MountOptions o;
         o.in = *ns;
         return Mount("none", "relative/dir", "tmpfs", o);
       },
       [](const Dirs& d, linx_error* e) {
         return linx_mount("none", "relative/dir", "tmpfs", 0, nullptr,
                           "/proc/self/ns/mnt", nullptr, 0, e);
       },
       [](const Dirs& d) -> std::vector<std::string> {
         return {"mount",
                 "none",
                 "relative/dir",
                 "tmpfs",
                 "--in",
                 absl::StrCat("path:/proc/", ::getpid(), "/ns/mnt")};
       }},
  };
  return *rows;
}

TEST(FrontEndsAgreeTest, SameRequestSameAnswerFromCppCAndCli) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  int row_index = 0;
  for (const Row& row : Rows()) {
    SCOPED_TRACE(row.name);
    std::string tag = absl::StrCat("row", row_index++);
    Dirs cc_dirs = Fresh(tag + "-cc");
    Outcome cc = FromStatus(row.cc(cc_dirs));
    cc.mount = MountState(row.target(cc_dirs));

    Dirs cli_dirs = Fresh(tag + "-cli");
    Outcome cli = FromCli(row.cli(cli_dirs));
    cli.mount = MountState(row.target(cli_dirs));
    // The CLI words argument errors as usage errors (exit 2).
    Outcome cc_as_cli = cc;
    if (!cc.ok && ParseStage(cc.stage) &&
        IsArgumentStage(*ParseStage(cc.stage))) {
      cc_as_cli.stage = "argument";
    }
    EXPECT_EQ(cli, cc_as_cli) << "CLI vs C++";

    if (row.c) {
      Dirs c_dirs = Fresh(tag + "-c");
      linx_error err;
      int rc = row.c(c_dirs, &err);
      Outcome c = FromC(rc, err);
      c.mount = MountState(row.target(c_dirs));
      EXPECT_EQ(c, cc) << "C ABI vs C++";
    }
  }
}

// The rows cover both outcomes, so agreement is not agreement on failing.
TEST(FrontEndsAgreeTest, RowsIncludeSuccessesAndEachKindOfRefusal) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  int ok = 0, argument = 0, kernel = 0;
  int i = 0;
  for (const Row& row : Rows()) {
    Outcome o = FromStatus(row.cc(Fresh(absl::StrCat("count", i++))));
    if (o.ok) {
      ++ok;
    } else if (ParseStage(o.stage) && IsArgumentStage(*ParseStage(o.stage))) {
      ++argument;
    } else {
      ++kernel;
    }
  }
  EXPECT_GE(ok, 5);
  EXPECT_GE(argument, 4);
  EXPECT_GE(kernel, 5);
}

}  // namespace
}  // namespace linx::tools
