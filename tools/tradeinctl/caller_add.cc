#include "tools/tradeinctl/caller_add.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/text_format.h"
#include "services/auth/callers_table.h"
#include "tradein/v1/callers.pb.h"

namespace tradein::ctl {
namespace {

std::string RandomBytes(size_t n) {
  std::string bytes(n, '\0');
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  urandom.read(bytes.data(), static_cast<std::streamsize>(n));
  if (!urandom) {
    std::fprintf(stderr, "tradeinctl: cannot read /dev/urandom\n");
    std::abort();
  }
  return bytes;
}

// The entry as callers-file text, with a comment saying when and by what it was made.
std::string EntryText(const v1::CallerEntry& entry) {
  std::string body;
  google::protobuf::TextFormat::Printer printer;
  printer.SetInitialIndentLevel(1);
  printer.PrintToString(entry, &body);
  return absl::StrCat("# added by tradeinctl caller add\ncallers {\n", body, "}\n");
}

// The entry the options describe; an error message (usage) when they do not describe one.
std::string BuildEntry(const CtlOptions& options, const std::string& key, v1::CallerEntry& entry) {
  v1::CallerEntry::Role role;
  if (!v1::CallerEntry::Role_Parse(absl::AsciiStrToUpper(options.role), &role) ||
      role == v1::CallerEntry::ROLE_UNSPECIFIED) {
    return "--role must be RETAILER, PORTAL or ADMIN";
  }
  entry.set_role(role);
  if (role == v1::CallerEntry::RETAILER) {
    if (options.retailer.empty() || options.regions.empty()) {
      return "a RETAILER needs --retailer (its retailerId) and --regions (GB/T 2260 codes of its shops, "
             "comma "
             "separated)";
    }
    entry.set_retailer_id(options.retailer);
    for (absl::string_view region : absl::StrSplit(options.regions, ',', absl::SkipWhitespace())) {
      entry.add_region_codes(std::string(absl::StripAsciiWhitespace(region)));
    }
  } else if (!options.retailer.empty() || !options.regions.empty()) {
    return "--retailer and --regions are for RETAILER callers only";
  }
  const std::string suffix = absl::BytesToHexString(RandomBytes(3));
  const std::string base =
      role == v1::CallerEntry::RETAILER ? options.retailer : absl::AsciiStrToLower(options.role);
  entry.set_id(options.caller_id.empty() ? absl::StrCat(base, "-", suffix) : options.caller_id);
  entry.add_api_key_sha256(auth::Sha256Hex(key));
  return "";
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Appends `entry` to `path` (created when missing) if the result loads; the file is replaced atomically.
int AppendEntry(const std::string& path, const std::string& entry, std::ostream& err) {
  std::string text = std::filesystem::exists(path) ? ReadAll(path) : "";
  if (!text.empty() && text.back() != '\n') text.push_back('\n');
  absl::StrAppend(&text, text.empty() ? "" : "\n", entry);
  const std::string staged = absl::StrCat(path, ".tradeinctl-new");
  {
    std::ofstream out(staged, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) {
      err << "tradeinctl: caller add: cannot write " << staged << "\n";
      return kExitFailed;
    }
  }
  const auto loaded = auth::CallersTable::Load(staged);
  std::error_code ignored;
  if (!loaded.ok()) {
    std::filesystem::remove(staged, ignored);
    err << "tradeinctl: caller add: " << path
        << " would not load with the new entry (nothing changed): " << loaded.status().message() << "\n";
    return kExitFailed;
  }
  std::filesystem::rename(staged, path, ignored);
  if (ignored) {
    std::filesystem::remove(staged, ignored);
    err << "tradeinctl: caller add: cannot replace " << path << "\n";
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

std::string NewApiKey() {
  std::string key = absl::WebSafeBase64Escape(RandomBytes(32));
  return absl::StrCat("tk_", key);
}

int AddCaller(const CtlOptions& options, std::ostream& out, std::ostream& err) {
  const std::string key = NewApiKey();
  v1::CallerEntry entry;
  if (const std::string problem = BuildEntry(options, key, entry); !problem.empty()) {
    err << "tradeinctl: caller add: " << problem << "\n";
    return kExitUsage;
  }
  // The entry must stand on its own as the server would check it (region codes, ids).
  v1::CallersFile alone;
  *alone.add_callers() = entry;
  if (const auto checked = auth::CallersTable::FromProto(alone, "the new entry"); !checked.ok()) {
    err << "tradeinctl: caller add: " << checked.status().message() << "\n";
    return kExitUsage;
  }
  const std::string text = EntryText(entry);
  if (!options.callers_file.empty()) {
    if (const int code = AppendEntry(options.callers_file, text, err); code != kExitOk) return code;
  }
  out << "caller " << entry.id() << " (" << v1::CallerEntry::Role_Name(entry.role()) << ")\n"
      << "key: " << key << "\n"
      << "  shown once and stored nowhere (the callers file keeps its SHA-256): give it to the caller now; "
         "it\n"
      << "  sends `authorization: Bearer <key>`, e.g. tradeinctl --token=@FILE or TRADEINCTL_TOKEN.\n";
  if (options.callers_file.empty()) {
    out << "paste into the callers file (--callers_file), then reload (SIGHUP or `tradeinctl reload`):\n\n"
        << text;
  } else {
    out << "appended to " << options.callers_file
        << "; reload the servers that read it (SIGHUP or `tradeinctl reload`).\n";
  }
  return kExitOk;
}

}  // namespace tradein::ctl
