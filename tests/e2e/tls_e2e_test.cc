// TLS and mTLS end to end: a throwaway PKI made with the openssl CLI at test time (nothing is committed), the
// real tradein-server on a TLS port that verifies client certificates, and real gRPC channels: who a
// certificate makes the caller, what a wrong or missing one gets, the plaintext health port, and the refusal
// to serve plaintext or unauthenticated off loopback without --allow_insecure.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/e2e/auth_e2e_support.h"
#include "tests/e2e/claim_e2e_support.h"
#include "tests/e2e/server_process.h"
#include "tests/testing/free_port.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tradein/v1/claim_service.grpc.pb.h"
#include "tradein/v1/policy_service.grpc.pb.h"

namespace tradein {
namespace {

using testing::CallerSpec;
using testing::CodeName;
using testing::ContextWithKey;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReasonOf;
using testing::ServerProcess;
using testing::ServerProcessOptions;

constexpr const char* kNow = "2025-06-01T10:00:00+08:00";
constexpr const char* kTill = "till-001.shop-1.example";

// A certificate authority and the certificates it signs, made with the openssl CLI in `dir`.
class Pki {
 public:
  explicit Pki(std::string dir) : dir_(std::move(dir)) {}

  std::string Path(const std::string& name) const { return absl::StrCat(dir_, "/", name); }

  // A self-signed CA "<name>.pem" / "<name>.key".
  absl::Status MakeCa(const std::string& name) {
    const std::string config = Path(name + ".cnf");
    TRADEIN_RETURN_IF_ERROR(testing::WriteFile(
        config,
        absl::StrCat("[req]\nprompt = no\ndistinguished_name = dn\nx509_extensions = ext\n[dn]\nCN = ", name,
                     "\n[ext]\nbasicConstraints = critical,CA:TRUE\n",
                     "keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n")));
    return Run({"openssl", "req", "-x509", "-config", config, "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", Path(name + ".key"), "-out",
                Path(name + ".pem"), "-days", "2"});
  }

  // "<name>.pem" / "<name>.key" for `common_name` with the subject alternative names `san` (e.g.
  // "IP:127.0.0.1,DNS:localhost"), signed by CA `ca`, for `usage` ("serverAuth" or "clientAuth").
  absl::Status MakeLeaf(const std::string& name, const std::string& ca, const std::string& common_name,
                        const std::string& san, const std::string& usage) {
    const std::string config = Path(name + ".cnf");
    TRADEIN_RETURN_IF_ERROR(testing::WriteFile(
        config, absl::StrCat("[req]\nprompt = no\ndistinguished_name = dn\n[dn]\nCN = ", common_name,
                             "\n[ext]\nbasicConstraints = critical,CA:FALSE\n",
                             "keyUsage = critical,digitalSignature\nextendedKeyUsage = ", usage,
                             "\nsubjectAltName = ", san, "\nauthorityKeyIdentifier = keyid\n")));
    TRADEIN_RETURN_IF_ERROR(Run({"openssl", "req", "-new", "-config", config, "-newkey", "ec", "-pkeyopt",
                                 "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", Path(name + ".key"),
                                 "-out", Path(name + ".csr")}));
    return Run({"openssl", "x509", "-req", "-in", Path(name + ".csr"), "-CA", Path(ca + ".pem"), "-CAkey",
                Path(ca + ".key"), "-CAcreateserial", "-out", Path(name + ".pem"), "-days", "2", "-extfile",
                config, "-extensions", "ext"});
  }

 private:
  static absl::Status Run(std::vector<std::string> argv) {
    const std::string what = argv[1];
    absl::StatusOr<testing::ToolRun> run = testing::RunTool(std::move(argv));
    if (!run.ok()) return run.status();
    if (run->exit_code != 0) return absl::InternalError(absl::StrCat("openssl ", what, ": ", run->err));
    return absl::OkStatus();
  }

