// linx::KernelFeatures on the machine it runs on: every probe answers, none
// changes the mount table, and with CAP_SYS_ADMIN on a kernel that has them
// (CI's 6.x) the features linx's own paths rely on say yes. The vmtest 6.1
// kernel shows the "no" answers (move_mount_beneath, overlay_lowerdir_plus,
// statmount).
#include "mount/features.h"

#include <sys/utsname.h>

#include <cstdio>
#include <set>
#include <string>

#include "base/testing/privileged.h"
#include "gtest/gtest.h"
#include "mount/testing/mount_test_util.h"

namespace linx {
namespace {

// The running kernel's version as major*100+minor (6.18 → 618).
int KernelVersion() {
  struct utsname u;
  if (::uname(&u) != 0) return 0;
  int major = 0, minor = 0;
  std::sscanf(u.release, "%d.%d", &major, &minor);
  return major * 100 + minor;
}

int SinceVersion(const char* since) {
  int major = 0, minor = 0;
  std::sscanf(since, "%d.%d", &major, &minor);
  return major * 100 + minor;
}

TEST(KernelFeaturesTest, EveryFeatureOnceWithItsKernel) {
  std::set<std::string> names;
  for (const KernelFeatureInfo& f : KernelFeatures()) {
    SCOPED_TRACE(f.name);
    EXPECT_TRUE(names.insert(f.name).second) << "listed twice";
    EXPECT_GT(SinceVersion(f.since), 500);
    EXPECT_NE(std::string(f.what), "");
  }
  EXPECT_EQ(names.size(), 14u);
}

// Privileged: every probe can answer. The kernel is at least each feature's
// "since" (mainline numbering; a distribution backport would only add yes).
TEST(KernelFeaturesTest, AKernelThatHasThemSaysYesAndNothingChanges) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string before = testing::TableText();
  const int here = KernelVersion();
  for (const KernelFeatureInfo& f : KernelFeatures()) {
    SCOPED_TRACE(f.name);
    EXPECT_NE(f.support, Support::kUnknown) << f.detail;
    if (SinceVersion(f.since) <= here) {
      EXPECT_EQ(f.support, Support::kYes) << f.detail;
    } else {
      EXPECT_EQ(f.support, Support::kNo) << f.detail;
    }
  }
  EXPECT_EQ(testing::TableText(), before) << "a probe changed the table";
}

}  // namespace
}  // namespace linx
