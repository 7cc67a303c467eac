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
  if (!s.ok()) {
    std::fprintf(stderr, "linx: privileged tests will be SKIPPED: %s\n",
                 linx::testing::PrivilegeSkipReason().c_str());
  } else {
    std::fprintf(stderr, "linx: private mount namespace, scratch tmpfs at %s\n",
                 linx::testing::ScratchRoot().c_str());
  }
  return RUN_ALL_TESTS();
}