  std::string dir_;
};

class TlsE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("tradein-tls-e2e-");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = new testing::TempDir(*std::move(dir));
    pki_ = new Pki(dir_->path());
    for (const absl::Status& made : {
             pki_->MakeCa("ca"),
             pki_->MakeCa("other-ca"),
             pki_->MakeLeaf("server", "ca", "localhost", "IP:127.0.0.1,DNS:localhost", "serverAuth"),
             pki_->MakeLeaf("till", "ca", kTill, absl::StrCat("DNS:", kTill), "clientAuth"),
             pki_->MakeLeaf("stranger", "ca", "till-009.unlisted.example", "DNS:till-009.unlisted.example",
                            "clientAuth"),
             // The very identity shop-1 lists, but signed by a CA the server does not trust.
             pki_->MakeLeaf("forged", "other-ca", kTill, absl::StrCat("DNS:", kTill), "clientAuth"),
         }) {
      ASSERT_TRUE(made.ok()) << made;
    }
    shop1_key_ = new std::string(testing::NewApiKey());
    ASSERT_TRUE(
        testing::WriteFile(pki_->Path("callers.textproto"),
                           testing::CallersFileText({
                               {"shop-1", "RETAILER", "shop-1", {"330381"}, {*shop1_key_}, {kTill}, 0, 0},
                               {"portal", "PORTAL", "", {}, {testing::NewApiKey()}, {}, 0, 0},
                           }))
            .ok());
    ready_ = true;
  }
  static void TearDownTestSuite() {
    delete shop1_key_;
    delete pki_;
    delete dir_;
    ready_ = false;
  }

  void SetUp() override {
    ASSERT_TRUE(ready_) << "the test PKI could not be made";
    health_port_ = testing::PickFreePort();
    ServerProcessOptions options;
    options.args = TlsArgs();
    options.args.push_back(absl::StrCat("--health_listen=127.0.0.1:", health_port_));
    options.credentials = Credentials("");
    options.health_address = absl::StrCat("127.0.0.1:", health_port_);
    absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::StartWith(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  static std::vector<std::string> TlsArgs() {
    return {absl::StrCat("--tls_cert=", pki_->Path("server.pem")),
            absl::StrCat("--tls_key=", pki_->Path("server.key")),
            absl::StrCat("--tls_client_ca=", pki_->Path("ca.pem")),
            absl::StrCat("--callers_file=", pki_->Path("callers.textproto")),
            absl::StrCat("--simulated_now=", kNow)};
  }

  // TLS trusting the test CA, presenting client certificate `client` ("" = none).
  static std::shared_ptr<grpc::ChannelCredentials> Credentials(const std::string& client) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = testing::ReadFile(pki_->Path("ca.pem"));
    if (!client.empty()) {
      ssl.pem_private_key = testing::ReadFile(pki_->Path(client + ".key"));
      ssl.pem_cert_chain = testing::ReadFile(pki_->Path(client + ".pem"));
    }
    return grpc::SslCredentials(ssl);
  }

  std::shared_ptr<grpc::Channel> Channel(const std::shared_ptr<grpc::ChannelCredentials>& credentials) const {
    return grpc::CreateChannel(server_->address(), credentials);
  }

  static grpc::Status ListPolicies(const std::shared_ptr<grpc::Channel>& channel, const std::string& key) {
    v1::ListPoliciesResponse response;
    return v1::PolicyService::NewStub(channel)->ListPolicies(ContextWithKey(key).get(), {}, &response);
  }

  static v1::ClaimRequest ClaimRequest(const std::string& retailer, int buyer) {
    v1::ClaimRequest request;
    const std::string json = absl::StrCat(
        R"({"requestId":"tls-)", buyer, R"(","retailerId":")", retailer,
        R"(","regionCode":"330381","transactionDate":"2025-06-01","buyer":{"idType":"PRC_ID","idNumber":")",
        testing::PrcId(buyer),
        R"("},"items":[{"lineId":"1","productType":"appliance.refrigerator","priceFen":"500000","energyGrade":1}]})");
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &request).ok()) << json;
    return request;
  }

  static testing::TempDir* dir_;
  static Pki* pki_;
  static std::string* shop1_key_;
  static bool ready_;
  int health_port_ = 0;
  std::unique_ptr<ServerProcess> server_;
};

