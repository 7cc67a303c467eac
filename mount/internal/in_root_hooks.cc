#include "mount/internal/in_root_hooks.h"

#include <atomic>

namespace linx::mount_internal {
namespace {
std::atomic<bool> g_force_no_openat2{false};
}  // namespace

void SetForceNoOpenat2(bool force) { g_force_no_openat2.store(force); }
bool ForceNoOpenat2() { return g_force_no_openat2.load(); }

}  // namespace linx::mount_internal
