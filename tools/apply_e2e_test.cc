// End-to-end tests of `linx apply`: the real //tools:linx binary runs as a
// child process inside this test's private mount namespace
// (privileged_test_main; children inherit it), on bundles built on the
// scratch tmpfs, and every result is read back from the kernel: the mount
// table (/proc/self/mountinfo, byte for byte where nothing may change), the
// directory tree, and statvfs flags.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/json.h"
#include "base/testing/privileged.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mount/mount.h"
#include "nsexec/testing/parked_child.h"
#include "tools/linx_process.h"

namespace linx::tools {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

void Write(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  ASSERT_TRUE(f.good()) << path;
}

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The kernel's table for this process, as text: equal before and after
// means no mount was added, removed, moved or changed (ids included).
std::string MountInfoText() { return Slurp("/proc/self/mountinfo"); }

// Every entry under `dir`: path, type, mode, size, and a symlink's text.
std::string Tree(const std::string& dir) {
  std::string cmd = absl::StrCat(
      "find '", dir, "' -mindepth 1 -printf '%P %y %m %s %l\\n' | sort");
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) return "popen failed";
  char buf[4096];
  size_t n;
  while ((n = ::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}

std::optional<MountInfo> FindMount(const std::string& target, pid_t pid = 0) {
  absl::StatusOr<std::vector<MountInfo>> table = pid == 0 ? List() : List(pid);
  EXPECT_TRUE(table.ok()) << table.status();
  std::optional<MountInfo> found;
  if (!table.ok()) return found;
  for (const MountInfo& m : *table) {
    if (m.target == target) found = m;
  }
  return found;
}

// Mount points at or under `dir`.
std::vector<std::string> MountsUnder(const std::string& dir) {
  std::vector<std::string> out;
  absl::StatusOr<std::vector<MountInfo>> table = List();
  EXPECT_TRUE(table.ok()) << table.status();
  if (!table.ok()) return out;
  for (const MountInfo& m : *table) {
    if (m.target == dir || absl::StartsWith(m.target, dir + "/")) {
      out.push_back(m.target);
    }
  }
  return out;
}

bool HasOption(const std::string& options, const std::string& word) {
  for (absl::string_view w : absl::StrSplit(options, ',')) {
    if (w == word) return true;
  }
  return false;
}

// Detaches every mount under `dir` at scope exit, deepest first.
class Unmounter {
 public:
  explicit Unmounter(std::string dir) : dir_(std::move(dir)) {}
  ~Unmounter() {
    std::vector<std::string> m = MountsUnder(dir_);
    for (auto it = m.rbegin(); it != m.rend(); ++it) {
      ::umount2(it->c_str(), MNT_DETACH);
    }
  }

 private:
  std::string dir_;
};

// scratch/<name>/{bundle/{config.json,rootfs,data/sub,hostfile},host/etc}.
struct Bundle {
  std::string top, bundle, rootfs, data, host;
};

Bundle MakeBundle(const std::string& name) {
  Bundle b;
  b.top = linx::testing::MakeScratchDir(name);
  b.bundle = linx::testing::MakeSubdir(b.top, "bundle");
  b.rootfs = linx::testing::MakeSubdir(b.bundle, "rootfs");
  b.data = linx::testing::MakeSubdir(b.bundle, "data");
  linx::testing::MakeSubdir(b.data, "sub");
  b.host = linx::testing::MakeSubdir(b.top, "host");
  linx::testing::MakeSubdir(b.host, "etc");
  Write(b.bundle + "/hostfile", "from the host\n");
  linx::testing::MakeSubdir(b.rootfs, "etc");
  return b;
}

constexpr char kGoodMounts[] = R"([
    {"destination": "/proc", "type": "proc", "source": "proc",
     "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
     "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/data", "type": "bind", "source": "data",
     "options": ["rbind", "ro", "rprivate"]},
    {"destination": "/etc/hostname", "type": "bind", "source": "hostfile",
     "options": ["bind", "ro"]}
  ])";

