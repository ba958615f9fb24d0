// -----------------------------------------------------------------------------
// File: caller_add.h
// -----------------------------------------------------------------------------
//
// `tradeinctl caller add`: onboards a caller (a shop's till, the portal, an operator) without a server. It
// makes a new random API key, prints it once (nothing stores it: the callers file keeps only its SHA-256),
// and prints the callers-file entry to paste — or, with --callers_file, appends it to that file after
// checking that the file with the entry still loads as the server loads it (then the server needs a reload:
// SIGHUP or `tradeinctl reload`).
//
//   tradeinctl caller add --role=RETAILER --retailer=R-RUIAN-001 --regions=330381 [--id=ruian-till-1]
//
// Thread safety: called once per process.
#ifndef TRADEIN_TOOLS_TRADEINCTL_CALLER_ADD_H_
#define TRADEIN_TOOLS_TRADEINCTL_CALLER_ADD_H_

#include <ostream>
#include <string>

#include "tools/tradeinctl/commands.h"

namespace tradein::ctl {

// AddCaller
//
// Uses options.role, .retailer, .regions (comma-separated), .caller_id (default: derived from the retailer
// or role plus a random suffix) and .callers_file. Exit codes as RunCommand's.
int AddCaller(const CtlOptions& options, std::ostream& out, std::ostream& err);

// NewApiKey
//
// "tk_" and 43 characters of URL-safe base64 of 32 bytes from /dev/urandom (shell-safe, no quoting needed).
std::string NewApiKey();

}  // namespace tradein::ctl

#endif  // TRADEIN_TOOLS_TRADEINCTL_CALLER_ADD_H_
