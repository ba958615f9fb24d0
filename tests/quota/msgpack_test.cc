// The MessagePack subset the ledger's scripts speak (services/quota/msgpack.h): what the Writer writes, the
// parser reads back; the parse points into its input; malformed bytes are refused, never read past.
#include "services/quota/msgpack.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tradein::quota::msgpack {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

MATCHER_P(IsInvalid, why, "") {
  return arg.status().code() == absl::StatusCode::kInvalidArgument &&
         ::testing::ExplainMatchResult(HasSubstr(why), std::string(arg.status().message()), result_listener);
}

std::vector<int64_t> Ints(const Items& items) {
  std::vector<int64_t> out;
  for (const Value& item : items) out.push_back(item.AsInt());
  return out;
}

TEST(MsgpackTest, ReadsBackEveryIntegerWidthTheWriterUses) {
  const std::vector<int64_t> ints = {0,
                                     1,
                                     127,
                                     128,
                                     255,
                                     256,
                                     65535,
                                     65536,
                                     4294967295,
                                     4294967296,
                                     -1,
                                     -32,
                                     -33,
                                     -128,
                                     -129,
                                     -32768,
                                     -2147483648,
                                     std::numeric_limits<int64_t>::min(),
                                     std::numeric_limits<int64_t>::max()};
  Writer w;
  w.Array(ints.size());
  for (int64_t i : ints) w.Int(i);
  const absl::StatusOr<Document> parsed = Parse(w.bytes());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->type(), Type::kArray);
  EXPECT_EQ(Ints(parsed->AsArray()), ints);
}

TEST(MsgpackTest, ReadsBackStringsOfEveryLengthClassAsViewsIntoTheInput) {
  const std::vector<std::string> strings = {"",
                                            std::string(31, 'a'),
                                            std::string(32, 'b'),
                                            std::string(255, 'c'),
                                            std::string(256, 'd'),
                                            std::string(70000, 'e')};
  Writer w;
  w.Array(strings.size());
  for (const std::string& s : strings) w.Str(s);
  const std::string bytes = w.Take();
  const absl::StatusOr<Document> parsed = Parse(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  std::vector<std::string> read;
  for (const Value& item : parsed->AsArray()) {
    read.emplace_back(item.AsBytes());
    EXPECT_GE(item.AsBytes().data(), bytes.data()) << "not a copy";
    EXPECT_LE(item.AsBytes().data() + item.AsBytes().size(), bytes.data() + bytes.size());
  }
  EXPECT_EQ(read, strings);
}

// A claim-like shape: containers inside containers, so reading a later field must step over whole values.
TEST(MsgpackTest, FindsFieldsAfterNestedValuesAndKeepsTheirOrder) {
  Writer w;
  w.Map(5).Key("ln").Array(2);
  w.Map(2).Key("u").Int(1).Key("ch").Array(2).Map(1).Key("k").Str("x").Map(1).Key("k").Str("y");
  w.Map(2).Key("u").Int(2).Key("ch").Array(0);
  w.Key("nil").Nil().Key("yes").Bool(true).Key("no").Bool(false).Key("st").Int(3);
  const absl::StatusOr<Document> parsed = Parse(w.bytes());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Document& claim = *parsed;

  EXPECT_EQ(claim["st"].AsInt(), 3);
  EXPECT_TRUE(claim["yes"].AsBool());
  EXPECT_FALSE(claim["no"].AsBool());
  EXPECT_EQ(claim["no"].type(), Type::kBool);
  EXPECT_TRUE(claim["nil"].is_nil());
  std::vector<std::string> keys;
  for (const auto& [key, value] : claim.AsMap()) keys.emplace_back(key);
  EXPECT_THAT(keys, ElementsAre("ln", "nil", "yes", "no", "st"));

  const Items lines = claim["ln"].AsArray();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1]["u"].AsInt(), 2);
  EXPECT_EQ(lines[0]["ch"].AsArray()[1]["k"].AsBytes(), "y");
  EXPECT_TRUE(lines[1]["ch"].AsArray().empty());
}

