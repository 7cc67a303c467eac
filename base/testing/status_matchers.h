// gMock matchers for absl::Status / absl::StatusOr and linx's OpError payload
// (Debian's Abseil 20220623 ships no status matchers). Test-only.
//
//   EXPECT_THAT(Umount(dir), StatusIs(absl::StatusCode::kInvalidArgument));
//   EXPECT_THAT(Umount(dir), ErrnoIs(EINVAL));
//   EXPECT_THAT(Mount(...), StageIs(linx::Stage::kSetns));
//   ASSERT_OK_AND_ASSIGN(auto table, ReadMountInfo());
#ifndef LINX_BASE_TESTING_STATUS_MATCHERS_H_
#define LINX_BASE_TESTING_STATUS_MATCHERS_H_

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/op_error.h"
#include "base/status.h"
#include "gmock/gmock.h"

namespace linx::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status: " << s;
  return s.ok();
}

MATCHER_P(StatusIs, code,
          "has code " +
              absl::StatusCodeToString(static_cast<absl::StatusCode>(code))) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status: " << s;
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher, "has code and message") {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status: " << s;
  return s.code() == code &&
         ::testing::Matches(message_matcher)(std::string(s.message()));
}

// The OpError payload carries this errno.
MATCHER_P(ErrnoIs, errno_value,
          std::string("fails with ") + ::linx::ErrnoName(errno_value)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status: " << s;
  std::optional<OpError> e = GetOpError(s);
  return e.has_value() && e->errno_value == errno_value;
}

// The OpError payload names this stage.
MATCHER_P(StageIs, stage,
          std::string("fails at stage ") + ::linx::StageName(stage)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status: " << s;
  std::optional<OpError> e = GetOpError(s);
  return e.has_value() && e->stage == stage;
}

}  // namespace linx::testing

#define LINX_TESTING_CONCAT_INNER_(a, b) a##b
#define LINX_TESTING_CONCAT_(a, b) LINX_TESTING_CONCAT_INNER_(a, b)

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::linx::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::linx::testing::IsOk())

#define ASSERT_OK_AND_ASSIGN(lhs, rexpr)                                     \
  ASSERT_OK_AND_ASSIGN_IMPL_(LINX_TESTING_CONCAT_(linx_sor_, __LINE__), lhs, \
                             rexpr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                               \
  ASSERT_TRUE(statusor.ok()) << statusor.status();       \
  lhs = std::move(statusor).value()

#endif  // LINX_BASE_TESTING_STATUS_MATCHERS_H_
