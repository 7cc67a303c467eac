// Harness self-test scenarios. They never run by default: the host runner
// asks for them with --fail-demo (//vmtest:harness_selftest) to prove that a
// failing and a hanging scenario come out as named failures.
#include <unistd.h>

#include "vmtest/guest/harness.h"

namespace linx::vmtest {
namespace {

LINX_VM_DEMO_SCENARIO(fail_demo, "always fails (harness self-test)", 10) {
  VM_EXPECT(1 + 1 == 3, "deliberate failure for the harness self-test");
  return absl::OkStatus();
}

LINX_VM_DEMO_SCENARIO(hang_demo, "hangs until the watchdog fires", 2) {
  while (true) ::pause();
}

}  // namespace
}  // namespace linx::vmtest
