#include "base/status.h"

#include <cerrno>

#include "base/op_error.h"
#include "base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linx {
namespace {

using ::linx::testing::ErrnoIs;
using ::linx::testing::StageIs;
using ::linx::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ErrnoToStatusCodeTest, FollowsUpstreamAbseilMapping) {
  struct Case {
    int err;
    absl::StatusCode code;
  } cases[] = {
      {0, absl::StatusCode::kOk},
      {EINVAL, absl::StatusCode::kInvalidArgument},
      {ENOENT, absl::StatusCode::kNotFound},
      {ESRCH, absl::StatusCode::kNotFound},
      {EEXIST, absl::StatusCode::kAlreadyExists},
      {EPERM, absl::StatusCode::kPermissionDenied},
      {EACCES, absl::StatusCode::kPermissionDenied},
      {EBUSY, absl::StatusCode::kFailedPrecondition},
      {ENOTDIR, absl::StatusCode::kFailedPrecondition},
      {ENOMEM, absl::StatusCode::kResourceExhausted},
      {ENOSYS, absl::StatusCode::kUnimplemented},
      {EAGAIN, absl::StatusCode::kUnavailable},
      {ERANGE, absl::StatusCode::kOutOfRange},
      {ETIMEDOUT, absl::StatusCode::kDeadlineExceeded},
      {ECANCELED, absl::StatusCode::kCancelled},
      {EDEADLK, absl::StatusCode::kAborted},
      {123456, absl::StatusCode::kUnknown},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.err);
    EXPECT_EQ(ErrnoToStatusCode(c.err), c.code);
  }
}

TEST(ErrnoToStatusTest, MessageNamesErrno) {
  absl::Status s = ErrnoToStatus(EBUSY, "umount2(\"/x\", 0)");
  EXPECT_THAT(s,
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "umount2(\"/x\", 0): EBUSY (Device or resource busy)"));
}

TEST(ErrnoNameTest, KnownAndUnknown) {
  EXPECT_STREQ(ErrnoName(EBUSY), "EBUSY");
  EXPECT_STREQ(ErrnoName(ENOENT), "ENOENT");
  EXPECT_STREQ(ErrnoName(99999), "EUNKNOWN");
  EXPECT_EQ(ErrnoDescription(99999), "E99999 (Unknown error)");
}

TEST(OpErrorTest, PayloadRoundTrips) {
  OpError e{"mount", Stage::kSetns, EPERM, ""};
  absl::Status s = MakeOpError(e, "mount(...): setns: EPERM");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(s, ErrnoIs(EPERM));
  EXPECT_THAT(s, StageIs(Stage::kSetns));
  std::optional<OpError> got = GetOpError(s);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->operation, "mount");
}

TEST(OpErrorTest, ArgumentStagesAreInvalidArgumentAndKeepValue) {
  std::string value("a\0b", 3);
  absl::Status s = MakeOpError({"bind", Stage::kBadFlag, 0, value}, "bad flag");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  std::optional<OpError> got = GetOpError(s);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->value, value);
  EXPECT_EQ(got->stage, Stage::kBadFlag);
}

TEST(OpErrorTest, NoPayloadOnPlainStatus) {
  EXPECT_FALSE(GetOpError(absl::OkStatus()).has_value());
  EXPECT_FALSE(GetOpError(absl::InternalError("x")).has_value());
}

TEST(OpErrorTest, PrefixKeepsCodeAndPayload) {
  absl::Status s = PrefixStatus(
      MakeOpError({"umount", Stage::kUmount, EBUSY, ""}, "EBUSY"), "umount2: ");
  EXPECT_THAT(
      s, StatusIs(absl::StatusCode::kFailedPrecondition, "umount2: EBUSY"));
  EXPECT_THAT(s, ErrnoIs(EBUSY));
}

TEST(StageNameTest, RoundTripsEveryStage) {
  for (int i = 0; i <= static_cast<int>(Stage::kRead); ++i) {
    Stage s = static_cast<Stage>(i);
    std::optional<Stage> back = ParseStage(StageName(s));
    ASSERT_TRUE(back.has_value()) << StageName(s);
    EXPECT_EQ(*back, s);
  }
  EXPECT_STREQ(StageName(Stage::kOpenPidns), "open_pidns");
  EXPECT_STREQ(StageName(Stage::kSetnsPid), "setns_pid");
  EXPECT_FALSE(ParseStage("nope").has_value());
}

absl::StatusOr<int> Half(int x) {
  if (x % 2) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::Status UseMacros(int x, int* out) {
  ASSIGN_OR_RETURN(int h, Half(x));
  RETURN_IF_ERROR(h > 10 ? absl::OutOfRangeError("big") : absl::OkStatus());
  *out = h;
  return absl::OkStatus();
}

TEST(StatusMacrosTest, PropagateAndAssign) {
  int out = 0;
  EXPECT_OK(UseMacros(8, &out));
  EXPECT_EQ(out, 4);
  EXPECT_THAT(UseMacros(3, &out), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(UseMacros(40, &out), StatusIs(absl::StatusCode::kOutOfRange));
}

}  // namespace
}  // namespace linx