TEST(LinxApplyTest, AppliesAConfigInsideItsRoot) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Bundle b = MakeBundle("apply_ok");
  Unmounter cleanup(b.top);
  // A submount in the rbind's source: rbind takes it along.
  ASSERT_EQ(::mount("none", (b.data + "/sub").c_str(), "tmpfs", 0, nullptr), 0);
  Write(b.bundle + "/config.json",
        absl::StrCat(R"({"ociVersion": "1.0.2", "root": {"path": "rootfs"},
                        "mounts": )",
                     kGoodMounts, "}"));
  LinxResult r = RunLinx({"apply", b.bundle + "/config.json"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("5 entries applied"));

  std::optional<MountInfo> proc = FindMount(b.rootfs + "/proc");
  ASSERT_TRUE(proc.has_value());
  EXPECT_EQ(proc->fstype, "proc");
  EXPECT_TRUE(HasOption(proc->vfs_options, "nosuid")) << proc->vfs_options;
  EXPECT_TRUE(HasOption(proc->vfs_options, "noexec")) << proc->vfs_options;
  std::optional<MountInfo> dev = FindMount(b.rootfs + "/dev");
  ASSERT_TRUE(dev.has_value());
  EXPECT_EQ(dev->fstype, "tmpfs");
  EXPECT_TRUE(HasOption(dev->fs_options, "size=65536k")) << dev->fs_options;
  EXPECT_FALSE(HasOption(dev->vfs_options, "relatime")) << dev->vfs_options;
  // /dev/shm was created inside the new /dev tmpfs, after it was mounted.
  std::optional<MountInfo> shm = FindMount(b.rootfs + "/dev/shm");
  ASSERT_TRUE(shm.has_value());
  EXPECT_EQ(shm->parent_id, dev->id);
  EXPECT_TRUE(HasOption(shm->vfs_options, "nodev")) << shm->vfs_options;
  std::optional<MountInfo> data = FindMount(b.rootfs + "/data");
  ASSERT_TRUE(data.has_value());
  EXPECT_TRUE(HasOption(data->vfs_options, "ro")) << data->vfs_options;
  EXPECT_FALSE(data->shared.has_value());
  std::optional<MountInfo> sub = FindMount(b.rootfs + "/data/sub");
  ASSERT_TRUE(sub.has_value()) << "rbind left the submount behind";
  EXPECT_EQ(sub->parent_id, data->id);
  // A file source: the destination was created as a file.
  struct stat st;
  ASSERT_EQ(::lstat((b.rootfs + "/etc/hostname").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(Slurp(b.rootfs + "/etc/hostname"), "from the host\n");
  struct statvfs sv;
  ASSERT_EQ(::statvfs((b.rootfs + "/etc/hostname").c_str(), &sv), 0);
  EXPECT_TRUE(sv.f_flag & ST_RDONLY);
  // Nothing outside the root.
  EXPECT_EQ(Tree(b.host), "etc d 755 40 \n");
}

// Entry 4 fails in the kernel (tmpfs refuses the option) after entries 1..3
// mounted and created things and entry 4 created its own directories: the
// table and the tree are byte for byte what they were.
TEST(LinxApplyTest, FourthEntryFailsAndEverythingIsRolledBack) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Bundle b = MakeBundle("apply_rollback");
  Unmounter cleanup(b.top);
  Write(b.bundle + "/mounts.json", R"([
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "mode=755"]},
    {"destination": "/dev/pts/x", "type": "tmpfs", "source": "t2"},
    {"destination": "/data", "type": "bind", "source": "data",
     "options": ["rbind", "ro", "rshared"]},
    {"destination": "/new/dir/mnt", "type": "tmpfs", "source": "bad",
     "options": ["nosuchoption=1"]},
    {"destination": "/never", "type": "tmpfs", "source": "t5"}
  ])");
  const std::string table_before = MountInfoText();
  const std::string tree_before = Tree(b.top);
  LinxResult r =
      RunLinx({"apply", b.bundle + "/mounts.json", "--root", b.rootfs});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("entry 4 (\"/new/dir/mnt\")"));
  EXPECT_THAT(r.err, HasSubstr("EINVAL"));
  EXPECT_THAT(r.err, HasSubstr("mount"));
  EXPECT_THAT(r.err, HasSubstr("rolled back"));
  EXPECT_EQ(MountInfoText(), table_before);
  EXPECT_EQ(Tree(b.top), tree_before);

  // The same through --json: the failed entry, the call, stage and errno.
  LinxResult j = RunLinx(
      {"apply", b.bundle + "/mounts.json", "--root", b.rootfs, "--json"});
  EXPECT_EQ(j.exit_code, 1) << j;
  absl::StatusOr<JsonValue> doc = ParseJson(j.out);
  ASSERT_TRUE(doc.ok()) << doc.status() << "\n" << j.out;
  const JsonValue* err = doc->Find("error");
  ASSERT_TRUE(err != nullptr && err->is_object()) << j.out;
  EXPECT_EQ(err->Find("entry")->number, 4);
  EXPECT_EQ(err->Find("destination")->text, "/new/dir/mnt");
  EXPECT_EQ(err->Find("stage")->text, "mount");
  EXPECT_EQ(err->Find("errno")->text, "EINVAL");
  EXPECT_EQ(doc->Find("rolled_back")->boolean, true);
  EXPECT_TRUE(doc->Find("rollback_error")->is_null());
  const JsonValue* entries = doc->Find("entries");
  ASSERT_EQ(entries->items.size(), 5u);
  EXPECT_EQ(entries->items[2].Find("state")->text, "done");
  EXPECT_EQ(entries->items[3].Find("state")->text, "failed");
  EXPECT_EQ(entries->items[4].Find("state")->text, "not_reached");
  EXPECT_EQ(MountInfoText(), table_before);
  EXPECT_EQ(Tree(b.top), tree_before);
}

