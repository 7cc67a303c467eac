// gtest main for privileged tests: enters a private mount namespace with a
// scratch tmpfs before any test (and any thread) starts. See privileged.h.
#include <cstdio>
#include <string>

#include "base/testing/privileged.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleMock(&argc, argv);
  absl::Status s = linx::testing::EnterPrivateMountSandbox();
  const bool require = linx::testing::RequirePrivileged();
  if (!s.ok()) {
    std::fprintf(stderr, "linx: privileged tests will %s: %s\n",
                 require ? "FAIL (LINX_REQUIRE_PRIVILEGED=1)" : "be SKIPPED",
                 linx::testing::PrivilegeSkipReason().c_str());
  } else {
    std::fprintf(stderr, "linx: private mount namespace, scratch tmpfs at %s\n",
                 linx::testing::ScratchRoot().c_str());
  }
  int rc = RUN_ALL_TESTS();
  // A GTEST_SKIP anywhere (a kernel-feature probe, not only the privilege
  // macro) fails the run when CI requires every check to run.
  const int skipped = ::testing::UnitTest::GetInstance()->skipped_test_count();
  if (require && skipped > 0) {
    std::fprintf(stderr,
                 "linx: %d test(s) skipped under LINX_REQUIRE_PRIVILEGED=1\n",
                 skipped);
    if (rc == 0) rc = 1;
  }
  return rc;
}
