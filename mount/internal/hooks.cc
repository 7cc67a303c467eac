#include "mount/internal/hooks.h"

#include <atomic>

namespace linx::mount_internal {
namespace {
std::atomic<bool> g_force_walk{false};
std::atomic<bool> g_force_classic{false};
}  // namespace

void SetForceSubmountWalk(bool force) { g_force_walk.store(force); }
void SetForceClassicCalls(bool force) { g_force_classic.store(force); }
bool ForceClassicCalls() { return g_force_classic.load(); }
bool ForceSubmountWalk() { return g_force_walk.load(); }

}  // namespace linx::mount_internal
