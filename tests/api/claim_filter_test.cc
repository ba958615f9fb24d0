// The portal's claim filters and the page tokens bound to their query (issue 12, item 5): what each filter
// lets through, how each bad field is named, and a token refused for another query.
#include "services/api/claim_filter.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/civil_date.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

namespace tradein::api {
namespace {

const identity::KeyedHasher& Hasher() {
  static const auto* hasher =
      new identity::KeyedHasher(identity::KeyedHasher::ForTesting("0123456789abcdef0123456789abcdef"));
  return *hasher;
}

constexpr const char* kClaimId = "0123abcd-abcdefghijklmnopqrst";  // a tag and a base32 suffix

struct Sample {
  quota::ClaimRecord record;
  v1::Claim view;
};

// A claim of Rui'an (330381) made 2025-06-01 10:00 China time, confirmed at 10:05 with one phone.
Sample Confirmed() {
  Sample sample;
  sample.record.claim_id = "c-1";
  sample.record.state = quota::ClaimState::kConfirmed;
  sample.record.created_at = StartOfChinaDay(absl::CivilDay(2025, 6, 1)) + absl::Hours(10);
  sample.record.updated_at = sample.record.created_at + absl::Minutes(5);
  sample.view.set_region_code("330381");
  sample.view.set_invoice_number("INV-1");
  v1::ItemResult* item = sample.view.add_items();
  item->set_product_type("digital.phone");
  item->add_serial_numbers("861234567890123");
  return sample;
}

bool Matches(const v1::ClaimFilter& filter, const Sample& sample) {
  absl::StatusOr<ClaimMatcher> matcher = ClaimMatcher::Create(filter);
  EXPECT_TRUE(matcher.ok()) << matcher.status();
  return matcher.ok() && matcher->Matches(sample.record, sample.view);
}

v1::ClaimFilter Region(const std::string& code) {
  v1::ClaimFilter filter;
  filter.set_region_code(code);
  return filter;
}

TEST(ClaimMatcherTest, NoFilterMatchesEverything) {
  absl::StatusOr<ClaimMatcher> matcher = ClaimMatcher::Create(v1::ClaimFilter());
  ASSERT_TRUE(matcher.ok());
  EXPECT_FALSE(matcher->filters());
  EXPECT_TRUE(matcher->Matches(Confirmed().record, Confirmed().view));
}

TEST(ClaimMatcherTest, RegionCoversItselfItsPrefectureAndProvinceOnly) {
  const Sample sample = Confirmed();
  EXPECT_TRUE(Matches(Region("330381"), sample));
  EXPECT_TRUE(Matches(Region("330300"), sample));   // Wenzhou covers Rui'an
  EXPECT_TRUE(Matches(Region("330000"), sample));   // Zhejiang
  EXPECT_FALSE(Matches(Region("330302"), sample));  // another county of Wenzhou
  EXPECT_FALSE(Matches(Region("330100"), sample));  // Hangzhou
  EXPECT_FALSE(Matches(Region("320000"), sample));  // Jiangsu
}

TEST(ClaimMatcherTest, ProductTypeMatchesAnyLine) {
  v1::ClaimFilter filter;
  filter.add_product_types("appliance.refrigerator");
  EXPECT_FALSE(Matches(filter, Confirmed()));
  filter.add_product_types("digital.phone");
  EXPECT_TRUE(Matches(filter, Confirmed()));
  absl::StatusOr<ClaimMatcher> matcher = ClaimMatcher::Create(filter);
  ASSERT_TRUE(matcher.ok());
  EXPECT_TRUE(matcher->CountsProductType("digital.phone"));
  EXPECT_FALSE(matcher->CountsProductType("appliance.television"));
}

TEST(ClaimMatcherTest, InvoiceAndSerialMatchExactly) {
  v1::ClaimFilter filter;
  filter.set_invoice_number("INV-1");
  EXPECT_TRUE(Matches(filter, Confirmed()));
  filter.set_invoice_number("INV-2");
  EXPECT_FALSE(Matches(filter, Confirmed()));
  filter.clear_invoice_number();
  filter.set_serial_number("861234567890123");
  EXPECT_TRUE(Matches(filter, Confirmed()));
  filter.set_serial_number("86123456789012");
  EXPECT_FALSE(Matches(filter, Confirmed()));
}

TEST(ClaimMatcherTest, ConfirmationDaysCountConfirmedClaimsOnly) {
  v1::ClaimFilter filter;
  filter.set_confirmed_from_date("2025-06-01");
  filter.set_confirmed_to_date("2025-06-01");
  Sample sample = Confirmed();
  EXPECT_TRUE(Matches(filter, sample));
  filter.set_confirmed_from_date("2025-06-02");
  filter.set_confirmed_to_date("");
  EXPECT_FALSE(Matches(filter, sample));
  // Confirmed just after midnight: that day, not the day it was made.
  sample.record.updated_at = StartOfChinaDay(absl::CivilDay(2025, 6, 2)) + absl::Minutes(1);
  EXPECT_TRUE(Matches(filter, sample));
  sample.record.state = quota::ClaimState::kReserved;
  EXPECT_FALSE(Matches(filter, sample));  // never confirmed
}

// The confirmation keeps its time (the view's confirmedAt): a claim made before midnight, confirmed after it,
// then refunded and its invoice fixed days later, is still dated by its confirmation.
TEST(ClaimMatcherTest, TheConfirmationsOwnTimeDatesAClaimChangedSince) {
  Sample sample = Confirmed();
  sample.record.created_at = StartOfChinaDay(absl::CivilDay(2025, 6, 1)) + absl::Hours(23) + absl::Minutes(50);
  *sample.view.mutable_confirmed_at() = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      absl::ToUnixNanos(StartOfChinaDay(absl::CivilDay(2025, 6, 2)) + absl::Minutes(5)));
  sample.record.state = quota::ClaimState::kPartiallyRefunded;
  sample.record.updated_at = StartOfChinaDay(absl::CivilDay(2025, 6, 9));
  v1::ClaimFilter filter;
  filter.set_confirmed_from_date("2025-06-02");
  filter.set_confirmed_to_date("2025-06-02");
  EXPECT_TRUE(Matches(filter, sample));
  filter.set_confirmed_from_date("2025-06-01");
  filter.set_confirmed_to_date("2025-06-01");
  EXPECT_FALSE(Matches(filter, sample));  // the day it was made, which a record without the time would use
  sample.view.clear_confirmed_at();       // confirmed by an instance older than 2026-12
  EXPECT_TRUE(Matches(filter, sample));
}

TEST(ClaimMatcherTest, EachBadFieldIsNamed) {
  v1::ClaimFilter filter;
  filter.set_region_code("3303");
  filter.add_product_types("Phone!");
  filter.set_confirmed_from_date("2025-02-30");
  filter.set_invoice_number(std::string(65, 'x'));
  const absl::Status status = ClaimMatcher::Create(filter).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("filter.regionCode: REGION_CODE_INVALID"), absl::string_view::npos)
      << status;
  EXPECT_NE(status.message().find("filter.productTypes[0]: ID_INVALID"), absl::string_view::npos);
  EXPECT_NE(status.message().find("filter.confirmedFromDate: DATE_INVALID"), absl::string_view::npos);
  EXPECT_NE(status.message().find("filter.invoiceNumber: FIELD_TOO_LONG"), absl::string_view::npos);
  v1::ClaimFilter reversed;
  reversed.set_confirmed_from_date("2025-06-02");
  reversed.set_confirmed_to_date("2025-06-01");
  EXPECT_NE(ClaimMatcher::Create(reversed).status().message().find("filter.confirmedToDate: PERIOD_INVALID"),
            absl::string_view::npos);
}