TEST(MsgpackTest, AbsentFieldsAndOtherTypesReadAsZero) {
  Writer w;
  w.Map(2).Key("n").Int(7).Key("s").Str("text");
  const absl::StatusOr<Document> parsed = Parse(w.bytes());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->Find("absent"), std::nullopt);
  EXPECT_TRUE((*parsed)["absent"].is_nil());
  EXPECT_EQ((*parsed)["absent"]["deeper"].AsInt(), 0);
  EXPECT_EQ((*parsed)["s"].AsInt(), 0);
  EXPECT_EQ((*parsed)["n"].AsBytes(), "");
  EXPECT_TRUE((*parsed)["n"].AsArray().empty());
  EXPECT_TRUE((*parsed)["n"].AsMap().empty());
  EXPECT_TRUE(Value().is_nil());
}

// cmsgpack packs an empty Lua table as an empty array: it reads as an empty map too.
TEST(MsgpackTest, AnEmptyArrayReadsAsAnEmptyMap) {
  const absl::StatusOr<Document> parsed = Parse(Writer().Array(0).bytes());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->AsMap().empty());
  EXPECT_TRUE(parsed->AsArray().empty());
}

TEST(MsgpackTest, ValuesStayValidWhenTheDocumentMoves) {
  Writer w;
  w.Map(1).Key("a").Array(3).Int(1).Int(2).Int(3);
  const std::string bytes = w.Take();
  absl::StatusOr<Document> parsed = Parse(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Value items = (*parsed)["a"];
  const Document moved = *std::move(parsed);
  EXPECT_THAT(Ints(items.AsArray()), ElementsAre(1, 2, 3));
  EXPECT_THAT(Ints(moved["a"].AsArray()), ElementsAre(1, 2, 3));
}

TEST(MsgpackTest, EveryTruncationIsRefused) {
  Writer w;
  w.Map(3).Key("id").Str(std::string(40, 'x')).Key("n").Int(4294967296).Key("ln").Array(2).Int(-200).Str("");
  const std::string bytes = w.Take();
  ASSERT_TRUE(Parse(bytes).ok());
  for (size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_EQ(Parse(absl::string_view(bytes).substr(0, size)).status().code(),
              absl::StatusCode::kInvalidArgument)
        << size << " of " << bytes.size() << " bytes";
  }
}

TEST(MsgpackTest, RefusesWhatIsNotOneValueOfTheSubset) {
  EXPECT_THAT(Parse(std::string("\xcb\x40\x09\x21\xfb\x54\x44\x2d\x18", 9)), IsInvalid("float"));
  EXPECT_THAT(Parse(std::string("\x81\x01\x02", 3)), IsInvalid("map key that is not a string"));
  EXPECT_THAT(Parse(std::string("\x01\x02", 2)), IsInvalid("bytes after the value"));
  EXPECT_THAT(Parse(std::string("\xcf\x80\x00\x00\x00\x00\x00\x00\x00", 9)), IsInvalid("above int64"));
  EXPECT_THAT(Parse(std::string("\xdd\xff\xff\xff\xff\x01", 6)), IsInvalid("array longer than the input"));
  EXPECT_THAT(Parse(std::string("\xdf\x00\x01\x00\x00\xa1", 6)), IsInvalid("map longer than the input"));
  EXPECT_THAT(Parse(std::string("\xc1", 1)), IsInvalid("unsupported type byte 193"));
}

TEST(MsgpackTest, NestsThirtyTwoDeepAndNoDeeper) {
  const auto nested = [](int depth) {
    return absl::StrCat(std::string(static_cast<size_t>(depth), '\x91'), "\x01");
  };
  const absl::StatusOr<Document> deepest = Parse(nested(32));
  ASSERT_TRUE(deepest.ok()) << deepest.status();
  Value inner = *deepest;
  for (int i = 0; i < 32; ++i) inner = inner.AsArray()[0];
  EXPECT_EQ(inner.AsInt(), 1);
  EXPECT_THAT(Parse(nested(33)), IsInvalid("nested too deep"));
}

}  // namespace
}  // namespace tradein::quota::msgpack
