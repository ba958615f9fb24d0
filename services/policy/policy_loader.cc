#include "services/policy/policy_loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "openssl/sha.h"
#include "services/policy/policy_merge.h"
#include "services/policy/policy_validator.h"

namespace tradein::policy {
namespace {

namespace fs = std::filesystem;

std::string Sha256Hex16(absl::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 8));
}

std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

bool ReadFile(const fs::path& path, std::string& text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  text = buffer.str();
  return true;
}

// Everything a load carries between its steps.
struct Load {
  std::string directory;
  std::vector<PolicyProblem> problems;
  std::optional<ProductCatalogue> catalogue;
  std::vector<std::unique_ptr<PolicyFile>> files;  // sorted by file name
  absl::flat_hash_map<std::string, const PolicyFile*> by_id;
  absl::flat_hash_map<std::string, v1::Policy> merged;  // by id
  absl::flat_hash_set<std::string> unmergeable;         // ids whose chain is broken (reported once)
};

void ReadCatalogue(Load& load) {
  const fs::path path = fs::path(load.directory) / std::string(kCatalogueFileName);
  std::string text;
  if (!ReadFile(path, text)) {
    load.problems.push_back({std::string(kCatalogueFileName), 0, "", "cannot read the product catalogue"});
    return;
  }
  v1::ProductCatalogue proto;
  if (!ParseMessageText(kCatalogueFileName, text, proto, load.problems)) return;
  absl::StatusOr<ProductCatalogue> catalogue = ProductCatalogue::Build(proto, kCatalogueFileName);
  if (!catalogue.ok()) {
    load.problems.push_back(
        {std::string(kCatalogueFileName), 0, "", std::string(catalogue.status().message())});
    return;
  }
  load.catalogue = *std::move(catalogue);
}

void ReadPolicyFiles(Load& load) {
  std::error_code error;
  std::vector<fs::path> paths;
  for (const fs::directory_entry& entry : fs::directory_iterator(load.directory, error)) {
    const fs::path& path = entry.path();
    if (entry.is_regular_file() && path.extension() == ".textproto" &&
        path.filename() != std::string(kCatalogueFileName)) {
      paths.push_back(path);
    }
  }
  if (error) {
    load.problems.push_back(
        {load.directory, 0, "", absl::StrCat("cannot list the directory: ", error.message())});
    return;
  }
  std::sort(paths.begin(), paths.end());
  for (const fs::path& path : paths) {
    std::string text;
    const std::string name = path.filename().string();
    if (!ReadFile(path, text)) {
      load.problems.push_back({name, 0, "", "cannot read the file"});
      continue;
    }
    std::unique_ptr<PolicyFile> file = ParsePolicyText(name, text, load.problems);
    if (file != nullptr) load.files.push_back(std::move(file));
  }
  if (paths.empty()) load.problems.push_back({load.directory, 0, "", "no policy files (*.textproto)"});
}

void IndexById(Load& load) {
  for (const auto& file : load.files) {
    const auto [it, inserted] = load.by_id.emplace(file->policy.id(), file.get());
    if (!inserted) {
      load.problems.push_back(
          {file->path, file->LineOf(FieldPath().Then("id")), "id",
           absl::StrCat("policy id \"", file->policy.id(), "\" is also used by ", it->second->path)});
    }
  }
}

// Merges `file` (and, first, its ancestors) into load.merged. Returns the merged policy, or nullptr when its
// chain is broken: a missing parent (reported against the file that names it) or a cycle (reported against
// the file the walk started from); either is reported once, however many children share the chain.
const v1::Policy* Merge(Load& load, const PolicyFile& file, std::vector<std::string>& visiting) {
  const std::string& id = file.policy.id();
  if (auto it = load.merged.find(id); it != load.merged.end()) return &it->second;
  if (load.unmergeable.contains(id)) return nullptr;
  auto broken = [&load, &id](const PolicyFile& blamed, std::string message) -> const v1::Policy* {
    load.problems.push_back(
        {blamed.path, blamed.LineOf(FieldPath().Then("inherits")), "inherits", std::move(message)});
    load.unmergeable.insert(id);
    return nullptr;
  };
  const v1::Policy* parent = nullptr;
  if (!file.policy.inherits().empty()) {
    const std::string& parent_id = file.policy.inherits();
    const auto parent_file = load.by_id.find(parent_id);
    if (parent_file == load.by_id.end()) {
      return broken(file, absl::StrCat("no policy \"", parent_id, "\" to inherit from"));
    }
    if (std::find(visiting.begin(), visiting.end(), parent_id) != visiting.end()) {
      for (const std::string& member : visiting) load.unmergeable.insert(member);
      return broken(*load.by_id.at(visiting.front()),
                    absl::StrCat("inheritance cycle: ", absl::StrJoin(visiting, " → "), " → ", parent_id));
    }
    visiting.push_back(parent_id);
    parent = Merge(load, *parent_file->second, visiting);
    visiting.pop_back();
    if (parent == nullptr) {
      load.unmergeable.insert(id);
      return nullptr;
    }
  }
  v1::Policy merged = MergePolicy(parent, file);
  for (const PolicyFile* f = &file; f != nullptr;) {
    merged.add_source_files(f->path);
    const auto next = load.by_id.find(f->policy.inherits());
    f = (f->policy.inherits().empty() || next == load.by_id.end()) ? nullptr : next->second;
  }
  return &load.merged.emplace(id, std::move(merged)).first->second;
}

