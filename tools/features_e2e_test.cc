// `linx features` as a user runs it: the table and the JSON name the same
// features as linx::KernelFeatures, with the same answers.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/testing/privileged.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mount/features.h"
#include "tools/linx_process.h"

namespace linx::tools {
namespace {

using ::testing::HasSubstr;

TEST(LinxFeaturesTest, TableAndJsonAgreeWithTheLibrary) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  LinxResult table = RunLinx({"features"});
  ASSERT_EQ(table.exit_code, 0) << table;
  LinxResult json = RunLinx({"features", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json;
  EXPECT_TRUE(absl::StartsWith(json.out, "{\"kernel\": \"")) << json.out;
  for (const KernelFeatureInfo& f : KernelFeatures()) {
    SCOPED_TRACE(f.name);
    const char* available = f.support == Support::kYes  ? "true"
                            : f.support == Support::kNo ? "false"
                                                        : "null";
    EXPECT_THAT(json.out, HasSubstr(absl::StrCat(
                              "{\"name\": \"", f.name, "\", \"since\": \"",
                              f.since, "\", \"available\": ", available)));
    EXPECT_THAT(table.out, HasSubstr(f.name));
  }
  LinxResult bad = RunLinx({"features", "--yaml"});
  EXPECT_EQ(bad.exit_code, 2) << bad;
}

}  // namespace
}  // namespace linx::tools