TEST(LinxApplyTest, DryRunChangesNothingAndSaysWhatItWouldCreate) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Bundle b = MakeBundle("apply_dry");
  Unmounter cleanup(b.top);
  Write(b.bundle + "/config.json",
        absl::StrCat(R"({"root": {"path": "rootfs"}, "mounts": )", kGoodMounts,
                     "}"));
  const std::string table_before = MountInfoText();
  const std::string tree_before = Tree(b.top);
  LinxResult r = RunLinx({"apply", b.bundle + "/config.json", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("dry run: nothing changed"));
  EXPECT_THAT(r.out, HasSubstr("entry 3: \"/dev/shm\""));
  EXPECT_THAT(r.out, HasSubstr("would create \"/dev\", \"/dev/shm\""));
  EXPECT_THAT(r.out, HasSubstr("destination: \"/etc\" exists; would create "
                               "\"/etc/hostname\" (the last as an empty "
                               "file)"));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(
                         "mount(\"tmpfs\", \"", b.rootfs,
                         "/dev\", \"tmpfs\", MS_NOSUID|MS_STRICTATIME, "
                         "\"mode=755,size=65536k\")")));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("mount(NULL, \"", b.rootfs,
                                            "/data\", NULL, MS_REC|MS_PRIVATE,"
                                            " NULL)")));
  EXPECT_EQ(MountInfoText(), table_before);
  EXPECT_EQ(Tree(b.top), tree_before);

  // --json: the same plan as one object.
  LinxResult j =
      RunLinx({"apply", b.bundle + "/config.json", "--dry-run", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j;
  absl::StatusOr<JsonValue> doc = ParseJson(j.out);
  ASSERT_TRUE(doc.ok()) << doc.status() << "\n" << j.out;
  EXPECT_TRUE(doc->Find("dry_run")->boolean);
  EXPECT_TRUE(doc->Find("ok")->boolean);
  EXPECT_EQ(doc->Find("root")->text, b.rootfs);
  const JsonValue& e5 = doc->Find("entries")->items[4];
  EXPECT_EQ(e5.Find("state")->text, "planned");
  EXPECT_EQ(e5.Find("resolved")->text, "/etc");
  EXPECT_TRUE(e5.Find("file_destination")->boolean);
  ASSERT_EQ(e5.Find("create")->items.size(), 1u);
  EXPECT_EQ(e5.Find("create")->items[0].text, "/etc/hostname");
  EXPECT_EQ(MountInfoText(), table_before);
  EXPECT_EQ(Tree(b.top), tree_before);
}

// An image's symlinks point out of the root: absolute, relative, through
// "..", a loop, a magic link. Nothing appears outside the root; a symlink
// that legitimately points inside lands inside.
TEST(LinxApplyTest, HostileDestinationsStayInTheRoot) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Bundle b = MakeBundle("apply_hostile");
  Unmounter cleanup(b.top);
  ASSERT_EQ(::symlink((b.host + "/etc").c_str(), (b.rootfs + "/abs").c_str()),
            0);
  ASSERT_EQ(::symlink("../../host/etc", (b.rootfs + "/rel").c_str()), 0);
  ASSERT_EQ(::symlink("loop", (b.rootfs + "/loop").c_str()), 0);
  ASSERT_EQ(::symlink("/proc/self/root/etc", (b.rootfs + "/magic").c_str()), 0);
  linx::testing::MakeSubdir(b.rootfs, "real");
  // A link to a host device, and a chain of 41 links (the kernel's and the
  // resolver's limit is 40).
  ASSERT_EQ(::symlink("/dev/null", (b.rootfs + "/devnull").c_str()), 0);
  for (int i = 0; i < 41; ++i) {
    ASSERT_EQ(::symlink(absl::StrCat("c", i + 1).c_str(),
                        absl::StrCat(b.rootfs, "/c", i).c_str()),
              0);
  }
  linx::testing::MakeSubdir(b.rootfs, "c41");
  ASSERT_EQ(::symlink("/../../real", (b.rootfs + "/inside").c_str()), 0);
  const std::string host_before = Tree(b.host);
  const std::string table_before = MountInfoText();
  struct Case {
    std::string destination;
    std::string type;  // "file": a file bind
    std::string error;
  } cases[] = {
      {"/abs/x", "tmpfs", "ENOENT"},
      {"/rel/x", "tmpfs", "ENOENT"},
      {"/../../host/etc/x", "tmpfs", ""},  // ".." stops at the root
      {"/loop/x", "tmpfs", "ELOOP"},
      {"/magic/x", "tmpfs", ""},  // in-root walk: /proc is not in the image
      {"/abs/hosts", "file", "ENOENT"},
      {"/devnull", "file", "ENOENT"},  // <root>/dev/null: not the host's
      {"/c0/x", "tmpfs", "ELOOP"},
      {"/rel", "file", ""},  // a dangling link is never created through
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.destination);
    std::string entry =
        c.type == "file"
            ? absl::StrCat(R"({"destination": ")", c.destination,
                           R"(", "type": "bind", "source": "hostfile",
                              "options": ["bind"]})")
            : absl::StrCat(R"({"destination": ")", c.destination,
                           R"(", "type": "tmpfs", "source": "x"})");
    Write(b.bundle + "/m.json", absl::StrCat("[", entry, "]"));
    LinxResult r = RunLinx({"apply", b.bundle + "/m.json", "--root", b.rootfs});
    if (!c.error.empty()) {
      EXPECT_EQ(r.exit_code, 1) << r;
      EXPECT_THAT(r.err, HasSubstr(c.error)) << r;
      EXPECT_THAT(r.err, HasSubstr("entry 1 (")) << r;
    }
    // Whatever happened, it happened inside the root.
    EXPECT_EQ(Tree(b.host), host_before);
    for (const std::string& m : MountsUnder(b.top)) {
      EXPECT_TRUE(absl::StartsWith(m, b.rootfs + "/")) << m;
    }
    Unmounter undo(b.rootfs);
  }
  // A dry run sees the same: the escaping link is "would fail", exit 1,
  // and nothing is created or mounted anywhere.
  Write(b.bundle + "/m.json",
        R"([{"destination": "/ok/dir", "type": "tmpfs", "source": "x"},
            {"destination": "/abs/x", "type": "tmpfs", "source": "x"}])");
  const std::string tree_before = Tree(b.top);
  LinxResult dry =
      RunLinx({"apply", b.bundle + "/m.json", "--root", b.rootfs, "--dry-run"});
  EXPECT_EQ(dry.exit_code, 1) << dry;
  EXPECT_THAT(dry.out, HasSubstr("would create \"/ok\", \"/ok/dir\""));
  EXPECT_THAT(dry.out, HasSubstr("would fail: \"/abs\" is a dangling "
                                 "symlink"));
  EXPECT_THAT(dry.err, HasSubstr("entry 2 (\"/abs/x\"): would fail"));
  EXPECT_THAT(dry.err, HasSubstr("nothing was changed"));
  EXPECT_EQ(Tree(b.top), tree_before);
  EXPECT_EQ(MountInfoText(), table_before);

  // The legitimate in-root link: /inside → /real (".." clamped at the root).
  Write(b.bundle + "/m.json",
        R"([{"destination": "/inside/mnt", "type": "tmpfs", "source": "x"}])");
  LinxResult r = RunLinx({"apply", b.bundle + "/m.json", "--root", b.rootfs});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_TRUE(FindMount(b.rootfs + "/real/mnt").has_value());
  EXPECT_EQ(Tree(b.host), host_before);
  Unmounter undo(b.rootfs);
}