testing::TempDir* TlsE2eTest::dir_ = nullptr;
Pki* TlsE2eTest::pki_ = nullptr;
std::string* TlsE2eTest::shop1_key_ = nullptr;
bool TlsE2eTest::ready_ = false;

TEST_F(TlsE2eTest, TlsWithTheCaWorksAndABearerKeyNeedsNoClientCertificate) {
  const auto channel = Channel(Credentials(""));
  EXPECT_TRUE(ListPolicies(channel, *shop1_key_).ok());
  // TLS alone identifies no one.
  const grpc::Status anonymous = ListPolicies(channel, "");
  EXPECT_EQ(anonymous.error_code(), grpc::UNAUTHENTICATED) << anonymous.error_message();
  // Health on the TLS port needs no credentials.
  grpc::health::v1::HealthCheckResponse health;
  ASSERT_TRUE(grpc::health::v1::Health::NewStub(channel)->Check(ContextWithKey("").get(), {}, &health).ok());
  EXPECT_EQ(health.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(TlsE2eTest, PlaintextOrUntrustingClientsCannotTalkToTheTlsPort) {
  const grpc::Status plaintext = ListPolicies(Channel(grpc::InsecureChannelCredentials()), *shop1_key_);
  EXPECT_EQ(plaintext.error_code(), grpc::UNAVAILABLE) << CodeName(plaintext.error_code());
  // A TLS client that does not trust the server's CA (the system roots) refuses the server.
  grpc::SslCredentialsOptions system_roots;
  const grpc::Status untrusted = ListPolicies(Channel(grpc::SslCredentials(system_roots)), *shop1_key_);
  EXPECT_EQ(untrusted.error_code(), grpc::UNAVAILABLE) << CodeName(untrusted.error_code());
}

TEST_F(TlsE2eTest, ClientCertificateOfAListedTillActsAsItsRetailer) {
  const auto channel = Channel(Credentials("till"));
  auto stub = v1::ClaimService::NewStub(channel);
  v1::Claim claim;
  // No bearer key and no retailerId: the certificate says who it is.
  const grpc::Status status = stub->Claim(ContextWithKey("").get(), ClaimRequest("", 301), &claim);
  ASSERT_TRUE(status.ok()) << CodeName(status.error_code()) << " " << status.error_message();
  EXPECT_EQ(claim.retailer_id(), "shop-1");
  EXPECT_EQ(claim.state(), v1::Claim::RESERVED);
  // And it acts as shop-1 only.
  v1::Claim other;
  const grpc::Status mismatch = stub->Claim(ContextWithKey("").get(), ClaimRequest("shop-2", 302), &other);
  EXPECT_EQ(mismatch.error_code(), grpc::PERMISSION_DENIED);
  EXPECT_EQ(ReasonOf(mismatch), "RETAILER_MISMATCH");
  v1::GetClaimRequest get;
  get.set_claim_id(claim.claim_id());
  v1::Claim fetched;
  ASSERT_TRUE(stub->GetClaim(ContextWithKey("").get(), get, &fetched).ok());
  EXPECT_EQ(fetched.retailer_id(), "shop-1");
  // The same claim as seen through shop-1's bearer key on a TLS channel without a certificate.
  ASSERT_TRUE(v1::ClaimService::NewStub(Channel(Credentials("")))
                  ->GetClaim(ContextWithKey(*shop1_key_).get(), get, &fetched)
                  .ok());
}

TEST_F(TlsE2eTest, VerifiedButUnlistedIdentityIsUnauthenticatedUnlessItBringsAKey) {
  const auto channel = Channel(Credentials("stranger"));
  const grpc::Status status = ListPolicies(channel, "");
  EXPECT_EQ(status.error_code(), grpc::UNAUTHENTICATED)
      << CodeName(status.error_code()) << " " << status.error_message();
  EXPECT_TRUE(ListPolicies(channel, *shop1_key_).ok()) << "a bearer key still identifies the caller";
}

TEST_F(TlsE2eTest, CertificateFromAnotherCaIsRefusedAtTheHandshake) {
  const auto channel = Channel(Credentials("forged"));
  for (const std::string& key : {std::string(), *shop1_key_}) {
    const grpc::Status status = ListPolicies(channel, key);
    EXPECT_EQ(status.error_code(), grpc::UNAVAILABLE)
        << CodeName(status.error_code()) << " " << status.error_message();
  }
  v1::Claim claim;
  const grpc::Status claim_status =
      v1::ClaimService::NewStub(channel)->Claim(ContextWithKey("").get(), ClaimRequest("", 303), &claim);
  EXPECT_EQ(claim_status.error_code(), grpc::UNAVAILABLE);
}

TEST_F(TlsE2eTest, HealthPortIsPlaintextWhileTheMainPortNeedsTls) {
  const auto health_channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", health_port_), grpc::InsecureChannelCredentials());
  grpc::health::v1::HealthCheckResponse health;
  ASSERT_TRUE(
      grpc::health::v1::Health::NewStub(health_channel)->Check(ContextWithKey("").get(), {}, &health).ok());
  EXPECT_EQ(health.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  // Only health there: the services are not.
  EXPECT_EQ(ListPolicies(health_channel, *shop1_key_).error_code(), grpc::UNIMPLEMENTED);
  // The main port, plaintext: no.
  const auto plaintext_main = Channel(grpc::InsecureChannelCredentials());
  EXPECT_FALSE(
      grpc::health::v1::Health::NewStub(plaintext_main)->Check(ContextWithKey("").get(), {}, &health).ok());
}

// --- exposure off loopback --------------------------------------------------------------------------------

struct Exposure {
  std::vector<std::string> args;
  bool starts;
  std::string says;  // in stderr (refused) or stdout (started)
};

class ExposureE2eTest : public TlsE2eTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ready_) << "the test PKI could not be made";
    host_ = testing::NonLoopbackIpv4();
    if (host_.empty()) host_ = "0.0.0.0";
  }
  std::string host_;
};

