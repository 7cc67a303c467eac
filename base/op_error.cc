#include "base/op_error.h"

#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status.h"

namespace linx {
namespace {

// One line per appended stage keeps merges clean.
// clang-format off
constexpr const char* kStageNames[] = {
    "none",  "mount", "umount",   "pivot_root", "open_ns",      "unshare",
    "setns", "chdir", "thread",   "create",     "open_pidns",   "setns_pid",
    "pipe",  "fork",  "bad_flag", "bad_in",     "bad_argument", "read",
    "resolve", "setns_user",
};
// clang-format on
constexpr int kStageCount = sizeof(kStageNames) / sizeof(kStageNames[0]);

}  // namespace

bool IsArgumentStage(Stage s) {
  return s == Stage::kBadFlag || s == Stage::kBadIn || s == Stage::kBadArgument;
}

const char* StageName(Stage stage) {
  int i = static_cast<int>(stage);
  return (i >= 0 && i < kStageCount) ? kStageNames[i] : "unknown";
}

std::optional<Stage> ParseStage(absl::string_view name) {
  for (int i = 0; i < kStageCount; ++i) {
    if (name == kStageNames[i]) return static_cast<Stage>(i);
  }
  return std::nullopt;
}

absl::Status MakeOpError(const OpError& error, absl::string_view message) {
  absl::StatusCode code = IsArgumentStage(error.stage)
                              ? absl::StatusCode::kInvalidArgument
                              : ErrnoToStatusCode(error.errno_value);
  if (code == absl::StatusCode::kOk) code = absl::StatusCode::kUnknown;
  absl::Status status(code, message);
  // Fields are NUL-separated: none of them can hold a NUL except `value`,
  // which goes last and is taken whole (the kernel's messages are C
  // strings).
  status.SetPayload(
      kOpErrorPayloadUrl,
      absl::Cord(absl::StrCat(error.operation, absl::string_view("\0", 1),
                              static_cast<int>(error.stage),
                              absl::string_view("\0", 1), error.errno_value,
                              absl::string_view("\0", 1), error.kernel_message,
                              absl::string_view("\0", 1), error.value)));
  return status;
}

std::optional<OpError> GetOpError(const absl::Status& status) {
  if (status.ok()) return std::nullopt;
  auto payload = status.GetPayload(kOpErrorPayloadUrl);
  if (!payload) return std::nullopt;
  std::string flat(*payload);
  std::vector<absl::string_view> parts =
      absl::StrSplit(flat, absl::MaxSplits('\0', 4));
  if (parts.size() != 5) return std::nullopt;
  OpError e;
  int stage = 0;
  if (!absl::SimpleAtoi(parts[1], &stage) ||
      !absl::SimpleAtoi(parts[2], &e.errno_value) || stage < 0 ||
      stage >= kStageCount) {
    return std::nullopt;
  }
  e.operation = std::string(parts[0]);
  e.stage = static_cast<Stage>(stage);
  e.kernel_message = std::string(parts[3]);
  e.value = std::string(parts[4]);
  return e;
}

absl::Status RewrapStatus(const absl::Status& status, absl::StatusCode code,
                          absl::string_view message) {
  absl::Status out(code, message);
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

absl::Status PrefixStatus(const absl::Status& status,
                          absl::string_view prefix) {
  if (status.ok()) return status;
  return RewrapStatus(status, status.code(),
                      absl::StrCat(prefix, status.message()));
}

absl::Status SuffixStatus(const absl::Status& status,
                          absl::string_view suffix) {
  if (status.ok()) return status;
  return RewrapStatus(status, status.code(),
                      absl::StrCat(status.message(), suffix));
}

absl::Status BadArgumentError(absl::string_view operation,
                              absl::string_view argument,
                              absl::string_view problem) {
  return MakeOpError(
      {std::string(operation), Stage::kBadArgument, 0, std::string(argument)},
      absl::StrCat(operation, ": ", argument, " ", problem));
}

std::string Quote(absl::string_view s) {
  return absl::StrCat("\"", absl::CEscape(s), "\"");
}

}  // namespace linx
