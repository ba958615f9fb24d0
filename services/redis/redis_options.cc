#include "services/redis/redis_options.h"

#include <cstddef>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace tradein::redis {
namespace {

constexpr absl::string_view kScheme = "redis://";
constexpr absl::string_view kMask = "****";

// `url` with the password (from the first ':' of the userinfo to the last '@') replaced by kMask; the whole
// userinfo when it has no ':', since it may then be a password written without one; everything before the
// last '@' when no "scheme://" shows where the userinfo starts (a mistyped "redis:/user:password@host").
std::string MaskPassword(absl::string_view url) {
  const size_t scheme_end = url.find("://");
  const size_t at = url.rfind('@');
  if (at == absl::string_view::npos) return std::string(url);
  if (scheme_end == absl::string_view::npos || at < scheme_end) return absl::StrCat(kMask, url.substr(at));
  const size_t userinfo = scheme_end + 3;
  const size_t colon = url.substr(0, at).find(':', userinfo);
  const size_t mask_from = colon == absl::string_view::npos ? userinfo : colon + 1;
  return absl::StrCat(url.substr(0, mask_from), kMask, url.substr(at));
}

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; std::nullopt on a malformed escape.
std::optional<std::string> PercentDecode(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = HexValue(s[i + 1]);
    const int lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

}  // namespace

std::string RedisOptions::DebugString() const {
  std::string credentials;
  if (!user.empty() || !password.empty()) {
    credentials = absl::StrCat(user, ":", password.empty() ? "" : kMask, "@");
  }
  const bool ipv6 = absl::StrContains(host, ':');
  return absl::StrCat(kScheme, credentials, ipv6 ? "[" : "", host, ipv6 ? "]" : "", ":", port, "/", db,
                      " connections=", connections,
                      " max_in_flight_per_connection=", max_in_flight_per_connection,
                      " connect_timeout=", absl::FormatDuration(connect_timeout),
                      " reconnect_backoff=", absl::FormatDuration(reconnect_backoff_min), "..",
                      absl::FormatDuration(reconnect_backoff_max));
}

absl::Status RedisOptions::Validate() const {
  auto invalid = [](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("redis options: ", what));
  };
  if (host.empty()) return invalid("host is empty");
  if (port < 1 || port > 65535) return invalid(absl::StrCat("port ", port, " is not in 1..65535"));
  if (db < 0) return invalid(absl::StrCat("db ", db, " is negative"));
  if (connections < 1) return invalid(absl::StrCat("connections ", connections, " is less than 1"));
  if (max_in_flight_per_connection < 1) {
    return invalid(
        absl::StrCat("max_in_flight_per_connection ", max_in_flight_per_connection, " is less than 1"));
  }
  if (connect_timeout <= absl::ZeroDuration()) return invalid("connect_timeout must be positive");
  if (reconnect_backoff_min <= absl::ZeroDuration() || reconnect_backoff_max < reconnect_backoff_min) {
    return invalid("reconnect backoff must satisfy 0 < reconnect_backoff_min <= reconnect_backoff_max");
  }
  return absl::OkStatus();
}

absl::StatusOr<RedisOptions> ParseRedisUrl(absl::string_view url) {
  auto invalid = [shown = MaskPassword(url)](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("redis url \"", shown, "\": ", why));
  };
  if (absl::StartsWith(url, "rediss://")) return invalid("TLS (rediss://) is not supported");
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, kScheme)) return invalid("must start with redis://");

  RedisOptions options;
  // The userinfo ends at the last '@', so an unencoded '@' or '/' in the password still parses.
  if (const size_t at = rest.rfind('@'); at != absl::string_view::npos) {
    const absl::string_view userinfo = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    const size_t colon = userinfo.find(':');
    if (colon == absl::string_view::npos) return invalid("credentials must be written [user]:password@");
    std::optional<std::string> user = PercentDecode(userinfo.substr(0, colon));
    std::optional<std::string> password = PercentDecode(userinfo.substr(colon + 1));
    if (!user || !password) return invalid("bad percent-encoding in the credentials");
    options.user = *std::move(user);
    options.password = *std::move(password);
  }

  absl::string_view authority = rest;
  absl::string_view path;
  if (const size_t slash = rest.find('/'); slash != absl::string_view::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }

  std::optional<absl::string_view> port;
  if (absl::ConsumePrefix(&authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) return invalid("missing ']' after the IPv6 address");
    options.host = std::string(authority.substr(0, close));
    authority.remove_prefix(close + 1);
    if (absl::ConsumePrefix(&authority, ":")) {
      port = authority;
    } else if (!authority.empty()) {
      return invalid("expected ':' after ']'");
    }
  } else {
    const size_t colon = authority.find(':');
    options.host = std::string(authority.substr(0, colon));
    if (colon != absl::string_view::npos) port = authority.substr(colon + 1);
  }
  if (port.has_value() && absl::StrContains(*port, ':')) {
    return invalid("an IPv6 address must be written in brackets");
  }
  if (options.host.empty()) return invalid("the host is empty");
  if (port.has_value()) {
    if (!AllDigits(*port) || !absl::SimpleAtoi(*port, &options.port) || options.port < 1 ||
        options.port > 65535) {
      return invalid(absl::StrCat("the port \"", *port, "\" is not a number in 1..65535"));
    }
  }
  if (!path.empty() && (!AllDigits(path) || !absl::SimpleAtoi(path, &options.db))) {
    return invalid(absl::StrCat("the db \"", path, "\" is not a non-negative number"));
  }
  return options;
}

}  // namespace tradein::redis