// Whether `path` is the null device (a character device 1:3).
bool IsNullDevice(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) &&
         st.st_rdev == makedev(1, 3);
}

bool ReadOnly(const std::string& path) {
  struct statvfs sv;
  return ::statvfs(path.c_str(), &sv) == 0 && (sv.f_flag & ST_RDONLY) != 0;
}

// readonlyPaths and maskedPaths run after every mount: a read-only bind of
// the path onto itself (its submounts too), /dev/null over a file, a
// read-only tmpfs over a directory; missing paths are skipped. The dry run
// shows them first and changes nothing.
TEST(LinxApplyTest, ReadonlyAndMaskedPathsAreAppliedAfterTheMounts) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Bundle b = MakeBundle("apply_paths");
  Unmounter cleanup(b.top);
  ASSERT_EQ(::mount("none", (b.data + "/sub").c_str(), "tmpfs", 0, nullptr), 0);
  Write(b.rootfs + "/etc/secret", "image secret\n");
  linx::testing::MakeSubdir(b.rootfs, "private");
  Write(b.rootfs + "/private/key", "k\n");
  Write(b.bundle + "/config.json", R"({"root": {"path": "rootfs"},
    "mounts": [
      {"destination": "/data", "type": "bind", "source": "data",
       "options": ["rbind"]},
      {"destination": "/run", "type": "tmpfs", "source": "run"}],
    "linux": {"readonlyPaths": ["/data", "/etc", "/no/such/dir"],
              "maskedPaths": ["/etc/secret", "/private", "/run",
                              "/no/such/file"]}})");
  const std::string table_before = MountInfoText();
  const std::string tree_before = Tree(b.top);

  LinxResult dry = RunLinx({"apply", b.bundle + "/config.json", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry;
  EXPECT_THAT(dry.out, HasSubstr("entry 3: readonlyPaths[0] \"/data\" "
                                 "(read-only bind onto itself)"));
  EXPECT_THAT(dry.out, HasSubstr("path: does not exist now: skipped unless "
                                 "an earlier entry's mount provides it"));
  EXPECT_THAT(dry.out, HasSubstr("entry 6: maskedPaths[0] \"/etc/secret\" "
                                 "(masked)\n  path: \"/etc/secret\" exists "
                                 "(not a directory: /dev/null over it)"));
  EXPECT_THAT(dry.out, HasSubstr("path: \"/private\" exists (a directory: a "
                                 "read-only tmpfs over it)"));
  EXPECT_THAT(dry.out, HasSubstr(absl::StrCat(
                           "mount(\"tmpfs\", \"", b.rootfs,
                           "/private\", \"tmpfs\", MS_RDONLY, NULL)")));
  EXPECT_THAT(dry.out, HasSubstr("AT_EMPTY_PATH|AT_RECURSIVE, "
                                 "{attr_set=MS_RDONLY}) before it is "
                                 "attached"));
  LinxResult dry_json =
      RunLinx({"apply", b.bundle + "/config.json", "--dry-run", "--json"});
  ASSERT_EQ(dry_json.exit_code, 0) << dry_json;
  absl::StatusOr<JsonValue> plan = ParseJson(dry_json.out);
  ASSERT_TRUE(plan.ok()) << plan.status() << "\n" << dry_json.out;
  const JsonValue* planned = plan->Find("entries");
  ASSERT_EQ(planned->items.size(), 9u);
  EXPECT_EQ(planned->items[0].Find("kind")->text, "mount");
  EXPECT_EQ(planned->items[3].Find("kind")->text, "readonly_path");
  const JsonValue& secret = planned->items[5];
  EXPECT_EQ(secret.Find("kind")->text, "masked_path");
  EXPECT_EQ(secret.Find("state")->text, "planned");
  EXPECT_TRUE(secret.Find("file_destination")->boolean);
  ASSERT_EQ(secret.Find("calls")->items.size(), 1u);
  EXPECT_THAT(secret.Find("calls")->items[0].text,
              HasSubstr("move_mount(open_tree(\"/dev/null\")"));
  EXPECT_EQ(MountInfoText(), table_before);
  EXPECT_EQ(Tree(b.top), tree_before);

  LinxResult r = RunLinx({"apply", b.bundle + "/config.json"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("7 entries applied in root \"" + b.rootfs +
                               "\" (2 missing paths skipped)"));
  // readonlyPaths: the whole tree read-only, the source left writable.
  EXPECT_TRUE(ReadOnly(b.rootfs + "/data"));
  EXPECT_TRUE(ReadOnly(b.rootfs + "/data/sub")) << "a submount stayed rw";
  EXPECT_FALSE(ReadOnly(b.data + "/sub"));
  EXPECT_TRUE(ReadOnly(b.rootfs + "/etc"));
  EXPECT_NE(::mkdir((b.rootfs + "/etc/new").c_str(), 0755), 0);
  EXPECT_EQ(errno, EROFS);
  // maskedPaths: the null device over the file, an empty read-only tmpfs
  // over the directories.
  EXPECT_TRUE(IsNullDevice(b.rootfs + "/etc/secret"));
  EXPECT_EQ(Slurp(b.rootfs + "/etc/secret"), "");
  std::optional<MountInfo> priv = FindMount(b.rootfs + "/private");
  ASSERT_TRUE(priv.has_value());
  EXPECT_EQ(priv->fstype, "tmpfs");
  EXPECT_TRUE(HasOption(priv->vfs_options, "ro")) << priv->vfs_options;
  EXPECT_EQ(Tree(b.rootfs + "/private"), "");
  std::optional<MountInfo> run = FindMount(b.rootfs + "/run");
  ASSERT_TRUE(run.has_value());
  EXPECT_TRUE(HasOption(run->vfs_options, "ro")) << "the mask is on top";
  EXPECT_FALSE(FindMount(b.rootfs + "/no").has_value());
  EXPECT_FALSE(::access((b.rootfs + "/no").c_str(), F_OK) == 0)
      << "a missing path was created";
  EXPECT_EQ(Tree(b.host), "etc d 755 40 \n");
}

// A failure in a maskedPaths entry takes back every mount before it,
// readonlyPaths and masks included: table and tree byte for byte as before.
TEST(LinxApplyTest, AFailingMaskRollsBackTheMountsAndPathsBeforeIt) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Bundle b = MakeBundle("apply_paths_rollback");
  Unmounter cleanup(b.top);
  Write(b.rootfs + "/etc/secret", "image secret\n");
  ASSERT_EQ(::symlink("loop", (b.rootfs + "/loop").c_str()), 0);
  Write(b.bundle + "/config.json", R"({"root": {"path": "rootfs"},
    "mounts": [
      {"destination": "/run", "type": "tmpfs", "source": "run"},
      {"destination": "/data", "type": "bind", "source": "data",
       "options": ["rbind"]}],
    "linux": {"readonlyPaths": ["/data", "/etc"],
              "maskedPaths": ["/etc/secret", "/loop", "/run"]}})");
  const std::string table_before = MountInfoText();
  const std::string tree_before = Tree(b.top);
  LinxResult r = RunLinx({"apply", b.bundle + "/config.json"});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("entry 6 (maskedPaths[1] \"/loop\")"));
  EXPECT_THAT(r.err, HasSubstr("ELOOP"));
  EXPECT_THAT(r.err, HasSubstr("rolled back"));
  EXPECT_EQ(MountInfoText(), table_before);
  EXPECT_EQ(Tree(b.top), tree_before);

  LinxResult j = RunLinx({"apply", b.bundle + "/config.json", "--json"});
  EXPECT_EQ(j.exit_code, 1) << j;
  absl::StatusOr<JsonValue> doc = ParseJson(j.out);
  ASSERT_TRUE(doc.ok()) << doc.status() << "\n" << j.out;
  EXPECT_EQ(doc->Find("error")->Find("entry")->number, 6);
  EXPECT_EQ(doc->Find("error")->Find("destination")->text, "/loop");
  EXPECT_EQ(doc->Find("error")->Find("errno")->text, "ELOOP");
  EXPECT_TRUE(doc->Find("rolled_back")->boolean);
  EXPECT_TRUE(doc->Find("rollback_error")->is_null());
  const JsonValue* entries = doc->Find("entries");
  ASSERT_EQ(entries->items.size(), 7u);
  EXPECT_EQ(entries->items[2].Find("state")->text, "done");
  EXPECT_EQ(entries->items[4].Find("state")->text, "done");
  EXPECT_EQ(entries->items[4].Find("resolved")->text, "/etc/secret");
  EXPECT_EQ(entries->items[5].Find("kind")->text, "masked_path");
  EXPECT_EQ(entries->items[5].Find("state")->text, "failed");
  EXPECT_EQ(entries->items[6].Find("state")->text, "not_reached");
  EXPECT_EQ(MountInfoText(), table_before);
  EXPECT_EQ(Tree(b.top), tree_before);
}

