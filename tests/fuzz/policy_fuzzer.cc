// Fuzzes policy loading: parsing, validating, merging and compiling a policy directory
// (services/policy/policy_loader.h), then pricing with whatever it accepts.
//
// Input: a whole policy directory as text. A line "=== <name>" starts file <name>; "=== @shipped" first
// copies in every shipped file (deploy/policies), so a small seed can change one file of the real chain:
//
//   === @shipped
//   === ra-2025.textproto
//   id: "ra-2025" region_code: "330381" inherits: "zj-2025" ...
//
// Input without any "===" line is one policy file next to the shipped product catalogue (so each shipped
// policy file is a seed as it is). Names are reduced to [A-Za-z0-9._-] (at most 16 files, 64 characters).
//
// Properties, besides "no sanitizer report": a refused directory has problems and no snapshot, each
// problem UTF-8 text naming a file of the directory, the catalogue or the directory; an accepted one has
// policies, each selected for its own region on the first day of its window, and pricing any catalogue item
// under any of them gives no negative amount, nothing for an ineligible item, and line = unit × quantity.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/stubs/common.h"  // internal::IsStructurallyValidUTF8
#include "services/policy/policy_loader.h"
#include "services/policy/policy_summary.h"
#include "services/pricing/calculator.h"
#include "services/pricing/explanation.h"
#include "tests/fuzz/fuzz_support.h"

namespace tradein::fuzz {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxFiles = 16;
constexpr size_t kMaxNameLength = 64;

using Files = std::vector<std::pair<std::string, std::string>>;  // (name, text), later names win

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const Files& ShippedFiles() {
  static const Files* const files = [] {
    auto* shipped = new Files;
    for (const fs::directory_entry& entry : fs::directory_iterator(ShippedPolicyDir())) {
      if (entry.path().extension() == ".textproto") {
        shipped->emplace_back(entry.path().filename().string(), ReadFile(entry.path()));
      }
    }
    FUZZ_CHECK(!shipped->empty(), ShippedPolicyDir());
    return shipped;
  }();
  return *files;
}

std::string SafeName(absl::string_view name) {
  std::string safe;
  for (char c : name.substr(0, kMaxNameLength)) {
    const bool plain = absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    safe.push_back(plain ? c : '_');
  }
  return safe.empty() || safe == "." || safe == ".." ? "_" : safe;
}

Files Split(absl::string_view input) {
  Files files;
  if (!absl::StrContains(input, "=== ")) {
    for (const auto& shipped : ShippedFiles()) {
      if (shipped.first == policy::kCatalogueFileName) files.push_back(shipped);
    }
    files.emplace_back("fuzz.textproto", std::string(input));
    return files;
  }
  std::string* text = nullptr;
  for (absl::string_view line : absl::StrSplit(input, '\n')) {
    if (absl::StartsWith(line, "=== ")) {
      const absl::string_view name = line.substr(4);
      text = nullptr;
      if (name == "@shipped") {
        files.insert(files.end(), ShippedFiles().begin(), ShippedFiles().end());
      } else if (files.size() < kMaxFiles + ShippedFiles().size()) {
        files.emplace_back(SafeName(name), "");
        text = &files.back().second;
      }
    } else if (text != nullptr) {
      absl::StrAppend(text, line, "\n");
    }
  }
  return files;
}

// A fresh directory of this process, emptied for each input.
const fs::path& Directory() {
  static const fs::path* const dir = [] {
    auto* path = new fs::path(fs::temp_directory_path() / absl::StrCat("tradein-policy-fuzz-", getpid()));
    fs::create_directories(*path);
    return path;
  }();
  return *dir;
}

void WriteDirectory(const Files& files) {
  std::error_code error;
  fs::remove_all(Directory(), error);
  fs::create_directories(Directory());
  for (const auto& [name, text] : files) std::ofstream(Directory() / name, std::ios::binary) << text;
}

void CheckPricing(const policy::PolicySnapshot& snapshot) {
  const policy::ProductCatalogue& catalogue = snapshot.catalogue();
  for (const auto& policy : snapshot.policies()) {
    const policy::DayWindow window = policy->transaction_window();
    FUZZ_CHECK(window.first <= window.last, policy->id());
    FUZZ_CHECK(snapshot.FindById(policy->id()) == policy.get(), policy->id());
    FUZZ_CHECK(snapshot.Select(policy->region_code(), window.first) == policy.get(),
               absl::StrCat(policy->id(), " is not in force in its own region on its first day"));
    (void)policy::SummarizePolicy(*policy, catalogue);
    for (policy::ProductTypeId type = 0; type < catalogue.size(); ++type) {
      for (const int64_t price_fen : {int64_t{1}, int64_t{3'999'00}, int64_t{10'000'000'000}}) {
        pricing::PricingItem item;
        item.product_type = type;
        item.price_fen = price_fen;
        item.quantity = price_fen == 1 ? 1 : 100;
        item.best_grade = 1;
        item.transaction_day = window.first;
        const pricing::ItemPrice price = pricing::PriceItem(item, *policy);
        const std::string at =
            absl::StrCat(policy->id(), " ", catalogue.Get(type).code(), " at ", price_fen, ": unit ",
                         price.unit_subsidy_fen, " line ", price.line_subsidy_fen);
        FUZZ_CHECK(price.unit_subsidy_fen >= 0, at);
        FUZZ_CHECK(price.eligible() || price.line_subsidy_fen == 0, at);
        FUZZ_CHECK(price.line_subsidy_fen == price.unit_subsidy_fen * item.quantity, at);
        (void)pricing::ExplainPrice(item, price, *policy);
      }
    }
  }
}

}  // namespace
}  // namespace tradein::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tradein;
  using namespace tradein::fuzz;
  const Files files = Split(absl::string_view(reinterpret_cast<const char*>(data), size));
  WriteDirectory(files);
  const policy::PolicyLoadReport report =
      policy::LoadPolicyDirectoryReport(Directory().string(), absl::UnixEpoch());
  if (report.snapshot == nullptr) {
    FUZZ_CHECK(!report.problems.empty(), "refused without a problem");
    for (const policy::PolicyProblem& problem : report.problems) {
      const bool known = problem.file == Directory().string() || problem.file == policy::kCatalogueFileName ||
                         std::any_of(files.begin(), files.end(),
                                     [&](const auto& file) { return file.first == problem.file; });
      FUZZ_CHECK(known, problem.ToString());
      // Problems are logged (JSON lines) and printed by the linter: UTF-8, whatever the file holds.
      FUZZ_CHECK(google::protobuf::internal::IsStructurallyValidUTF8(problem.ToString()), problem.ToString());
    }
    return 0;
  }
  FUZZ_CHECK(report.problems.empty(), report.problems.front().ToString());
  FUZZ_CHECK(!report.snapshot->policies().empty(), "a snapshot without policies");
  CheckPricing(*report.snapshot);
  return 0;
}
