// linx apply with an OCI idmapped bind (idmap, uidMappings, gidMappings):
// linx makes a user namespace with those maps and binds through it, so a
// file of uid 0 shows as 100000 inside the root; when a later entry fails,
// the idmapped bind is taken back like any other. Outside Bazel's sandbox
// (tags = no-sandbox): its user namespace maps only uid 0, and no map to
// 100000 could be written. Privileged, in the test's private mount
// namespace on the scratch tmpfs.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/testing/privileged.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nsexec/userns.h"
#include "tools/linx_process.h"

namespace linx::tools {
namespace {

using ::linx::testing::MakeScratchDir;
using ::linx::testing::MakeSubdir;
using ::testing::HasSubstr;

void Write(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  ASSERT_TRUE(f.good()) << path;
}

std::string MountInfoText() {
  std::ifstream f("/proc/self/mountinfo");
  return std::string(std::istreambuf_iterator<char>(f), {});
}

constexpr char kMaps[] =
    R"("uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
       "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}])";

TEST(ApplyIdmapTest, AnIdmappedBindShowsOwnersThroughItsMaps) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string top = MakeScratchDir("apply-idmap");
  std::string src = MakeSubdir(top, "src");
  std::string rootfs = MakeSubdir(top, "rootfs");
  ASSERT_EQ(::mount("idsrc", src.c_str(), "tmpfs", 0, nullptr), 0);
  Write(src + "/f", "x");
  ASSERT_EQ(::chown((src + "/f").c_str(), 0, 0), 0);
  Write(top + "/ok.json",
        absl::StrCat(R"([{"destination": "/data", "type": "bind", "source": ")",
                     src, R"(", "options": ["bind", "ro", "idmap"], )", kMaps,
                     "}]"));
  LinxResult r = RunLinx({"apply", top + "/ok.json", "--root", rootfs});
  ASSERT_EQ(r.exit_code, 0) << r;
  struct stat st;
  ASSERT_EQ(::stat((rootfs + "/data/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 100000u);
  EXPECT_EQ(st.st_gid, 100000u);
  ASSERT_EQ(::stat((src + "/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u) << "the source is not changed";
  ASSERT_EQ(::umount2((rootfs + "/data").c_str(), MNT_DETACH), 0);

  // A later entry that fails takes the idmapped bind back with it.
  const std::string before = MountInfoText();
  Write(top + "/fail.json",
        absl::StrCat(R"([{"destination": "/data", "type": "bind", "source": ")",
                     src, R"(", "options": ["bind", "idmap"], )", kMaps,
                     R"(}, {"destination": "/bad", "type": "linx-no-such-fs",
                     "source": "none"}])"));
  r = RunLinx({"apply", top + "/fail.json", "--root", rootfs});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("ENODEV"));
  EXPECT_EQ(MountInfoText(), before);

  // A map the caller may not write (an overlapping map) is refused at stage
  // open_ns before anything is mounted.
  Write(top + "/overlap.json",
        absl::StrCat(R"([{"destination": "/data", "type": "bind", "source": ")",
                     src,
                     R"(", "options": ["bind", "idmap"],
            "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 10},
                            {"containerID": 5, "hostID": 200000, "size": 10}],
            "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 10}]}])"));
  r = RunLinx({"apply", top + "/overlap.json", "--root", rootfs});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("uid_map"));
  EXPECT_EQ(MountInfoText(), before);
  ::umount2(src.c_str(), MNT_DETACH);
}

// UserNamespace::WithMaps on its own: the maps are the namespace's.
TEST(ApplyIdmapTest, WithMapsMakesANamespaceWithThoseMaps) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  absl::StatusOr<UserNamespace> ns =
      UserNamespace::WithMaps("0 100000 65536\n", "0 100000 65536\n");
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_GE(ns->fd(), 0);
  EXPECT_FALSE(UserNamespace::WithMaps("", "0 1 1\n").ok());
  absl::StatusOr<UserNamespace> bad =
      UserNamespace::WithMaps("0 100000 10\n5 200000 10\n", "0 100000 10\n");
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace linx::tools
