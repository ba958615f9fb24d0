// -----------------------------------------------------------------------------
// File: flags.h
// -----------------------------------------------------------------------------
//
// tradein-server's command line. Every flag can also be set by an environment variable named TRADEIN_ plus
// the flag in upper case (--policy_dir ↔ TRADEIN_POLICY_DIR); the command line wins over the environment.
#ifndef TRADEIN_SERVICES_SERVER_FLAGS_H_
#define TRADEIN_SERVICES_SERVER_FLAGS_H_

#include "absl/status/statusor.h"
#include "services/server/server_options.h"

namespace tradein::server {

// ParseServerFlags
//
// Reads TRADEIN_* variables, then argv (exits on --help, like every absl-flags program). Returns the options,
// or INVALID_ARGUMENT naming the bad flag or variable.
[[nodiscard]] absl::StatusOr<ServerOptions> ParseServerFlags(int argc, char** argv);

}  // namespace tradein::server

#endif  // TRADEIN_SERVICES_SERVER_FLAGS_H_
