#include "mount/flags.h"

#include <sys/mount.h>

#include <set>
#include <string>
#include <vector>

#include "base/op_error.h"
#include "base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linx {
namespace {

using ::linx::testing::IsOk;
using ::linx::testing::StageIs;
using ::linx::testing::StatusIs;
using ::testing::ElementsAre;

struct MountRow {
  const char* word;
  MountFlag flag;
  unsigned long bit;  // straight from <sys/mount.h>
  const char* bit_name;
};

// The table is written out independently of flags.cc, against the system
// header's constants.
const MountRow kMountRows[] = {
    {"ro", MountFlag::kRo, MS_RDONLY, "MS_RDONLY"},
    {"nosuid", MountFlag::kNosuid, MS_NOSUID, "MS_NOSUID"},
    {"nodev", MountFlag::kNodev, MS_NODEV, "MS_NODEV"},
    {"noexec", MountFlag::kNoexec, MS_NOEXEC, "MS_NOEXEC"},
    {"sync", MountFlag::kSync, MS_SYNCHRONOUS, "MS_SYNCHRONOUS"},
    {"remount", MountFlag::kRemount, MS_REMOUNT, "MS_REMOUNT"},
    {"mandlock", MountFlag::kMandlock, MS_MANDLOCK, "MS_MANDLOCK"},
    {"dirsync", MountFlag::kDirsync, MS_DIRSYNC, "MS_DIRSYNC"},
    {"noatime", MountFlag::kNoatime, MS_NOATIME, "MS_NOATIME"},
    {"nodiratime", MountFlag::kNodiratime, MS_NODIRATIME, "MS_NODIRATIME"},
    {"bind", MountFlag::kBind, MS_BIND, "MS_BIND"},
    {"move", MountFlag::kMove, MS_MOVE, "MS_MOVE"},
    {"rec", MountFlag::kRec, MS_REC, "MS_REC"},
    {"silent", MountFlag::kSilent, MS_SILENT, "MS_SILENT"},
    {"private", MountFlag::kPrivate, MS_PRIVATE, "MS_PRIVATE"},
    {"shared", MountFlag::kShared, MS_SHARED, "MS_SHARED"},
    {"slave", MountFlag::kSlave, MS_SLAVE, "MS_SLAVE"},
    {"unbindable", MountFlag::kUnbindable, MS_UNBINDABLE, "MS_UNBINDABLE"},
    {"relatime", MountFlag::kRelatime, MS_RELATIME, "MS_RELATIME"},
    {"strictatime", MountFlag::kStrictatime, MS_STRICTATIME, "MS_STRICTATIME"},
    {"lazytime", MountFlag::kLazytime, MS_LAZYTIME, "MS_LAZYTIME"},
    {"nosymfollow", MountFlag::kNosymfollow, 256, "MS_NOSYMFOLLOW"},
};

TEST(MountFlagsTest, EveryWordMapsToItsSysMountBitBothWays) {
  ASSERT_EQ(AllMountFlags().size(), sizeof(kMountRows) / sizeof(kMountRows[0]));
  std::set<unsigned long> bits;
  for (const MountRow& r : kMountRows) {
    SCOPED_TRACE(r.word);
    absl::StatusOr<MountFlag> f = ParseMountFlag(r.word);
    ASSERT_THAT(f, IsOk());
    EXPECT_EQ(*f, r.flag);
    EXPECT_STREQ(MountFlagName(r.flag), r.word);
    EXPECT_STREQ(MountFlagBitName(r.flag), r.bit_name);
    EXPECT_EQ(MountFlagBit(r.flag), r.bit);
    EXPECT_EQ(MountFlagsToBits({r.flag}), r.bit);
    absl::StatusOr<std::vector<MountFlag>> back = MountFlagsFromBits(r.bit);
    ASSERT_THAT(back, IsOk());
    EXPECT_THAT(*back, ElementsAre(r.flag));
    EXPECT_EQ(RenderMountFlags(r.bit), r.bit_name);
    EXPECT_TRUE(bits.insert(r.bit).second) << "bit used twice";
  }
}

TEST(MountFlagsTest, EveryUmountWordMapsToItsSysMountBitBothWays) {
  struct Row {
    const char* word;
    UmountFlag flag;
    int bit;
    const char* bit_name;
  };
  const Row rows[] = {
      {"force", UmountFlag::kForce, MNT_FORCE, "MNT_FORCE"},
      {"detach", UmountFlag::kDetach, MNT_DETACH, "MNT_DETACH"},
      {"expire", UmountFlag::kExpire, MNT_EXPIRE, "MNT_EXPIRE"},
      {"no_follow", UmountFlag::kNoFollow, UMOUNT_NOFOLLOW, "UMOUNT_NOFOLLOW"},
  };
  ASSERT_EQ(AllUmountFlags().size(), 4u);
  for (const Row& r : rows) {
    SCOPED_TRACE(r.word);
    absl::StatusOr<UmountFlag> f = ParseUmountFlag(r.word);
    ASSERT_THAT(f, IsOk());
    EXPECT_EQ(*f, r.flag);
    EXPECT_STREQ(UmountFlagName(r.flag), r.word);
    EXPECT_STREQ(UmountFlagBitName(r.flag), r.bit_name);
    EXPECT_EQ(UmountFlagBit(r.flag), r.bit);
    absl::StatusOr<std::vector<UmountFlag>> back = UmountFlagsFromBits(r.bit);
    ASSERT_THAT(back, IsOk());
    EXPECT_THAT(*back, ElementsAre(r.flag));
    EXPECT_EQ(RenderUmountFlags(r.bit), r.bit_name);
  }
}

TEST(MountFlagsTest, UnknownWordIsBadFlagNamingTheWord) {
  for (const char* word : {"rw", "RO", "", "ro ", "nosuid,nodev", "detach"}) {
    SCOPED_TRACE(word);
    absl::StatusOr<MountFlag> f = ParseMountFlag(word);
    EXPECT_THAT(f, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(f, StageIs(Stage::kBadFlag));
    std::optional<OpError> e = GetOpError(f.status());
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->value, word);
  }
  EXPECT_EQ(ParseMountFlag("rw").status().message(),
            "unknown mount flag \"rw\"");
  EXPECT_EQ(ParseUmountFlag("lazy").status().message(),
            "unknown umount flag \"lazy\"");
}

TEST(MountFlagsTest, CommaListsParseInOrderAndFailOnTheFirstBadWord) {
  absl::StatusOr<std::vector<MountFlag>> f = ParseMountFlags("ro,nosuid,rec");
  ASSERT_THAT(f, IsOk());
  EXPECT_THAT(*f,
              ElementsAre(MountFlag::kRo, MountFlag::kNosuid, MountFlag::kRec));
  EXPECT_EQ(JoinMountFlags(*f), "ro,nosuid,rec");
  ASSERT_THAT(ParseMountFlags(""), IsOk());
  EXPECT_TRUE(ParseMountFlags("")->empty());

  absl::StatusOr<std::vector<MountFlag>> bad = ParseMountFlags("ro,bogus,xx");
  EXPECT_THAT(bad, StageIs(Stage::kBadFlag));
  EXPECT_EQ(GetOpError(bad.status())->value, "bogus");
  // An empty item is an error too (value "").
  absl::StatusOr<std::vector<MountFlag>> empty_item = ParseMountFlags("ro,");
  EXPECT_THAT(empty_item, StageIs(Stage::kBadFlag));
  EXPECT_EQ(GetOpError(empty_item.status())->value, "");

  absl::StatusOr<std::vector<UmountFlag>> u = ParseUmountFlags("detach,force");
  ASSERT_THAT(u, IsOk());
  EXPECT_THAT(*u, ElementsAre(UmountFlag::kDetach, UmountFlag::kForce));
  EXPECT_EQ(JoinUmountFlags(*u), "detach,force");
  EXPECT_THAT(ParseUmountFlags("detach,ro"), StageIs(Stage::kBadFlag));
}

TEST(MountFlagsTest, RenderNamesEveryBitAndShowsUnknownOnesInHex) {
  EXPECT_EQ(RenderMountFlags(0), "0");
  EXPECT_EQ(RenderMountFlags(MS_NOSUID | MS_NODEV), "MS_NOSUID|MS_NODEV");
  EXPECT_EQ(RenderMountFlags(MS_BIND | MS_REC | MS_RDONLY),
            "MS_RDONLY|MS_BIND|MS_REC");
  EXPECT_EQ(RenderMountFlags(MS_RDONLY | 256), "MS_RDONLY|MS_NOSYMFOLLOW");
  // 512 is no MS_* bit.
  EXPECT_EQ(RenderMountFlags(MS_RDONLY | 512), "MS_RDONLY|0x200");
  EXPECT_EQ(RenderMountFlags(0xC0000000UL), "0xc0000000");
  EXPECT_EQ(RenderUmountFlags(0), "0");
  EXPECT_EQ(RenderUmountFlags(MNT_DETACH | UMOUNT_NOFOLLOW),
            "MNT_DETACH|UMOUNT_NOFOLLOW");
  EXPECT_EQ(RenderUmountFlags(0x40), "0x40");
}

TEST(MountFlagsTest, FromBitsRejectsBitsNoWordNames) {
  absl::StatusOr<std::vector<MountFlag>> ok =
      MountFlagsFromBits(MS_NODEV | MS_RDONLY);
  ASSERT_THAT(ok, IsOk());
  EXPECT_THAT(*ok, ElementsAre(MountFlag::kRo, MountFlag::kNodev));
  ASSERT_THAT(MountFlagsFromBits(0), IsOk());
  EXPECT_TRUE(MountFlagsFromBits(0)->empty());

  absl::StatusOr<std::vector<MountFlag>> bad =
      MountFlagsFromBits(MS_RDONLY | 512);
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad, StageIs(Stage::kBadFlag));
  EXPECT_EQ(GetOpError(bad.status())->value, "0x200");

  EXPECT_THAT(UmountFlagsFromBits(0x40), StageIs(Stage::kBadFlag));
}

TEST(MountFlagsTest, PropagationWordsAreExactlyTheFour) {
  std::vector<MountFlag> props;
  for (MountFlag f : AllMountFlags()) {
    if (IsPropagationFlag(f)) props.push_back(f);
  }
  EXPECT_THAT(props, ElementsAre(MountFlag::kPrivate, MountFlag::kShared,
                                 MountFlag::kSlave, MountFlag::kUnbindable));
}

}  // namespace
}  // namespace linx
