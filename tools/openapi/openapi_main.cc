// tradein-openapi OUT: writes the JSON gateway's OpenAPI 3.0 document, generated from the protos' descriptors
// and their google.api.http annotations (services/gateway/openapi.h), to OUT. The build runs it
// (<build>/openapi/openapi.json); the gateway serves the same document at GET /v1/openapi.json.
// --help (or -h) prints the usage; any other argument that starts with '-' is refused, never taken for OUT.
#include <cstdio>
#include <cstring>
#include <fstream>

#include "services/gateway/openapi.h"
#include "services/gateway/routes.h"

int main(int argc, char** argv) {
  const bool help = argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0);
  if (help || argc != 2 || argv[1][0] == '-') {
    std::fprintf(help ? stdout : stderr,
                 "usage: %s OUT.json\n"
                 "Writes the JSON gateway's OpenAPI 3.0 document (the one it serves at /v1/openapi.json) to "
                 "OUT.json.\n",
                 argv[0]);
    return help ? 0 : 2;
  }
  const absl::StatusOr<tradein::gateway::RouteTable> routes =
      tradein::gateway::RouteTable::Build(tradein::gateway::RouteTable::PublicServices());
  if (!routes.ok()) {
    std::fprintf(stderr, "%s\n", routes.status().ToString().c_str());
    return 1;
  }
  std::ofstream out(argv[1], std::ios::binary | std::ios::trunc);
  out << tradein::gateway::OpenApiDocument(*routes);
  out.close();
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", argv[1]);
    return 1;
  }
  return 0;
}