// Checks each file as merged, in file order; a file whose chain is broken was reported already.
void ValidateMerged(Load& load) {
  for (const auto& file : load.files) {
    const auto merged = load.merged.find(file->policy.id());
    if (merged == load.merged.end() || load.by_id.at(file->policy.id()) != file.get()) continue;
    const auto parent = load.merged.find(file->policy.inherits());
    ValidateMergedPolicy(*file, file->policy.inherits().empty() ? nullptr : &parent->second, merged->second,
                         *load.catalogue, load.problems);
  }
}

std::string SnapshotVersion(const Load& load,
                            const std::vector<std::unique_ptr<const CompiledPolicy>>& policies) {
  std::string material;
  for (const v1::ProductType& type : load.catalogue->types())
    absl::StrAppend(&material, DeterministicBytes(type));
  for (const auto& policy : policies) absl::StrAppend(&material, policy->id(), "=", policy->version(), ";");
  return Sha256Hex16(material);
}

std::shared_ptr<const PolicySnapshot> BuildSnapshot(Load& load, absl::Time now) {
  std::vector<const PolicyFile*> files;
  std::vector<v1::Policy> merged;
  for (const auto& file : load.files) {
    files.push_back(file.get());
    merged.push_back(load.merged.at(file->policy.id()));
  }
  ValidateRegionWindows(files, merged, load.problems);
  if (!load.problems.empty()) return nullptr;

  std::vector<std::unique_ptr<const CompiledPolicy>> policies;
  for (v1::Policy& policy : merged) {
    policy.set_version(PolicyContentHash(policy));
    absl::StatusOr<std::unique_ptr<CompiledPolicy>> compiled =
        CompiledPolicy::Compile(policy, *load.catalogue);
    if (!compiled.ok()) {
      load.problems.push_back({policy.source_files(0), 0, "", std::string(compiled.status().message())});
      return nullptr;
    }
    policies.push_back(*std::move(compiled));
  }
  std::sort(policies.begin(), policies.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a->region_code(), a->transaction_window().first) <
           std::make_pair(b->region_code(), b->transaction_window().first);
  });
  std::string version = SnapshotVersion(load, policies);
  return std::make_shared<const PolicySnapshot>(*std::move(load.catalogue), std::move(policies),
                                                std::move(version), load.directory, now);
}

}  // namespace

std::string PolicyContentHash(const v1::Policy& policy) {
  v1::Policy content = policy;
  content.clear_version();
  content.clear_source_files();
  content.clear_value_origins();
  return Sha256Hex16(DeterministicBytes(content));
}

PolicyLoadReport LoadPolicyDirectoryReport(const std::string& directory, absl::Time now) {
  Load load;
  load.directory = directory;
  ReadCatalogue(load);
  ReadPolicyFiles(load);
  if (!load.catalogue.has_value()) return {nullptr, std::move(load.problems)};
  for (const auto& file : load.files) ValidatePolicyFile(*file, load.problems);
  IndexById(load);
  for (const auto& file : load.files) {
    std::vector<std::string> visiting = {file->policy.id()};
    Merge(load, *file, visiting);
  }
  ValidateMerged(load);
  if (!load.problems.empty() || load.files.empty()) return {nullptr, std::move(load.problems)};
  std::shared_ptr<const PolicySnapshot> snapshot = BuildSnapshot(load, now);
  return {std::move(snapshot), std::move(load.problems)};
}

absl::StatusOr<std::shared_ptr<const PolicySnapshot>> LoadPolicyDirectory(const std::string& directory,
                                                                          absl::Time now) {
  PolicyLoadReport report = LoadPolicyDirectoryReport(directory, now);
  if (report.snapshot != nullptr) return std::move(report.snapshot);
  return absl::InvalidArgumentError(absl::StrCat(
      "policy directory ", directory, " refused (", report.problems.size(), " problem(s)):\n",
      absl::StrJoin(report.problems, "\n",
                    [](std::string* out, const PolicyProblem& p) { absl::StrAppend(out, p.ToString()); })));
}

}  // namespace tradein::policy
