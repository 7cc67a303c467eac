// features: which of the kernel's mount features this machine offers, probed
// without side effects (no mount is attached, nothing is written).
//
//   for (const linx::KernelFeatureInfo& f : linx::KernelFeatures()) {
//     printf("%s %s\n", f.name, linx::SupportName(f.support));
//   }
//   // fsopen yes / move_mount_beneath yes / ...
//
// Each probe is one or two syscalls made with arguments that cannot change
// anything: invalid fds (the kernel checks flags before fds, so an unknown
// flag answers EINVAL and a known one EBADF), a detached fs_context or
// mount that is closed again, open_tree without OPEN_TREE_CLONE. A probe
// that needs a capability the caller lacks (fsopen, fanotify) answers
// kUnknown rather than guessing. Thread-safe; probes run on every call
// (a few µs in all).
#ifndef LINX_MOUNT_FEATURES_H_
#define LINX_MOUNT_FEATURES_H_

#include <string>
#include <vector>

namespace linx {

enum class Support { kNo, kYes, kUnknown };

// "no", "yes", "unknown".
const char* SupportName(Support support);

struct KernelFeatureInfo {
  const char* name;   // "fsopen", "open_tree", ... (stable; the CLI's keys)
  const char* since;  // the first mainline kernel with it, "5.2"
  const char* what;   // one line for people
  Support support = Support::kUnknown;
  std::string detail;  // why kUnknown / kNo ("fsopen: EPERM"), or ""
};

// In this order: fsopen, fs_context_messages, open_tree, move_mount,
// mount_setattr, idmapped_mounts, nosymfollow, openat2, pidfd_setns,
// move_mount_beneath, overlay_lowerdir_plus, statmount, listmount,
// fanotify_mount_events.
std::vector<KernelFeatureInfo> KernelFeatures();

}  // namespace linx

#endif  // LINX_MOUNT_FEATURES_H_
