// Support for privileged tests: a private mount namespace with a scratch
// tmpfs, entered once at process start, and a skip macro with a reason.
//
// Skips and CI: a check that needs no privilege never skips. A privileged
// check skips with its reason when the capability is missing, except when
// the environment variable LINX_REQUIRE_PRIVILEGED=1 is set (`.ci/run` sets
// it through --test_env): then LINX_SKIP_UNLESS_PRIVILEGED() and
// LINX_SKIP_OR_FAIL() fail the test instead, and privileged_test_main exits
// non-zero if any test skipped at all. Shell, C and Python tests follow the
// same rule through the same variable.
//
// Link a test with //base/testing:privileged_test_main instead of
// @com_google_googletest//:gtest_main. Before any test runs (and before any
// thread exists) that main:
//   1. checks CAP_SYS_ADMIN in the effective set (capget(2), not euid);
//   2. unshare(CLONE_NEWNS), then makes "/" MS_REC|MS_PRIVATE so nothing
//      propagates back to the host;
//   3. mounts a fresh tmpfs at a scratch directory ($TEST_TMPDIR, else a new
//      directory under /tmp) so every directory a test makes lives on it.
// The namespace dies with the test process, taking every mount with it; the
// host's own mount table is never touched.
//
//   TEST(UmountTest, NotAMountPointFailsWithEinval) {
//     LINX_SKIP_UNLESS_PRIVILEGED();
//     std::string dir = linx::testing::MakeScratchDir("x");
//     ...
//   }
#ifndef LINX_BASE_TESTING_PRIVILEGED_H_
#define LINX_BASE_TESTING_PRIVILEGED_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace linx::testing {

// True when `cap` (e.g. CAP_SYS_ADMIN) is in this thread's effective set.
bool HasCapability(int cap);

// Enters a private mount namespace with a scratch tmpfs as described above.
// Call once, single-threaded. On success Privileged() is true and
// ScratchRoot() names the tmpfs.
absl::Status EnterPrivateMountSandbox();

// True when LINX_REQUIRE_PRIVILEGED=1 is in the environment: a skip is then
// a failure.
bool RequirePrivileged();

// Whether EnterPrivateMountSandbox succeeded, and why not otherwise.
bool Privileged();
const std::string& PrivilegeSkipReason();

// The scratch tmpfs root ("" when not privileged).
const std::string& ScratchRoot();

// Creates a fresh, uniquely named directory under ScratchRoot() (or under
// $TEST_TMPDIR when unprivileged) and returns its path. `hint` is part of
// the name.
std::string MakeScratchDir(absl::string_view hint);

// mkdir(parent/name, 0755) with a test failure if that fails; returns the
// path either way.
std::string MakeSubdir(const std::string& parent, const std::string& name);

// Mounts made with Mount() are detached (umount2 MNT_DETACH) in reverse
// order at scope exit, so a failing test leaves none behind. Remounts and
// propagation changes make no new mount and are not recorded.
class ScopedMounts {
 public:
  ScopedMounts() = default;
  ScopedMounts(const ScopedMounts&) = delete;
  ScopedMounts& operator=(const ScopedMounts&) = delete;
  ~ScopedMounts();
  // mount(2) ("" source → NULL), asserting success.
  void Mount(const std::string& src, const std::string& dst, const char* fs,
             unsigned long flags = 0, const char* data = nullptr);

 private:
  std::vector<std::string> paths_;
};

}  // namespace linx::testing

// Skips the current test with `reason` (a streamable expression), or fails
// it when RequirePrivileged(). Use for anything the machine may lack (a
// capability, a kernel feature); CI's machine lacks none of them.
#define LINX_SKIP_OR_FAIL(reason)                                           \
  do {                                                                      \
    if (::linx::testing::RequirePrivileged()) {                             \
      GTEST_FAIL() << "LINX_REQUIRE_PRIVILEGED=1, cannot skip: " << reason; \
    }                                                                       \
    GTEST_SKIP() << reason;                                                 \
  } while (0)

#define LINX_SKIP_UNLESS_PRIVILEGED()                               \
  do {                                                              \
    if (!::linx::testing::Privileged()) {                           \
      LINX_SKIP_OR_FAIL("needs a private mount namespace: "         \
                        << ::linx::testing::PrivilegeSkipReason()); \
    }                                                               \
  } while (0)

#endif  // LINX_BASE_TESTING_PRIVILEGED_H_
