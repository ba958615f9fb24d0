#include "tests/e2e/auth_e2e_support.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace tradein::testing {
namespace {

std::string Quoted(absl::string_view text) { return absl::StrCat("\"", absl::CEscape(text), "\""); }

std::string List(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) absl::StrAppend(&out, i ? ", " : "", Quoted(values[i]));
  return out + "]";
}

}  // namespace

std::string Sha256HexForTest(absl::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) return "";
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest.data()), length));
}

std::string NewApiKey() {
  std::array<unsigned char, 16> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) return "";
  return absl::StrCat("k-", absl::BytesToHexString(absl::string_view(
                                reinterpret_cast<const char*>(random.data()), random.size())));
}

std::string CallersFileText(const std::vector<CallerSpec>& callers) {
  std::string text = "# written by an end-to-end test\n";
  for (const CallerSpec& caller : callers) {
    absl::StrAppend(&text, "callers {\n  id: ", Quoted(caller.id), "\n  role: ", caller.role, "\n");
    if (!caller.retailer_id.empty())
      absl::StrAppend(&text, "  retailer_id: ", Quoted(caller.retailer_id), "\n");
    if (!caller.regions.empty()) absl::StrAppend(&text, "  region_codes: ", List(caller.regions), "\n");
    std::vector<std::string> hashes;
    for (const std::string& key : caller.api_keys) hashes.push_back(Sha256HexForTest(key));
    if (!hashes.empty()) absl::StrAppend(&text, "  api_key_sha256: ", List(hashes), "\n");
    if (!caller.tls_identities.empty())
      absl::StrAppend(&text, "  tls_identities: ", List(caller.tls_identities), "\n");
    if (caller.requests_per_second > 0) {
      absl::StrAppend(&text, "  rate_limit { requests_per_second: ", caller.requests_per_second,
                      " burst: ", caller.burst, " }\n");
    }
    text += "}\n";
  }
  return text;
}

absl::Status WriteFile(const std::string& path, absl::string_view content) {
  // Written beside and renamed: a server reloading on SIGHUP never reads half a file.
  const std::string temporary = absl::StrCat(path, ".tmp");
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out.flush()) return absl::InternalError(absl::StrCat("cannot write ", temporary));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0)
    return absl::InternalError(absl::StrCat("cannot rename ", temporary, " to ", path));
  return absl::OkStatus();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::unique_ptr<grpc::ClientContext> ContextWithKey(const std::string& key, const std::string& request_id,
                                                    absl::Duration deadline) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  if (!key.empty()) context->AddMetadata("authorization", absl::StrCat("Bearer ", key));
  if (!request_id.empty()) context->AddMetadata("x-request-id", request_id);
  return context;
}

std::string CodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  return index >= 0 && index <= 16 ? kNames[index] : absl::StrCat("CODE_", index);
}

std::string ReasonOf(const grpc::Status& status) {
  google::rpc::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) return "";
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) return info.reason();
  }
  return "";
}

std::string ChineseOf(const grpc::Status& status) {
  google::rpc::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) return "";
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::LocalizedMessage localized;
    if (any.UnpackTo(&localized) && localized.locale() == "zh-CN") return localized.message();
  }
  return "";
}

absl::StatusOr<ToolRun> RunTool(std::vector<std::string> argv, absl::Duration timeout) {
  absl::StatusOr<TempDir> dir = TempDir::Create("tradein-tool-");
  if (!dir.ok()) return dir.status();
  SubprocessOptions options;
  options.argv = std::move(argv);
  options.stdout_path = dir->Join("out");
  options.stderr_path = dir->Join("err");
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Spawn(std::move(options));
  if (!process.ok()) return process.status();
  absl::StatusOr<int> code = (*process)->Wait(timeout);
  if (!code.ok()) {
    (*process)->Kill();
    return code.status();
  }
  return ToolRun{*code, ReadFile(dir->Join("out")), ReadFile(dir->Join("err"))};
}

absl::Status WriteLoopbackCertificate(const std::string& cert_path, const std::string& key_path) {
  absl::StatusOr<ToolRun> openssl =
      RunTool({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
               "-nodes", "-keyout", key_path, "-out", cert_path, "-days", "2", "-subj", "/CN=127.0.0.1",
               "-addext", "subjectAltName=IP:127.0.0.1"});
  if (!openssl.ok()) return openssl.status();
  if (openssl->exit_code != 0) return absl::InternalError(absl::StrCat("openssl req: ", openssl->err));
  return absl::OkStatus();
}

bool WaitUntil(const std::function<bool()>& done, absl::Duration bound) {
  const absl::Time give_up = absl::Now() + bound;
  for (;;) {
    if (done()) return true;
    if (absl::Now() > give_up) return done();
    absl::SleepFor(absl::Milliseconds(50));
  }
}

std::string NonLoopbackIpv4() {
  absl::StatusOr<ToolRun> run = RunTool({"hostname", "-I"}, absl::Seconds(10));
  if (!run.ok() || run->exit_code != 0) return "";
  for (absl::string_view word : absl::StrSplit(run->out, absl::ByAnyChar(" \n\t"), absl::SkipEmpty())) {
    // IPv4 only (the listen flag and the channel then need no brackets), and not 127.x.
    if (word.find(':') == absl::string_view::npos && word.find('.') != absl::string_view::npos &&
        !absl::StartsWith(word, "127.")) {
      return std::string(word);
    }
  }
  return "";
}

std::string HttpAnswer::Header(absl::string_view name) const {
  for (absl::string_view line : absl::StrSplit(headers, '\n')) {
    const size_t colon = line.find(':');
    if (colon != absl::string_view::npos &&
        absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(line.substr(0, colon)), name)) {
      return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
  }
  return "";
}

absl::StatusOr<HttpAnswer> Curl(const std::vector<std::string>& args) {
  absl::StatusOr<TempDir> dir = TempDir::Create("tradein-curl-");
  if (!dir.ok()) return dir.status();
  std::vector<std::string> argv = {
      "curl", "-sS",         "--max-time", "30", "-o", dir->Join("body"), "-D", dir->Join("headers"),
      "-w",   "%{http_code}"};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<ToolRun> run = RunTool(argv);
  if (!run.ok()) return run.status();
  if (run->exit_code != 0) return absl::UnavailableError(absl::StrCat("curl: ", run->err));
  HttpAnswer answer;
  if (!absl::SimpleAtoi(run->out, &answer.status))
    return absl::InternalError(absl::StrCat("curl -w: ", run->out));
  answer.body = ReadFile(dir->Join("body"));
  answer.headers = ReadFile(dir->Join("headers"));
  return answer;
}

}  // namespace tradein::testing
