// errno → absl::Status, and the status macros Debian's Abseil 20220623 lacks.
//
//   if (::mount(...) != 0) {
//     int err = errno;  // capture on the very next line
//     return linx::ErrnoToStatus(err, "mount");
//   }
//   RETURN_IF_ERROR(DoSomething());
//   ASSIGN_OR_RETURN(std::vector<MountInfo> table, ReadMountInfo());
//
// ErrnoToStatusCode follows upstream Abseil's absl::ErrnoToStatusCode table
// (absl/status/status.cc, 2023+) so that code moves to upstream unchanged.
#ifndef LINX_BASE_STATUS_H_
#define LINX_BASE_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linx {

// The canonical status code for an errno value, as upstream Abseil maps it
// (EPERM → kPermissionDenied, ENOENT → kNotFound, EBUSY → kFailedPrecondition,
// ...). 0 maps to kOk; unknown values to kUnknown.
absl::StatusCode ErrnoToStatusCode(int errno_value);

// A status with ErrnoToStatusCode(errno_value) and the message
// "<message>: <strerror(errno_value)>".
absl::Status ErrnoToStatus(int errno_value, absl::string_view message);

// The symbolic name of an errno value ("EBUSY"), or "EUNKNOWN". Returns static
// storage and allocates nothing, so it is async-signal-safe.
const char* ErrnoName(int errno_value);

// "EBUSY (Device or resource busy)".
std::string ErrnoDescription(int errno_value);

}  // namespace linx

#define LINX_STATUS_CONCAT_INNER_(a, b) a##b
#define LINX_STATUS_CONCAT_(a, b) LINX_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                    \
  do {                                           \
    absl::Status linx_status_ = (expr);          \
    if (!linx_status_.ok()) return linx_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(T v, StatusOrExpr)`: declares/assigns `v` from the value,
// or returns the error status from the enclosing function.
#define ASSIGN_OR_RETURN(lhs, rexpr)                                         \
  LINX_ASSIGN_OR_RETURN_IMPL_(LINX_STATUS_CONCAT_(linx_statusor_, __LINE__), \
                              lhs, rexpr)
#define LINX_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr)  \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // LINX_BASE_STATUS_H_
