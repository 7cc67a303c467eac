// render: the last step of the verb pipeline. Writes a plan's calls out the
// way they were made (flags by name, NULL for empty strings) and builds the
// errors every verb returns:
//   <call>[ in <namespace>]: <stage>: <ERRNO> (<description>)[: <hint>]
// Private to mount/.
#ifndef LINX_MOUNT_INTERNAL_RENDER_H_
#define LINX_MOUNT_INTERNAL_RENDER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "base/op_error.h"
#include "mount/internal/plan.h"

namespace linx::mount_internal {

// `s` quoted, or NULL when empty (mount(2) gets NULL for "").
std::string QuoteOrNull(absl::string_view s);

// mount("src", "/t", "tmpfs", MS_NOSUID|MS_NODEV, "size=1m")
std::string MountCall(absl::string_view source, absl::string_view target,
                      absl::string_view fstype, unsigned long flags,
                      absl::string_view data);

// The call a plan is about: what the message names when a failure happens
// before (setns, create) or around (the forked path) its syscalls.
std::string PrimaryCall(const Plan& plan);

// Every call `plan` makes, in order, as in messages (PlanCalls).
std::vector<std::string> DescribeCalls(const Plan& plan);

// The error of `call`, made for `plan`, failing at `stage` with `err`; the
// kernel's own words (fs_context log), when it gave any, end the message
// and fill OpError::kernel_message.
absl::Status CallError(const Plan& plan, absl::string_view call, Stage stage,
                       int err, absl::string_view hint = "",
                       absl::string_view kernel_message = "");

// The hint for an errno of a plan's main call where the errno alone
// misleads (move EINVAL, mount ENODEV), or "".
std::string MainCallHint(const Plan& plan, int err);

}  // namespace linx::mount_internal

#endif  // LINX_MOUNT_INTERNAL_RENDER_H_