TEST(ValidateStatesTest, RefusesUnspecifiedAndUnknownStates) {
  v1::ListClaimsRequest request;
  request.add_states(v1::Claim::CONFIRMED);
  EXPECT_TRUE(ValidateStates(request.states(), "states").ok());
  request.add_states(static_cast<v1::Claim::State>(42));
  const absl::Status status = ValidateStates(request.states(), "states");
  EXPECT_NE(status.message().find("states[1]: STATE_INVALID"), absl::string_view::npos) << status;
  request.set_states(0, v1::Claim::STATE_UNSPECIFIED);
  EXPECT_NE(ValidateStates(request.states(), "states").message().find("states[0]: STATE_INVALID"),
            absl::string_view::npos);
}

v1::ListClaimsRequest June() {
  v1::ListClaimsRequest request;
  request.set_from_date("2025-06-01");
  request.set_to_date("2025-06-30");
  return request;
}

TEST(QueryDigestTest, SameQueryInAnotherOrderHasTheSameDigest) {
  v1::ListClaimsRequest a = June();
  a.add_states(v1::Claim::CONFIRMED);
  a.add_states(v1::Claim::REFUNDED);
  a.mutable_filter()->add_product_types("digital.phone");
  a.mutable_filter()->add_product_types("appliance.television");
  v1::ListClaimsRequest b = June();
  b.add_states(v1::Claim::REFUNDED);
  b.add_states(v1::Claim::CONFIRMED);
  b.mutable_filter()->add_product_types("appliance.television");
  b.mutable_filter()->add_product_types("digital.phone");
  EXPECT_EQ(QueryDigest(a, "list-query", Hasher()), QueryDigest(b, "list-query", Hasher()));
  v1::ListClaimsRequest c = June();
  c.set_to_date("2025-07-31");
  v1::ListClaimsRequest d = June();
  EXPECT_NE(QueryDigest(c, "list-query", Hasher()), QueryDigest(d, "list-query", Hasher()));
  EXPECT_EQ(QueryDigest(d, "list-query", Hasher()).size(), 16u);
}

