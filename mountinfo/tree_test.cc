#include "mountinfo/tree.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "mountinfo/format.h"
#include "mountinfo/mountinfo.h"

namespace linx {
namespace {

MountInfo Line(const char* s) {
  absl::StatusOr<MountInfo> m = ParseMountInfoLine(s);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : MountInfo();
}

TEST(MountTreeTest, DrawsChildrenUnderParentsInTableOrder) {
  std::vector<MountInfo> t = {
      Line("20 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw"),
      Line("21 20 0:5 / /proc rw,nosuid - proc proc rw"),
      Line("22 21 0:6 / /proc/sys/fs/binfmt_misc rw - binfmt_misc x rw"),
      Line("23 20 0:7 / /my\\040tmp rw master:1 - tmpfs my\\040src rw"),
      Line("24 23 0:8 / /my\\040tmp/a rw unbindable - tmpfs a rw"),
  };
  std::string out;
  AppendMountTree(t, &out);
  // Columns line up in display cells (each box-drawing pair is 2 cells).
  EXPECT_EQ(out,
            "TARGET                       SOURCE    FSTYPE      PROPAGATION "
            "OPTIONS\n"
            "/                            /dev/sda1 ext4        shared:1    "
            "rw,relatime\n"
            "\u251c\u2500/proc                      proc      proc        "
            "private     rw,nosuid\n"
            "\u2502 \u2514\u2500/proc/sys/fs/binfmt_misc x         "
            "binfmt_misc private     rw\n"
            "\u2514\u2500/my\\040tmp                 my\\040src tmpfs       "
            "master:1    rw\n"
            "  \u2514\u2500/my\\040tmp/a             a         tmpfs       "
            "unbindable  rw\n");
}

TEST(MountTreeTest, OrphansAndCyclesAreRoots) {
  std::vector<MountInfo> t = {
      Line("30 99 0:1 / /a rw - tmpfs a rw"),  // parent not listed
      Line("31 32 0:1 / /b rw - tmpfs b rw"),  // 31 <-> 32 cycle
      Line("32 31 0:1 / /c rw - tmpfs c rw"),
  };
  std::string out;
  AppendMountTree(t, &out);
  EXPECT_NE(out.find("\n/a "), std::string::npos) << out;
  EXPECT_NE(out.find("\n/b "), std::string::npos) << out;
  EXPECT_NE(out.find("\u2514\u2500/c "), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 4);
}

TEST(MountInfoJsonTest, MatchesTheTableJsonEntry) {
  const char* line =
      "36 35 98:0 /mnt1 /mnt\\0402 rw,noatime master:1 propagate_from:2 - "
      "ext3 /dev/root rw,errors=continue";
  absl::StatusOr<MountTable> t = ParseMountInfo(line);
  ASSERT_TRUE(t.ok());
  std::string table_json;
  AppendMountTableJson(*t, &table_json);
  std::string one;
  AppendMountJson(MountInfo((*t)[0]), &one);
  EXPECT_EQ(table_json, "{\"mounts\": [" + one + "], \"skipped\": []}");
  EXPECT_EQ(PropagationSummary(MountInfo((*t)[0])),
            "master:1,propagate_from:2");
}

// Hostile tables cost output linear in their size: a long target does not
// widen the other rows past kMaxPaddedColumn, and a deep parent chain stops
// indenting at kMaxTreeIndent levels.
TEST(MountTreeTest, PaddingAndIndentationAreBounded) {
  std::vector<MountInfo> wide = {
      Line("1 0 0:1 / / rw - tmpfs t rw"),
      Line("2 1 0:2 / /short rw - tmpfs t rw"),
  };
  wide[0].target = "/" + std::string(10000, 'x');
  std::string out;
  AppendMountTree(wide, &out);
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (absl::StrContains(line, "/short")) {
      EXPECT_LT(line.size(), kMaxPaddedColumn + 60) << line;
    }
  }
  std::vector<MountInfo> deep;
  for (int i = 1; i <= 200; ++i) {
    MountInfo m = Line("1 0 0:1 / / rw - tmpfs t rw");
    m.id = i;
    m.parent_id = i - 1;
    m.target = "/d";
    deep.push_back(m);
  }
  out.clear();
  AppendMountTree(deep, &out);
  std::vector<absl::string_view> lines = absl::StrSplit(out, '\n');
  ASSERT_EQ(lines.size(), 202u);  // header, 200 rows, ""
  // Row i is indented by min(i - 1, kMaxTreeIndent) levels: the last rows
  // are all equally deep, and no row is longer than that.
  EXPECT_EQ(lines[200].find("/d"), lines[150].find("/d"));
  EXPECT_LT(lines[20].find("/d"), lines[150].find("/d"));
  EXPECT_LT(lines[200].size(), 4 * kMaxTreeIndent + 200);
}

}  // namespace
}  // namespace linx