// The image points masked and read-only paths out of the root (relative
// and absolute symlinks, ".."), at a magic link, at the root itself. Each
// mask and read-only bind lands inside the root, or is skipped because the
// in-root target is missing, or the apply fails with nothing left mounted.
TEST(LinxApplyTest, HostileReadonlyAndMaskedPathsStayInTheRoot) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Bundle b = MakeBundle("apply_paths_hostile");
  Unmounter cleanup(b.top);
  Write(b.host + "/etc/passwd", "host secret\n");
  const std::string proc = linx::testing::MakeSubdir(b.rootfs, "proc");
  // Naively resolved from <root>/proc these reach b.host.
  ASSERT_EQ(::symlink("../../../host/etc/passwd", (proc + "/kcore").c_str()),
            0);
  ASSERT_EQ(
      ::symlink((b.host + "/etc/passwd").c_str(), (proc + "/keys").c_str()), 0);
  ASSERT_EQ(::symlink("../../../host/etc", (proc + "/sys").c_str()), 0);
  ASSERT_EQ(::symlink(b.host.c_str(), (proc + "/bus").c_str()), 0);
  const std::string config =
      R"({"root": {"path": "rootfs"}, "linux": {
        "readonlyPaths": ["/proc/sys", "/proc/bus"],
        "maskedPaths": ["/proc/kcore", "/proc/keys",
                        "/../../host/etc/passwd"]}})";
  Write(b.bundle + "/config.json", config);
  const std::string host_before = Tree(b.host);
  const std::string table_before = MountInfoText();

  // 1. Nothing of that name inside the root: every path is skipped.
  LinxResult r = RunLinx({"apply", b.bundle + "/config.json", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r;
  absl::StatusOr<JsonValue> doc = ParseJson(r.out);
  ASSERT_TRUE(doc.ok()) << doc.status() << "\n" << r.out;
  for (const JsonValue& e : doc->Find("entries")->items) {
    EXPECT_EQ(e.Find("state")->text, "skipped") << r.out;
  }
  EXPECT_EQ(MountInfoText(), table_before);
  EXPECT_EQ(Tree(b.host), host_before);

  // 2. The in-root counterparts exist: the masks and binds land there.
  const std::string decoy = linx::testing::MakeSubdir(
      linx::testing::MakeSubdir(b.rootfs, "host"), "etc");
  Write(decoy + "/passwd", "decoy\n");
  ASSERT_EQ(std::system(
                absl::StrCat("mkdir -p '", b.rootfs, b.host, "/etc'").c_str()),
            0);
  Write(b.rootfs + b.host + "/etc/passwd", "decoy 2\n");
  r = RunLinx({"apply", b.bundle + "/config.json"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_TRUE(IsNullDevice(decoy + "/passwd"));
  EXPECT_TRUE(IsNullDevice(b.rootfs + b.host + "/etc/passwd"));
  EXPECT_TRUE(ReadOnly(decoy));
  EXPECT_TRUE(ReadOnly(b.rootfs + b.host));
  EXPECT_EQ(Slurp(b.host + "/etc/passwd"), "host secret\n");
  EXPECT_FALSE(ReadOnly(b.host + "/etc"));
  EXPECT_EQ(Tree(b.host), host_before);
  for (const std::string& m : MountsUnder(b.top)) {
    if (m == b.top) continue;
    EXPECT_TRUE(absl::StartsWith(m, b.rootfs + "/")) << m;
  }
  { Unmounter undo(b.rootfs); }
  ASSERT_EQ(MountInfoText(), table_before);

  // 3. A magic link (through a proc the config mounts) and the root itself:
  // the apply fails, and nothing stays mounted.
  ASSERT_EQ(::symlink("/proc/self/root/etc", (b.rootfs + "/magic").c_str()), 0);
  ASSERT_EQ(::symlink("../..", (b.rootfs + "/toroot").c_str()), 0);
  struct Case {
    std::string linux;
    std::string error;
  } cases[] = {
      {R"("maskedPaths": ["/proc/kcore", "/magic/passwd"])", "ELOOP"},
      {R"("readonlyPaths": ["/magic"])", "ELOOP"},
      {R"("maskedPaths": ["/toroot"])", "EXDEV"},
      {R"("readonlyPaths": ["/.."])", "EXDEV"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.linux);
    Write(b.bundle + "/config.json",
          absl::StrCat(R"({"root": {"path": "rootfs"}, "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"}],
            "linux": {)",
                       c.linux, "}}"));
    const std::string tree_before = Tree(b.top);
    LinxResult bad = RunLinx({"apply", b.bundle + "/config.json"});
    EXPECT_EQ(bad.exit_code, 1) << bad;
    EXPECT_THAT(bad.err, HasSubstr(c.error)) << bad;
    EXPECT_THAT(bad.err, HasSubstr("rolled back")) << bad;
    EXPECT_EQ(MountInfoText(), table_before);
    EXPECT_EQ(Tree(b.top), tree_before);
  }
}

TEST(LinxApplyTest, BadFilesAndUsageExitTwoAndTouchNothing) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Bundle b = MakeBundle("apply_usage");
  Unmounter cleanup(b.top);
  const std::string table_before = MountInfoText();
  const std::string tree_before = Tree(b.top);
  struct Case {
    std::string file_text;  // "" : no file written
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {"", {"apply"}, "missing operand FILE"},
      {"", {"apply", "a", "b"}, "extra operand \"b\""},
      {"", {"apply", "f", "--bogus"}, "unknown option \"--bogus\""},
      {"", {"apply", "f", "--in", "pid:0"}, "bad --in \"pid:0\""},
      {"", {"apply", "f", "--root"}, "--root needs a value"},
      {"", {"apply", "f", "--json=yes"}, "--json takes no value"},
      {"", {"apply", "@/missing.json"}, "ENOENT"},
      {"{\"mounts\": [", {"apply", "@"}, "json line 1, column 13"},
      {"[{\"destination\": \"/x\", \"type\": \"tmpfs\"}]",
       {"apply", "@"},
       "give --root DIR"},
      {R"([{"destination": "/a", "type": "tmpfs"},
           {"destination": "/b", "type": "tmpfs", "options": ["tmpcopyup"]}])",
       {"apply", "@", "--root", "R"},
       "entry 2 (\"/b\"): option \"tmpcopyup\" is not supported"},
      {R"([{"destination": "/a", "type": "tmpfs", "options": ["rro"]}])",
       {"apply", "@", "--root", "R"},
       "option \"rro\" is not supported"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    std::vector<std::string> args;
    for (const std::string& a : c.args) {
      if (a == "@") {
        args.push_back(b.bundle + "/f.json");
      } else if (a == "@/missing.json") {
        args.push_back(b.bundle + "/missing.json");
      } else if (a == "R") {
        args.push_back(b.rootfs);
      } else {
        args.push_back(a);
      }
    }
    if (!c.file_text.empty()) Write(b.bundle + "/f.json", c.file_text);
    LinxResult r = RunLinx(args);
    EXPECT_EQ(r.exit_code, 2) << r;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << r;
    ::unlink((b.bundle + "/f.json").c_str());
  }
  // With --json the refusal is the JSON object, exit 2.
  Write(b.bundle + "/f.json",
        R"([{"destination": "/a", "type": "tmpfs", "options": ["idmap"]}])");
  LinxResult j =
      RunLinx({"apply", b.bundle + "/f.json", "--root", b.rootfs, "--json"});
  EXPECT_EQ(j.exit_code, 2) << j;
  absl::StatusOr<JsonValue> doc = ParseJson(j.out);
  ASSERT_TRUE(doc.ok()) << doc.status() << "\n" << j.out;
  EXPECT_FALSE(doc->Find("ok")->boolean);
  EXPECT_EQ(doc->Find("exit")->number, 2);
  EXPECT_EQ(doc->Find("error")->Find("stage")->text, "bad_flag");
  EXPECT_EQ(doc->Find("error")->Find("value")->text, "idmap");
  ::unlink((b.bundle + "/f.json").c_str());

  LinxResult help = RunLinx({"apply", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("usage: linx apply FILE"));
  // A root that does not exist: exit 1, nothing changed.
  Write(b.bundle + "/f.json", R"([{"destination": "/a", "type": "tmpfs"}])");
  LinxResult noroot = RunLinx(
      {"apply", b.bundle + "/f.json", "--root", b.top + "/no/such/root"});
  EXPECT_EQ(noroot.exit_code, 1) << noroot;
  EXPECT_THAT(noroot.err, HasSubstr("ENOENT"));
  EXPECT_THAT(noroot.err, HasSubstr("nothing was changed"));
  ::unlink((b.bundle + "/f.json").c_str());
  EXPECT_EQ(MountInfoText(), table_before);
  EXPECT_EQ(Tree(b.top), tree_before);
}

// --in pid:N: every entry lands in the parked child's namespace, none in
// ours; a failure there is rolled back there.
TEST(LinxApplyTest, AppliesIntoAnotherNamespaceInOneTrip) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Bundle b = MakeBundle("apply_in");
  Unmounter cleanup(b.top);
  absl::StatusOr<std::unique_ptr<linx::testing::ParkedChild>> child =
      linx::testing::ParkedChild::Spawn();
  ASSERT_TRUE(child.ok()) << child.status();
  const pid_t pid = (*child)->pid();
  Write(b.bundle + "/m.json", R"([
    {"destination": "/run", "type": "tmpfs", "source": "run",
     "options": ["nosuid", "nodev"]},
    {"destination": "/data", "type": "bind", "source": "data",
     "options": ["bind", "ro"]},
    {"destination": "/proc", "type": "proc", "source": "proc",
     "options": ["nosuid", "noexec", "nodev"]}
  ])");
  const std::string table_before = MountInfoText();
  LinxResult r = RunLinx({"apply", b.bundle + "/m.json", "--root", b.rootfs,
                          "--in", absl::StrCat("pid:", pid)});
  ASSERT_EQ(r.exit_code, 0) << r;
  std::optional<MountInfo> run = FindMount(b.rootfs + "/run", pid);
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->fstype, "tmpfs");
  // The proc shows the child's PID namespace, not linx's: its /proc/1 is
  // the child (the same ns/pid link), and no pid of ours is in it.
  std::optional<MountInfo> proc = FindMount(b.rootfs + "/proc", pid);
  ASSERT_TRUE(proc.has_value());
  EXPECT_EQ(proc->fstype, "proc");
  const std::string in_child = absl::StrCat("/proc/", pid, "/root", b.rootfs);
  char got[64] = {}, want[64] = {};
  ASSERT_GT(
      ::readlink((in_child + "/proc/1/ns/pid").c_str(), got, sizeof got - 1),
      0);
  ASSERT_GT(::readlink(absl::StrCat("/proc/", pid, "/ns/pid").c_str(), want,
                       sizeof want - 1),
            0);
  EXPECT_STREQ(got, want);
  EXPECT_NE(
      ::access(absl::StrCat(in_child, "/proc/", ::getpid()).c_str(), F_OK), 0);

  // Bind sources are the caller's paths: a tmpfs mounted here after the
  // child was made (private, so its copy of the table never sees it) is
  // what lands in the child's root, not the directory beneath it there.
  const std::string late = b.bundle + "/late";
  ASSERT_EQ(::mkdir(late.c_str(), 0755), 0);
  Write(late + "/marker", "under\n");
  ASSERT_EQ(::mount("late", late.c_str(), "tmpfs", 0, "size=64k"), 0);
  ASSERT_EQ(::mount(nullptr, late.c_str(), nullptr, MS_PRIVATE, nullptr), 0);
  Write(late + "/marker", "caller's tmpfs\n");
  // The child's view of the same path: no tmpfs there.
  ASSERT_EQ(Slurp(absl::StrCat("/proc/", pid, "/root", late, "/marker")),
            "under\n");
  Write(b.bundle + "/late.json", R"([
    {"destination": "/late", "type": "bind", "source": "late",
     "options": ["rbind"]}
  ])");
  LinxResult lr = RunLinx({"apply", b.bundle + "/late.json", "--root", b.rootfs,
                           "--in", absl::StrCat("pid:", pid)});
  ASSERT_EQ(lr.exit_code, 0) << lr;
  EXPECT_EQ(Slurp(in_child + "/late/marker"), "caller's tmpfs\n");
  ASSERT_EQ(::umount2(late.c_str(), MNT_DETACH), 0);
  std::optional<MountInfo> data = FindMount(b.rootfs + "/data", pid);
  ASSERT_TRUE(data.has_value());
  EXPECT_TRUE(HasOption(data->vfs_options, "ro"));
  EXPECT_EQ(MountInfoText(), table_before);  // ours is untouched

  Write(b.bundle + "/bad.json", R"([
    {"destination": "/a", "type": "tmpfs", "source": "a"},
    {"destination": "/b", "type": "bind", "source": "/no/such/source",
     "options": ["bind"]}
  ])");
  const std::string child_before =
      Slurp(absl::StrCat("/proc/", pid, "/mountinfo"));
  LinxResult bad = RunLinx({"apply", b.bundle + "/bad.json", "--root", b.rootfs,
                            "--in", absl::StrCat("pid:", pid)});
  EXPECT_EQ(bad.exit_code, 1) << bad;
  EXPECT_THAT(bad.err, HasSubstr("entry 2 (\"/b\")"));
  EXPECT_THAT(bad.err, HasSubstr("ENOENT"));
  EXPECT_EQ(Slurp(absl::StrCat("/proc/", pid, "/mountinfo")), child_before);
  EXPECT_EQ(MountInfoText(), table_before);

  // readonlyPaths and maskedPaths land there too; the mask is the caller's
  // /dev/null, cloned before the trip.
  Write(b.rootfs + "/etc/secret", "image secret\n");
  Write(b.bundle + "/paths.json", R"({"root": {"path": "rootfs"}, "linux": {
    "readonlyPaths": ["/etc"], "maskedPaths": ["/etc/secret"]}})");
  LinxResult paths = RunLinx(
      {"apply", b.bundle + "/paths.json", "--in", absl::StrCat("pid:", pid)});
  ASSERT_EQ(paths.exit_code, 0) << paths;
  std::optional<MountInfo> etc = FindMount(b.rootfs + "/etc", pid);
  ASSERT_TRUE(etc.has_value());
  EXPECT_TRUE(HasOption(etc->vfs_options, "ro")) << etc->vfs_options;
  EXPECT_TRUE(FindMount(b.rootfs + "/etc/secret", pid).has_value());
  EXPECT_TRUE(IsNullDevice(
      absl::StrCat("/proc/", pid, "/root", b.rootfs, "/etc/secret")));
  EXPECT_EQ(Slurp(b.rootfs + "/etc/secret"), "image secret\n");
  EXPECT_EQ(MountInfoText(), table_before);
  (*child)->Kill();
}

}  // namespace
}  // namespace linx::tools