TEST_F(ExposureE2eTest, RefusesPlaintextOrUnauthenticatedOffLoopbackWithoutAllowInsecure) {
  std::cout << "[exposure] non-loopback listen host: " << host_ << std::endl;
  const std::string callers = absl::StrCat("--callers_file=", pki_->Path("callers.textproto"));
  const std::string cert = absl::StrCat("--tls_cert=", pki_->Path("server.pem"));
  const std::string key = absl::StrCat("--tls_key=", pki_->Path("server.key"));
  const std::vector<Exposure> cases = {
      {{callers}, false, "refusing to serve plaintext on the non-loopback address"},
      {{cert, key}, false, "refusing to serve without authentication on the non-loopback address"},
      {{}, false, "refusing to serve plaintext and without authentication"},
  };
  for (const Exposure& c : cases) {
    SCOPED_TRACE(c.says);
    testing::SubprocessOptions options;
    options.argv = {testing::ServerBinaryPath(),
                    absl::StrCat("--listen=", host_, ":", testing::PickFreePort()),
                    absl::StrCat("--policy_dir=", testing::ShippedPolicyDir()), "--metrics_listen="};
    options.argv.insert(options.argv.end(), c.args.begin(), c.args.end());
    absl::StatusOr<testing::TempDir> out = testing::TempDir::Create("tradein-exposure-");
    ASSERT_TRUE(out.ok());
    options.stdout_path = out->Join("stdout");
    options.stderr_path = out->Join("stderr");
    absl::StatusOr<std::unique_ptr<testing::Subprocess>> process =
        testing::Subprocess::Spawn(std::move(options));
    ASSERT_TRUE(process.ok()) << process.status();
    const absl::StatusOr<int> code = (*process)->Wait(absl::Seconds(60));
    ASSERT_TRUE(code.ok()) << "the server kept running: it must refuse to start\n"
                           << testing::ReadFile(out->Join("stdout"));
    EXPECT_EQ(*code, 1);
    EXPECT_THAT(testing::ReadFile(out->Join("stderr")), HasSubstr(c.says));
    EXPECT_THAT(testing::ReadFile(out->Join("stderr")), HasSubstr("--allow_insecure"));
  }
}

