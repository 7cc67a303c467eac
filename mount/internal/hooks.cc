#include "mount/internal/hooks.h"

#include <atomic>

namespace linx::mount_internal {
namespace {
std::atomic<bool> g_force_walk{false};
}  // namespace

void SetForceSubmountWalk(bool force) { g_force_walk.store(force); }
bool ForceSubmountWalk() { return g_force_walk.load(); }

}  // namespace linx::mount_internal
