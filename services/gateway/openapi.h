// -----------------------------------------------------------------------------
// File: openapi.h
// -----------------------------------------------------------------------------
//
// The OpenAPI 3.0 document of the JSON gateway, generated from the protos' descriptors: one operation per
// route of the RouteTable (so per `google.api.http` annotation), request and response bodies as schemas of
// the messages in protobuf's JSON mapping (lowerCamelCase names, 64-bit integers as strings, enums as their
// names, Timestamp as an RFC 3339 string), errors as google.rpc.Status, bearer-key security, plus the
// gateway's own paths (/healthz, /readyz, /v1/openapi.json). Keys come out in a fixed order: the same protos
// always give the same bytes.
//
// The build writes it to <build>/openapi/openapi.json with tools/openapi (tradein-openapi) for client
// generators; the gateway serves the same function's output at GET /v1/openapi.json.
//
// Thread safety: a pure function.
#ifndef TRADEIN_SERVICES_GATEWAY_OPENAPI_H_
#define TRADEIN_SERVICES_GATEWAY_OPENAPI_H_

#include <string>

#include "services/gateway/routes.h"

namespace tradein::gateway {

// The document as pretty-printed JSON (two-space indent, a final newline).
std::string OpenApiDocument(const RouteTable& routes);

}  // namespace tradein::gateway

#endif  // TRADEIN_SERVICES_GATEWAY_OPENAPI_H_