TEST(CursorOfTokenTest, TokenIsBoundToItsQuery) {
  const std::string cursor = quota::EncodeClaimCursor(
      quota::PositionOf(StartOfChinaDay(absl::CivilDay(2025, 6, 1)) + absl::Hours(1), kClaimId));
  const std::string token = BoundToken(cursor, "0123456789abcdef");
  absl::StatusOr<std::string> same = CursorOfToken(token, "0123456789abcdef", false, "pageToken");
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(*same, cursor);
  const absl::Status other = CursorOfToken(token, "fedcba9876543210", true, "pageToken").status();
  EXPECT_EQ(other.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(other.message().find("pageToken: TOKEN_QUERY_MISMATCH"), absl::string_view::npos) << other;
  EXPECT_NE(CursorOfToken("c2.garbage", "0123456789abcdef", false, "pageToken")
                .status()
                .message()
                .find("pageToken: TOKEN_INVALID"),
            absl::string_view::npos);
  EXPECT_TRUE(CursorOfToken("", "x", false, "pageToken")->empty());
}

TEST(CursorOfTokenTest, EarlierTokensOnlyForQueriesThatVersionCouldAsk) {
  const std::string cursor = quota::EncodeClaimCursor(
      quota::PositionOf(StartOfChinaDay(absl::CivilDay(2025, 6, 1)) + absl::Hours(1), kClaimId));
  const std::string legacy = absl::StrCat("c1.", absl::WebSafeBase64Escape(cursor));
  absl::StatusOr<std::string> accepted = CursorOfToken(legacy, "0123456789abcdef", true, "resumeToken");
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(*accepted, cursor);
  EXPECT_NE(CursorOfToken(legacy, "0123456789abcdef", false, "resumeToken")
                .status()
                .message()
                .find("resumeToken: TOKEN_QUERY_MISMATCH"),
            absl::string_view::npos);
}

}  // namespace
}  // namespace tradein::api
