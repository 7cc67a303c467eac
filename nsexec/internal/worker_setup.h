// Package-private: the worker set-up shared by RunIn, RunInForked and
// linx::Worker, so every nsexec thread enters its namespace the same way and
// reports the same stages.
#ifndef LINX_NSEXEC_INTERNAL_WORKER_SETUP_H_
#define LINX_NSEXEC_INTERNAL_WORKER_SETUP_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "base/op_error.h"
#include "nsexec/nsexec.h"

namespace linx::nsexec_internal {

// Steps 0-2 of the threading model, run on the new thread itself: blocks
// every async signal, unshare(CLONE_FS), setns(CLONE_NEWNS) unless `h` is
// null (Namespace::Self()). Returns {kUnshare|kSetns, errno} or {}.
StageErrno EnterMountNamespace(const Namespace::Handle* h);

// "<stage>: <ERRNO> (<description>)" with an OpError payload
// {operation, stage, err}: the message every nsexec stage error has.
absl::Status StageError(absl::string_view operation, Stage stage, int err);

}  // namespace linx::nsexec_internal

#endif  // LINX_NSEXEC_INTERNAL_WORKER_SETUP_H_
