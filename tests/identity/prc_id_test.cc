#include "services/identity/prc_id.h"

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tradein::identity {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;

const absl::CivilDay kToday(2025, 3, 1);

// An independent ISO 7064 MOD 11-2: weight 2^(17-i) mod 11, check value (12 - sum mod 11) mod 11, 10 → X.
std::string WithCheck(absl::string_view body) {
  int sum = 0;
  int weight = 1;  // 2^0 for the last body character
  for (size_t i = body.size(); i-- > 0;) {
    weight = weight * 2 % 11;
    sum += (body[i] - '0') * weight;
  }
  const int check = (12 - sum % 11) % 11;
  return absl::StrCat(body, check == 10 ? "X" : std::to_string(check));
}

// The same id with its last character replaced by the next wrong check character.
std::string WithWrongCheck(absl::string_view body) {
  const std::string id = WithCheck(body);
  const char wrong = id.back() == '9' ? 'X' : id.back() == 'X' ? '0' : static_cast<char>(id.back() + 1);
  return absl::StrCat(body, std::string(1, wrong));
}

TEST(WithCheckTest, MatchesThePublishedExample) {
  EXPECT_EQ(WithCheck("11010519491231002"), "11010519491231002X");
}

TEST(NormalizePrcIdTest, AcceptsValidIds) {
  const struct {
    std::string id;
    std::string want;
  } cases[] = {
      {"11010519491231002X", "11010519491231002X"},  // GB 11643-1999's own example
      {"11010519491231002x", "11010519491231002X"},  // lowercase x is normalised
      {WithCheck("44030819990101123"), WithCheck("44030819990101123")},
      {WithCheck("65010219801010003"), WithCheck("65010219801010003")},
      {WithCheck("82000019800101001"), WithCheck("82000019800101001")},  // Macao: the highest province code
      {WithCheck("11010520000229001"), WithCheck("11010520000229001")},  // Feb 29 of a leap century
      {WithCheck("11010520240229001"), WithCheck("11010520240229001")},  // Feb 29 of a leap year
      {WithCheck("11010519000101001"), WithCheck("11010519000101001")},  // the earliest birth date
      {WithCheck("11010520250301001"), WithCheck("11010520250301001")},  // born today
  };
  for (const auto& c : cases) {
    const absl::StatusOr<std::string> got = NormalizePrcId(c.id, kToday);
    ASSERT_TRUE(got.ok()) << c.id << ": " << got.status();
    EXPECT_EQ(*got, c.want);
  }
}

struct Refused {
  std::string id;
  std::string reason;
  std::string why;
};

std::vector<Refused> RefusedIds() {
  return {
      {"", "ID_NUMBER_LENGTH", "empty"},
      {"11010519491231002", "ID_NUMBER_LENGTH", "17 characters"},
      {"11010519491231002X0", "ID_NUMBER_LENGTH", "19 characters"},
      {" 11010519491231002X", "ID_NUMBER_LENGTH", "leading space"},
      {"11010519491231002X\n", "ID_NUMBER_LENGTH", "trailing newline"},
      {"110105194912310027", "ID_NUMBER_CHECK_DIGIT", "check character 7 instead of X"},
      {" 1010519491231002X", "ID_NUMBER_FORMAT", "space in place of a digit"},
      {"11010519491231002Y", "ID_NUMBER_FORMAT", "check character Y"},
      {"1101051949123100X2", "ID_NUMBER_FORMAT", "X before the end"},
      {"11010519491231002\xef", "ID_NUMBER_FORMAT", "non-ASCII byte"},
      {"１1010519491231002X", "ID_NUMBER_LENGTH", "full-width digit (3 bytes in UTF-8)"},
      {WithCheck("00000019491231002"), "ID_NUMBER_REGION", "all-zero region"},
      {WithCheck("10010519491231002"), "ID_NUMBER_REGION", "province 10"},
      {WithCheck("19010519491231002"), "ID_NUMBER_REGION", "province 19 does not exist"},
      {WithCheck("83000019800101001"), "ID_NUMBER_REGION", "province 83 is above the range"},
      {WithCheck("99010519491231002"), "ID_NUMBER_REGION", "province 99"},
      {WithCheck("11010520250229001"), "ID_NUMBER_BIRTH_DATE", "Feb 29 of a common year"},
      {WithCheck("11010519000229001"), "ID_NUMBER_BIRTH_DATE", "1900 is not a leap year"},
      {WithCheck("11010518991231001"), "ID_NUMBER_BIRTH_DATE", "before 1900"},
      {WithCheck("11010520250302001"), "ID_NUMBER_BIRTH_DATE", "tomorrow"},
      {WithCheck("11010530000101001"), "ID_NUMBER_BIRTH_DATE", "far future"},
      {WithCheck("11010519491331002"), "ID_NUMBER_BIRTH_DATE", "month 13"},
      {WithCheck("11010519490001002"), "ID_NUMBER_BIRTH_DATE", "month 0"},
      {WithCheck("11010519490100002"), "ID_NUMBER_BIRTH_DATE", "day 0"},
      {WithCheck("11010519490431002"), "ID_NUMBER_BIRTH_DATE", "April 31"},
      {WithWrongCheck("44030819990101123"), "ID_NUMBER_CHECK_DIGIT", "wrong check digit"},
      {WithWrongCheck("11010519491231002"), "ID_NUMBER_CHECK_DIGIT", "digit where X is due"},
      {"11010519491231012X", "ID_NUMBER_CHECK_DIGIT", "one sequence digit changed"},
      {"11010519491213002X", "ID_NUMBER_CHECK_DIGIT", "two digits transposed"},
  };
}

TEST(NormalizePrcIdTest, RefusesWithReason) {
  for (const Refused& c : RefusedIds()) {
    SCOPED_TRACE(c.why);
    const absl::StatusOr<std::string> got = NormalizePrcId(c.id, kToday);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ErrorReason(got.status()), c.reason);
    EXPECT_THAT(FieldViolations(got.status()),
                ElementsAre(AllOf(Field(&FieldViolation::field, "buyer.idNumber"),
                                  Field(&FieldViolation::reason, c.reason))));
  }
}

