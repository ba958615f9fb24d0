// -----------------------------------------------------------------------------
// File: status_matchers.h
// -----------------------------------------------------------------------------
//
// gMock matchers for absl::Status and absl::StatusOr<T> (this Abseil has no absl/status/status_matchers.h):
//
//   EXPECT_THAT(client->Run({"PING"}), IsOk());
//   EXPECT_THAT(result, IsOkAndHolds(RedisValue::Integer(3)));
//   EXPECT_THAT(result, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("WRONGPASS")));
//
// Prefer StatusIs with the expected code over a bare "not OK".
//
// Thread safety: matchers are stateless.
#ifndef TRADEIN_TESTS_TESTING_STATUS_MATCHERS_H_
#define TRADEIN_TESTS_TESTING_STATUS_MATCHERS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace tradein::testing {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }

template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, negation ? "is not OK" : "is OK") {
  const absl::Status& status = GetStatus(arg);
  if (!status.ok()) *result_listener << "whose status is " << status;
  return status.ok();
}

MATCHER_P(IsOkAndHolds, value_matcher,
          "is OK and holds a value that " + ::testing::PrintToString(value_matcher)) {
  if (!arg.ok()) {
    *result_listener << "whose status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

MATCHER_P(StatusIs, code, "has status code " + absl::StatusCodeToString(code)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "whose status is " << status;
  return status.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + absl::StatusCodeToString(code) + " and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "whose status is " << status;
  return status.code() == code && ::testing::Matches(message_matcher)(std::string(status.message()));
}

}  // namespace tradein::testing

#endif  // TRADEIN_TESTS_TESTING_STATUS_MATCHERS_H_
