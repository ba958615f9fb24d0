// tradein-openapi OUT: writes the JSON gateway's OpenAPI 3.0 document, generated from the protos' descriptors
// and their google.api.http annotations (services/gateway/openapi.h), to OUT. The build runs it
// (<build>/openapi/openapi.json); the gateway serves the same document at GET /v1/openapi.json.
#include <cstdio>
#include <fstream>

#include "services/gateway/openapi.h"
#include "services/gateway/routes.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT.json\n", argv[0]);
    return 2;
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
