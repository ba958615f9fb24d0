#include "services/server/instance_registry.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/status.h"
#include "services/redis/redis_script.h"

namespace tradein::server {
namespace {

// KEYS: instances (hash), their expiry (zset), the reload generation (hash field g).
// ARGV: mode (join, beat, leave, read, reload), id, report, now ms, time to live ms, clock offset ms, max gap
// ms. Answers {"ok", generation, id, report, ...} for every live instance, or {"conflict", generation, id,
// report} naming a live instance whose clock is too far from this one's (join only; nothing written then).
const redis::RedisScript& HeartbeatScript() {
  static const redis::RedisScript* const kScript = new redis::RedisScript(R"lua(
local HB, EXP, RL = KEYS[1], KEYS[2], KEYS[3]
local mode, id, report = ARGV[1], ARGV[2], ARGV[3]
local now, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', EXP, '-inf', now)) do
  redis.call('ZREM', EXP, gone)
  redis.call('HDEL', HB, gone)
end
if mode == 'reload' then redis.call('HINCRBY', RL, 'g', 1) end
local generation = tonumber(redis.call('HGET', RL, 'g') or '0')
if mode == 'join' then
  local offset, gap = tonumber(ARGV[6]), tonumber(ARGV[7])
  for _, other in ipairs(redis.call('ZRANGEBYSCORE', EXP, '(' .. now, '+inf')) do
    local theirs = redis.call('HGET', HB, other)
    local their_offset = theirs and tonumber(string.match(theirs, '^v%d+|(-?%d+)|'))
    if other ~= id and their_offset and math.abs(their_offset - offset) > gap then
      return {'conflict', generation, other, theirs}
    end
  end
end
if mode == 'leave' then
  redis.call('ZREM', EXP, id)
  redis.call('HDEL', HB, id)
elseif mode == 'join' or mode == 'beat' then
  redis.call('HSET', HB, id, report)
  redis.call('ZADD', EXP, now + ttl, id)
  redis.call('PEXPIRE', HB, ttl)
  redis.call('PEXPIRE', EXP, ttl)
end
local out = {'ok', generation}
for _, other in ipairs(redis.call('ZRANGEBYSCORE', EXP, '(' .. now, '+inf')) do
  local theirs = redis.call('HGET', HB, other)
  if theirs then
    out[#out + 1] = other
    out[#out + 1] = theirs
  end
end
return out
)lua");
  return *kScript;
}

// The instances of a script's answer (from element 2 on: id, report, ...); unreadable reports are skipped.
std::vector<InstanceReport> ReportsOf(const std::vector<redis::RedisValue>& elements) {
  std::vector<InstanceReport> out;
  for (size_t i = 2; i + 1 < elements.size(); i += 2) {
    InstanceReport report;
    if (InstanceReport::Decode(elements[i].str(), elements[i + 1].str(), report))
      out.push_back(std::move(report));
  }
  return out;
}

// "real" or "-47354400 s from real".
std::string ClockPhrase(int64_t offset_ms) {
  return offset_ms == 0 ? std::string("real") : absl::StrCat(offset_ms / 1000, " s from real");
}

std::string Describe(const InstanceReport& report) {
  return absl::StrCat(report.id, " (serving ", report.address.empty() ? "?" : report.address, ", clock ",
                      ClockPhrase(report.clock_offset_ms), ")");
}

}  // namespace

std::string InstanceReport::Encode() const {
  return absl::StrCat("v1|", clock_offset_ms, "|", reload_generation, "|", policy_snapshot, "|", address, "|",
                      absl::StrJoin(policies, ","), "|", simulated_from_ms);
}

bool InstanceReport::Decode(absl::string_view id, absl::string_view text, InstanceReport& out) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, '|');
  if (parts.size() < 6 || parts[0] != "v1") return false;
  out.id = std::string(id);
  if (!absl::SimpleAtoi(parts[1], &out.clock_offset_ms) ||
      !absl::SimpleAtoi(parts[2], &out.reload_generation))
    return false;
  out.policy_snapshot = std::string(parts[3]);
  out.address = std::string(parts[4]);
  out.policies.clear();
  if (!parts[5].empty()) out.policies = absl::StrSplit(parts[5], ',');
  out.simulated_from_ms = 0;
  return parts.size() < 7 || absl::SimpleAtoi(parts[6], &out.simulated_from_ms);
}

InstanceRegistry::InstanceRegistry(redis::KeyedClient& client, const quota::RedisQuotaKeys& keys)
    : client_(client), keys_({keys.Instances(), keys.InstanceExpiry(), keys.ReloadGeneration()}) {}

absl::StatusOr<Heartbeat> InstanceRegistry::Run(const InstanceReport& self, absl::string_view mode,
                                                absl::Time deadline) {
  absl::Notification done;
  absl::StatusOr<redis::RedisValue> reply;
  client_.EvalScript(
      HeartbeatScript(), keys_,
      {std::string(mode), self.id, self.Encode(), absl::StrCat(absl::ToUnixMillis(absl::Now())),
       absl::StrCat(absl::ToInt64Milliseconds(kTimeToLive)), absl::StrCat(self.clock_offset_ms),
       absl::StrCat(absl::ToInt64Milliseconds(kMaxClockGap))},
      deadline, redis::WriteConcern{}, [&](absl::StatusOr<redis::RedisValue> value) {
        reply = std::move(value);
        done.Notify();
      });
  done.WaitForNotification();
  if (!reply.ok()) return reply.status();
  const std::vector<redis::RedisValue>& elements = reply->elements();
  if (elements.size() < 2 || (elements[0].str() != "ok" && elements[0].str() != "conflict")) {
    return absl::InternalError(absl::StrCat("unexpected heartbeat answer: ", reply->DebugString()));
  }
  Heartbeat heartbeat{ReportsOf(elements), elements[1].integer()};
  if (elements[0].str() == "conflict") {
    const InstanceReport other = heartbeat.live.empty() ? InstanceReport{} : heartbeat.live.front();
    return absl::FailedPreconditionError(absl::StrCat(
        "another instance on this Redis, ", Describe(other), ", runs a clock more than ",
        absl::FormatDuration(kMaxClockGap), " apart from this one's (", ClockPhrase(self.clock_offset_ms),
        "): its sweeper would expire this one's holds, or this one its. Instances sharing a ledger must "
        "share "
        "a clock: use another Redis, or give this one its own ledger with --redis_key_prefix=NAME"));
  }
  return heartbeat;
}

absl::StatusOr<Heartbeat> InstanceRegistry::Join(const InstanceReport& self, absl::Time deadline) {
  return Run(self, "join", deadline);
}

absl::StatusOr<Heartbeat> InstanceRegistry::Beat(const InstanceReport& self, absl::Time deadline) {
  return Run(self, "beat", deadline);
}

absl::Status InstanceRegistry::Leave(const InstanceReport& self, absl::Time deadline) {
  return Run(self, "leave", deadline).status();
}

absl::StatusOr<Heartbeat> InstanceRegistry::Read(absl::Time deadline) {
  return Run(InstanceReport{}, "read", deadline);
}

absl::StatusOr<int64_t> InstanceRegistry::RequestReload(absl::Time deadline) {
  TRADEIN_ASSIGN_OR_RETURN(Heartbeat heartbeat, Run(InstanceReport{}, "reload", deadline));
  return heartbeat.reload_generation;
}

InstanceHeartbeat::InstanceHeartbeat(InstanceRegistry& registry, std::function<InstanceReport()> describe,
                                     std::function<void()> reload)
    : registry_(registry), describe_(std::move(describe)), reload_(std::move(reload)) {}

InstanceHeartbeat::~InstanceHeartbeat() { Stop(); }

InstanceReport InstanceHeartbeat::Self() const {
  InstanceReport self = describe_();
  absl::MutexLock lock(&mu_);
  self.reload_generation = generation_;
  return self;
}

absl::Status InstanceHeartbeat::Join(absl::Time deadline) {
  TRADEIN_ASSIGN_OR_RETURN(Heartbeat joined, registry_.Join(Self(), deadline));
  absl::MutexLock lock(&mu_);
  // A new instance loaded its policies just now: it is at the generation already asked for.
  generation_ = joined.reload_generation;
  live_ = std::move(joined.live);
  joined_ = true;
  return absl::OkStatus();
}

void InstanceHeartbeat::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void InstanceHeartbeat::Stop() {
  if (thread_.joinable()) {
    stop_.Notify();
    thread_.join();
  }
  bool joined = false;
  {
    absl::MutexLock lock(&mu_);
    std::swap(joined, joined_);
  }
  if (joined)
    (void)registry_.Leave(Self(), absl::Now() + absl::Seconds(1));  // else it lapses after kTimeToLive
}

std::vector<InstanceReport> InstanceHeartbeat::live() const {
  absl::MutexLock lock(&mu_);
  return live_;
}

absl::StatusOr<std::vector<InstanceHeartbeat::ReloadReport>> InstanceHeartbeat::ReloadAll(
    absl::Duration bound) {
  const absl::Time deadline = absl::Now() + bound;
  TRADEIN_ASSIGN_OR_RETURN(const int64_t generation, registry_.RequestReload(deadline));
  {
    absl::MutexLock lock(&mu_);
    generation_ = generation;  // reloaded already: the heartbeat thread must not do it again
  }
  TRADEIN_ASSIGN_OR_RETURN(Heartbeat heartbeat, registry_.Beat(Self(), deadline));
  const auto reached = [generation](const InstanceReport& report) {
    return report.reload_generation == generation;
  };
  while (!std::all_of(heartbeat.live.begin(), heartbeat.live.end(), reached) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
    absl::StatusOr<Heartbeat> read = registry_.Read(deadline);
    if (!read.ok()) break;
    heartbeat = *std::move(read);
  }
  std::vector<ReloadReport> out;
  for (InstanceReport& report : heartbeat.live) {
    const bool reloaded = reached(report);
    out.push_back({std::move(report), reloaded});
  }
  return out;
}

void InstanceHeartbeat::Loop() {
  while (!stop_.WaitForNotificationWithTimeout(kBeatInterval)) BeatOnce();
}

void InstanceHeartbeat::BeatOnce() {
  bool joined = false;
  {
    absl::MutexLock lock(&mu_);
    joined = joined_;
  }
  // Not joined yet (Redis was down at start): the clock check comes first.
  absl::StatusOr<Heartbeat> beat = joined ? registry_.Beat(Self(), absl::Now() + kBeatInterval)
                                          : registry_.Join(Self(), absl::Now() + kBeatInterval);
  if (!beat.ok()) {
    if (absl::Now() - last_failure_log_ > absl::Minutes(1)) {
      last_failure_log_ = absl::Now();
      const bool conflict = beat.status().code() == absl::StatusCode::kFailedPrecondition;
      Log(conflict ? LogLevel::kError : LogLevel::kWarning, conflict ? "clock_conflict" : "heartbeat_failed",
          {{"error", beat.status().message()}});
    }
    return;
  }
  bool asked = false;
  {
    absl::MutexLock lock(&mu_);
    if (!joined_) generation_ = beat->reload_generation;  // loaded at start: at the generation asked for
    joined_ = true;
    asked = beat->reload_generation != generation_;
    if (asked) generation_ = beat->reload_generation;
    live_ = std::move(beat->live);
  }
  if (!asked) return;
  reload_();
  BeatOnce();  // report the versions now in force (at most once more: the generation is now the same)
}

}  // namespace tradein::server