// Was a defect: IsLoopback (transport_security.cc) takes any host that starts with "127." for loopback, host
// names included: --listen=127.0.0.1.example.com:50051 (a name anyone can point at a public address) serves
// plaintext and unauthenticated without --allow_insecure. Here the name does not resolve, so the server fails
// later with "cannot listen" instead of refusing up front. Disabled while open.
TEST_F(ExposureE2eTest, AHostNameStartingWith127IsNotLoopback) {
  testing::SubprocessOptions options;
  options.argv = {testing::ServerBinaryPath(),
                  absl::StrCat("--listen=127.0.0.1.tradein-e2e.invalid:", testing::PickFreePort()),
                  absl::StrCat("--policy_dir=", testing::ShippedPolicyDir()), "--metrics_listen="};
  absl::StatusOr<testing::TempDir> out = testing::TempDir::Create("tradein-exposure-");
  ASSERT_TRUE(out.ok());
  options.stderr_path = out->Join("stderr");
  absl::StatusOr<std::unique_ptr<testing::Subprocess>> process =
      testing::Subprocess::Spawn(std::move(options));
  ASSERT_TRUE(process.ok()) << process.status();
  const absl::StatusOr<int> code = (*process)->Wait(absl::Seconds(60));
  ASSERT_TRUE(code.ok());
  EXPECT_THAT(testing::ReadFile(out->Join("stderr")),
              HasSubstr("refusing to serve plaintext and without authentication"));
}

TEST_F(ExposureE2eTest, StartsOffLoopbackWithAllowInsecureAndSaysSoLoudly) {
  ServerProcessOptions options;
  options.listen_host = host_;
  options.args = {"--allow_insecure", absl::StrCat("--simulated_now=", kNow)};
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::StartWith(std::move(options));
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(ListPolicies((*server)->channel(), "").ok()) << "unauthenticated, as it was told";
  ASSERT_TRUE(testing::WaitUntil([&] { return (*server)->Stdout().find("try:") != std::string::npos; }));
  const std::string banner = (*server)->Stdout();
  EXPECT_THAT(banner, HasSubstr("WARNING: PLAINTEXT: the gRPC port has no TLS (no --tls_cert/--tls_key)"));
  EXPECT_THAT(banner, HasSubstr(absl::StrCat(":", (*server)->port(), " (plaintext)")));
  EXPECT_THAT(banner, HasSubstr("WARNING: NO AUTHENTICATION"));
  EXPECT_THAT((*server)->Stderr(), HasSubstr("\"exposure\""));
}

TEST_F(ExposureE2eTest, StartsOffLoopbackWithTlsAndCallersAndNoWarning) {
  ServerProcessOptions options;
  options.listen_host = host_;
  options.args = TlsArgs();
  const int health_port = testing::PickFreePort();
  options.args.push_back(absl::StrCat("--health_listen=127.0.0.1:", health_port));
  options.health_address = absl::StrCat("127.0.0.1:", health_port);
  options.credentials = Credentials("");
  // The server certificate names 127.0.0.1 and localhost, not the machine's address.
  options.channel_string_args = {{GRPC_SSL_TARGET_NAME_OVERRIDE_ARG, "localhost"}};
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::StartWith(std::move(options));
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(ListPolicies((*server)->channel(), *shop1_key_).ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return (*server)->Stdout().find("try:") != std::string::npos; }));
  EXPECT_THAT((*server)->Stdout(), Not(HasSubstr("PLAINTEXT")));
  EXPECT_THAT((*server)->Stdout(), Not(HasSubstr("NO AUTHENTICATION")));
  EXPECT_THAT((*server)->Stdout(), HasSubstr("(TLS), client certificates verified"));
}

}  // namespace
}  // namespace tradein
