// The pieces of linx apply that mount/oci.cc (translation) and
// mount/oci_apply.cc (application) share: how a step is named in messages
// and how its calls are written out. Private to mount/.
#ifndef LINX_MOUNT_INTERNAL_OCI_STEPS_H_
#define LINX_MOUNT_INTERNAL_OCI_STEPS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "mount/command.h"
#include "mount/oci.h"

namespace linx::oci_internal {

// "entry 3 ("/dev/shm")", or for a path entry
// "entry 12 (maskedPaths[1] "/proc/kcore")".
std::string StepName(const OciStep& step);

// `path` (absolute or not) joined under `root` ("/" joins nothing).
std::string Joined(const std::string& root, const std::string& path);

// The calls one command makes, written out by the executor's own planner,
// with the destination joined to the root, each line prefixed with
// `prefix`, appended to *calls.
void RenderCommand(Command c, const std::string& root_dir,
                   absl::string_view prefix, std::vector<std::string>* calls);

// The calls an entry makes (a maskedPaths entry: both forms).
std::vector<std::string> RenderCalls(const OciStep& step,
                                     const std::string& root_dir);

}  // namespace linx::oci_internal

#endif  // LINX_MOUNT_INTERNAL_OCI_STEPS_H_