TEST(NormalizePrcIdTest, NamesTheCallersField) {
  const absl::StatusOr<std::string> got = NormalizePrcId("123", kToday, "claims[3].buyer.idNumber");
  EXPECT_THAT(FieldViolations(got.status()),
              ElementsAre(Field(&FieldViolation::field, "claims[3].buyer.idNumber")));
}

TEST(NormalizePrcIdTest, BirthDateBoundIsTheGivenDay) {
  const std::string id = WithCheck("11010520250302001");  // born 2025-03-02
  EXPECT_FALSE(NormalizePrcId(id, absl::CivilDay(2025, 3, 1)).ok());
  EXPECT_TRUE(NormalizePrcId(id, absl::CivilDay(2025, 3, 2)).ok());
}

// Everything a client or a log could see of a status: its message and every payload.
std::string Visible(const absl::Status& status) {
  std::string out(status.message());
  status.ForEachPayload([&out](absl::string_view type_url, const absl::Cord& payload) {
    absl::StrAppend(&out, "\n", type_url, "\n", std::string(payload));
  });
  return out;
}

TEST(NormalizePrcIdTest, ErrorsNeverRepeatTheId) {
  std::map<std::string, std::string> message_by_reason;
  for (const Refused& c : RefusedIds()) {
    SCOPED_TRACE(c.why);
    const absl::Status status = NormalizePrcId(c.id, kToday).status();
    const std::string visible = Visible(status);
    // No run of 6 characters of the input (a region, a birth year and month, ...) shows up anywhere.
    for (size_t i = 0; i + 6 <= c.id.size(); ++i) {
      EXPECT_EQ(visible.find(c.id.substr(i, 6)), std::string::npos) << "at " << i << " in: " << visible;
    }
    // The message depends on the reason only, so it cannot carry any part of the input.
    const auto [it, inserted] = message_by_reason.emplace(c.reason, std::string(status.message()));
    if (!inserted) {
      EXPECT_EQ(status.message(), it->second);
    }
  }
  EXPECT_EQ(message_by_reason.size(), 5u);  // every reason was seen
}

}  // namespace
}  // namespace tradein::identity
