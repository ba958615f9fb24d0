#include "services/identity/keyed_hash.h"

#include <sys/stat.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tradein::identity {

// Reaches the raw HMAC beneath the domain separation, to check it against RFC 4231.
class KeyedHasherPeer {
 public:
  static std::string HexMac(const KeyedHasher& hasher, absl::string_view message) {
    return hasher.HexMac({message});
  }
};

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr absl::string_view kKey = "0123456789abcdef0123456789abcdef";  // 32 bytes
constexpr absl::string_view kId = "11010519491231002X";

TEST(KeyedHasherTest, MatchesRfc4231) {
  const struct {
    std::string key;
    std::string data;
    std::string hmac_sha256;
  } cases[] = {
      // Test case 1.
      {std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      // Test case 2: a key shorter than the output.
      {"Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      // Test case 6: a key longer than the block, hashed first.
      {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(KeyedHasherPeer::HexMac(KeyedHasher::ForTesting(c.key), c.data), c.hmac_sha256) << c.data;
  }
}

// Golden values (Python: hmac.new(key, b"buyer\0" + id, sha256).hexdigest()). Every quota in Redis is keyed
// by these: if this test has to change, deployed quotas are orphaned.
TEST(KeyedHasherTest, BuyerAndScopedKeysAreStable) {
  const KeyedHasher hasher = KeyedHasher::ForTesting(kKey);
  EXPECT_EQ(hasher.BuyerKey(kId), "04c11f302f95dbe0a13d06327d2f6f5a5b5720eef632c932fba70b8cf22bfd33");
  EXPECT_EQ(hasher.ScopedKey("buyer", kId), hasher.BuyerKey(kId));
  EXPECT_EQ(hasher.ScopedKey("vehicle", "1M8GDM9AXKP042788"),
            "256094a38619c8af6117819ac0e3d3c78e0cdfd55208194466c7b5be686729d1");
  EXPECT_EQ(hasher.ScopedKey("home", "1M8GDM9AXKP042788"),
            "dc6218d2816470642bb61c8d10887e2e7380e562abf202e2ec7f2ea191e00568");
  EXPECT_EQ(hasher.BuyerKey(kId),
            KeyedHasherPeer::HexMac(hasher, absl::StrCat("buyer", std::string(1, '\0'), kId)));
}

TEST(KeyedHasherTest, KeysAreLowercaseHexAndDependOnTheSecret) {
  const std::string key = KeyedHasher::ForTesting(kKey).BuyerKey(kId);
  EXPECT_THAT(key, MatchesRegex("[0-9a-f]{64}"));
  EXPECT_NE(KeyedHasher::ForTesting("another secret of 32 bytes ......").BuyerKey(kId), key);
  EXPECT_NE(KeyedHasher::ForTesting(kKey).BuyerKey("11010519491231002x"), key);
}

TEST(KeyedHasherTest, ScopeSeparatorPreventsShiftedCollisions) {
  const KeyedHasher hasher = KeyedHasher::ForTesting(kKey);
  EXPECT_NE(hasher.ScopedKey("ab", "c"), hasher.ScopedKey("a", "bc"));
}

TEST(KeyedHasherTest, ShardTagIsTheFirstEightHexCharacters) {
  const std::string key = KeyedHasher::ForTesting(kKey).BuyerKey(kId);
  EXPECT_EQ(KeyedHasher::ShardTag(key), "04c11f30");
}

TEST(KeyedHasherTest, CopiesAndConcurrentCallsAgree) {
  const KeyedHasher hasher = KeyedHasher::ForTesting(kKey);
  const KeyedHasher copy = hasher;
  const std::string want = hasher.BuyerKey(kId);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if ((t % 2 == 0 ? hasher : copy).BuyerKey(kId) != want) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(mismatches, ElementsAre(0, 0, 0, 0));
}

class KeyFileTest : public ::testing::Test {
 protected:
  // Writes `content` to a fresh file in the test's temporary directory with `mode`; returns its path.
  std::string WriteKeyFile(absl::string_view content, mode_t mode = 0600) {
    const std::string path =
        absl::StrCat(::testing::TempDir(), "buyer_key_",
                     ::testing::UnitTest::GetInstance()->current_test_info()->name(), "_", ++files_);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    EXPECT_EQ(chmod(path.c_str(), mode), 0);
    return path;
  }

 private:
  int files_ = 0;
};

TEST_F(KeyFileTest, LoadsTheFileAsIs) {
  const std::string path = WriteKeyFile(kKey);
  const absl::StatusOr<KeyedHasher> hasher = KeyedHasher::FromKeyFile(path);
  ASSERT_TRUE(hasher.ok()) << hasher.status();
  EXPECT_EQ(hasher->BuyerKey(kId), KeyedHasher::ForTesting(kKey).BuyerKey(kId));
  EXPECT_THAT(hasher->warnings(), IsEmpty());
}

TEST_F(KeyFileTest, TrimsOneTrailingNewline) {
  const absl::StatusOr<KeyedHasher> one = KeyedHasher::FromKeyFile(WriteKeyFile(absl::StrCat(kKey, "\n")));
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->BuyerKey(kId), KeyedHasher::ForTesting(kKey).BuyerKey(kId));

  const absl::StatusOr<KeyedHasher> two = KeyedHasher::FromKeyFile(WriteKeyFile(absl::StrCat(kKey, "\n\n")));
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->BuyerKey(kId), KeyedHasher::ForTesting(absl::StrCat(kKey, "\n")).BuyerKey(kId));
}

TEST_F(KeyFileTest, RefusesAMissingFile) {
  const std::string path = absl::StrCat(::testing::TempDir(), "no_such_buyer.key");
  const absl::StatusOr<KeyedHasher> hasher = KeyedHasher::FromKeyFile(path);
  EXPECT_EQ(hasher.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(hasher.status().message()), HasSubstr(path));
}

TEST_F(KeyFileTest, RefusesAShortSecretWithoutPrintingIt) {
  const std::string secret = "only-31-bytes-of-secret-here-31";
  ASSERT_EQ(secret.size(), KeyedHasher::kMinKeyBytes - 1);
  for (const std::string& content : {secret, absl::StrCat(secret, "\n")}) {
    const std::string path = WriteKeyFile(content);
    const absl::StatusOr<KeyedHasher> hasher = KeyedHasher::FromKeyFile(path);
    EXPECT_EQ(hasher.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(hasher.status().message()), HasSubstr(path));
    EXPECT_THAT(std::string(hasher.status().message()), Not(HasSubstr("secret-here")));
  }
}

TEST_F(KeyFileTest, RefusesAnEmptyFile) {
  EXPECT_EQ(KeyedHasher::FromKeyFile(WriteKeyFile("")).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(KeyFileTest, RefusesAnOverlongFile) {
  const std::string path = WriteKeyFile(std::string(KeyedHasher::kMaxKeyFileBytes + 1, 'k'));
  EXPECT_EQ(KeyedHasher::FromKeyFile(path).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(KeyedHasher::FromKeyFile(WriteKeyFile(std::string(KeyedHasher::kMaxKeyFileBytes, 'k'))).ok());
}

TEST_F(KeyFileTest, RefusesADirectory) {
  const absl::StatusOr<KeyedHasher> hasher = KeyedHasher::FromKeyFile(::testing::TempDir());
  EXPECT_EQ(hasher.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(KeyFileTest, WarnsWhenEveryUserMayReadIt) {
  const std::string path = WriteKeyFile(kKey, 0644);
  const absl::StatusOr<KeyedHasher> hasher = KeyedHasher::FromKeyFile(path);
  ASSERT_TRUE(hasher.ok()) << hasher.status();
  EXPECT_THAT(hasher->warnings(), ElementsAre(AllOf(HasSubstr(path), HasSubstr("0644"))));
  EXPECT_THAT(hasher->warnings(), Not(ElementsAre(HasSubstr(kKey))));
}

}  // namespace
}  // namespace tradein::identity
