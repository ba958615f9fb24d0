#include "services/gateway/openapi.h"

#include <set>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/rpc/status.pb.h"

namespace tradein::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// A JSON value whose objects keep their members in insertion order.
class Json {
 public:
  static Json Object() { return Json(Kind::kObject, ""); }
  static Json Array() { return Json(Kind::kArray, ""); }
  static Json String(std::string text) { return Json(Kind::kString, std::move(text)); }
  static Json Bool(bool value) { return Json(Kind::kLiteral, value ? "true" : "false"); }

  // Sets `key` (an object's member; replaces an existing one) and returns the member.
  Json& Set(const std::string& key, Json value) {
    for (auto& [name, member] : members_) {
      if (name == key) return member = std::move(value);
    }
    members_.emplace_back(key, std::move(value));
    return members_.back().second;
  }
  // The member `key`, added as an empty object when there is none.
  Json& Member(const std::string& key) {
    for (auto& [name, member] : members_) {
      if (name == key) return member;
    }
    return Set(key, Object());
  }
  Json& Add(Json value) {
    items_.push_back(std::move(value));
    return items_.back();
  }

  void Write(std::string& out, size_t indent) const {
    const std::string pad(2 * (indent + 1), ' ');
    const std::string end_pad(2 * indent, ' ');
    switch (kind_) {
      case Kind::kString:
        out += Quote(text_);
        return;
      case Kind::kLiteral:
        out += text_;
        return;
      case Kind::kObject:
        if (members_.empty()) {
          out += "{}";
          return;
        }
        out += "{\n";
        for (size_t i = 0; i < members_.size(); ++i) {
          absl::StrAppend(&out, pad, Quote(members_[i].first), ": ");
          members_[i].second.Write(out, indent + 1);
          out += i + 1 < members_.size() ? ",\n" : "\n";
        }
        absl::StrAppend(&out, end_pad, "}");
        return;
      case Kind::kArray:
        if (items_.empty()) {
          out += "[]";
          return;
        }
        out += "[\n";
        for (size_t i = 0; i < items_.size(); ++i) {
          out += pad;
          items_[i].Write(out, indent + 1);
          out += i + 1 < items_.size() ? ",\n" : "\n";
        }
        absl::StrAppend(&out, end_pad, "]");
        return;
    }
  }

 private:
  enum class Kind { kObject, kArray, kString, kLiteral };
  Json(Kind kind, std::string text) : kind_(kind), text_(std::move(text)) {}

  static std::string Quote(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
      if (c == '"' || c == '\\') {
        absl::StrAppend(&out, "\\", std::string(1, c));
      } else if (static_cast<unsigned char>(c) < 0x20) {
        absl::StrAppend(&out, absl::StrFormat("\\u%04x", static_cast<unsigned char>(c)));
      } else {
        out.push_back(c);
      }
    }
    return out + "\"";
  }

  Kind kind_;
  std::string text_;
  std::vector<std::pair<std::string, Json>> members_;
  std::vector<Json> items_;
};

Json Typed(const char* type, const char* format = nullptr) {
  Json schema = Json::Object();
  schema.Set("type", Json::String(type));
  if (format != nullptr) schema.Set("format", Json::String(format));
  return schema;
}

Json Ref(const Descriptor& message) {
  Json schema = Json::Object();
  schema.Set("$ref", Json::String(absl::StrCat("#/components/schemas/", message.full_name())));
  return schema;
}

// Writes the schemas of messages reachable from the ones asked for into components.schemas.
class SchemaWriter {
 public:
  explicit SchemaWriter(Json& schemas) : schemas_(schemas) {}

  // A schema naming `message` (a $ref, or inline for the well-known types), its definition added.
  Json MessageSchema(const Descriptor& message) {
    const std::string& name = message.full_name();
    if (name == "google.protobuf.Timestamp") return Typed("string", "date-time");
    if (name == "google.protobuf.Duration") return Typed("string");  // "1.5s"
    if (name == "google.protobuf.Any" || name == "google.protobuf.Struct" ||
        name == "google.protobuf.Empty") {
      Json object = Typed("object");
      object.Set("additionalProperties", Json::Bool(true));
      return object;
    }
    if (name == "google.protobuf.Value") return Json::Object();
    if (message.file()->package() == "google.protobuf" && message.field_count() == 1 &&
        absl::EndsWith(name, "Value")) {
      return FieldSchema(*message.field(0));  // wrappers: the wrapped value, as JSON writes it
    }
    if (written_.insert(name).second) Define(message);
    return Ref(message);
  }

 private:
  // (Built whole before it is added: the fields' own definitions go into schemas_ first.)
  void Define(const Descriptor& message) {
    Json properties = Json::Object();
    for (int i = 0; i < message.field_count(); ++i) {
      const FieldDescriptor& field = *message.field(i);
      properties.Set(field.json_name(), FieldSchema(field));
    }
    Json schema = Typed("object");
    schema.Set("properties", std::move(properties));
    schemas_.Set(message.full_name(), std::move(schema));
  }

  Json FieldSchema(const FieldDescriptor& field) {
    if (field.is_map()) {
      Json object = Typed("object");
      object.Set("additionalProperties", SingleSchema(*field.message_type()->map_value()));
      return object;
    }
    if (field.is_repeated()) {
      Json array = Typed("array");
      array.Set("items", SingleSchema(field));
      return array;
    }
    return SingleSchema(field);
  }

  // The schema of one value of `field` (repeated or not).
  Json SingleSchema(const FieldDescriptor& field) {
    switch (field.type()) {
      case FieldDescriptor::TYPE_STRING:
        return Typed("string");
      case FieldDescriptor::TYPE_BYTES:
        return Typed("string", "byte");
      case FieldDescriptor::TYPE_BOOL:
        return Typed("boolean");
      case FieldDescriptor::TYPE_DOUBLE:
        return Typed("number", "double");
      case FieldDescriptor::TYPE_FLOAT:
        return Typed("number", "float");
      case FieldDescriptor::TYPE_INT32:
      case FieldDescriptor::TYPE_SINT32:
      case FieldDescriptor::TYPE_SFIXED32:
        return Typed("integer", "int32");
      case FieldDescriptor::TYPE_UINT32:
      case FieldDescriptor::TYPE_FIXED32:
        return Typed("integer", "int64");  // OpenAPI has no uint32 format; int64 holds every value
      case FieldDescriptor::TYPE_INT64:
      case FieldDescriptor::TYPE_SINT64:
      case FieldDescriptor::TYPE_SFIXED64:
        return Typed("string", "int64");  // protobuf's JSON writes 64-bit integers as strings
      case FieldDescriptor::TYPE_UINT64:
      case FieldDescriptor::TYPE_FIXED64:
        return Typed("string", "uint64");
      case FieldDescriptor::TYPE_ENUM: {
        Json schema = Typed("string");
        Json& values = schema.Set("enum", Json::Array());
        for (int i = 0; i < field.enum_type()->value_count(); ++i) {
          values.Add(Json::String(field.enum_type()->value(i)->name()));
        }
        return schema;
      }
      case FieldDescriptor::TYPE_MESSAGE:
      case FieldDescriptor::TYPE_GROUP:
        return MessageSchema(*field.message_type());
    }
    return Json::Object();
  }

  Json& schemas_;
  std::set<std::string> written_;
};

Json Content(const char* media_type, Json schema) {
  Json content = Json::Object();
  content.Set(media_type, Json::Object()).Set("schema", std::move(schema));
  return content;
}

Json Response(const char* description, Json content) {
  Json response = Json::Object();
  response.Set("description", Json::String(description));
  response.Set("content", std::move(content));
  return response;
}

Json Parameter(const std::string& name, const char* in, bool required) {
  Json parameter = Json::Object();
  parameter.Set("name", Json::String(name));
  parameter.Set("in", Json::String(in));
  parameter.Set("required", Json::Bool(required));
  parameter.Set("schema", Typed("string"));
  return parameter;
}

Json ErrorResponses(SchemaWriter& schemas) {
  Json responses = Json::Object();
  responses.Set(
      "default",
      Response("An error: a google.rpc.Status with its details (ErrorInfo reason, "
               "BadRequest field violations, RetryInfo), HTTP status from the gRPC code.",
               Content("application/json", schemas.MessageSchema(*google::rpc::Status::descriptor()))));
  return responses;
}

Json Operation(const Route& route, SchemaWriter& schemas) {
  const google::protobuf::MethodDescriptor& method = *route.method;
  Json operation = Json::Object();
  operation.Set("tags", Json::Array()).Add(Json::String(method.service()->name()));
  operation.Set("summary", Json::String(absl::StrCat("gRPC ", method.full_name())));
  operation.Set("operationId", Json::String(absl::StrCat(method.service()->name(), "_", method.name())));
  Json parameters = Json::Array();
  if (!route.path_field.empty()) parameters.Add(Parameter(route.path_field, "path", true));
  if (!route.body) {
    // GET: the request's other string fields come from the query (by their JSON names).
    const Descriptor& input = *method.input_type();
    for (int i = 0; i < input.field_count(); ++i) {
      const FieldDescriptor& field = *input.field(i);
      if (field.name() == route.path_field || field.is_repeated() ||
          field.type() != FieldDescriptor::TYPE_STRING) {
        continue;
      }
      parameters.Add(Parameter(field.json_name(), "query", false));
    }
  }
  operation.Set("parameters", std::move(parameters));
  if (route.body) {
    Json& body = operation.Set("requestBody", Json::Object());
    body.Set("required", Json::Bool(false));
    body.Set("content", Content("application/json", schemas.MessageSchema(*method.input_type())));
  }
  Json responses = ErrorResponses(schemas);
  if (method.server_streaming()) {
    Json content = Content("application/x-ndjson", schemas.MessageSchema(*method.output_type()));
    if (method.output_type()->full_name() == "tradein.v1.ExportedClaim") {
      // `Accept: text/csv` (json_gateway.h, docs/portal.md).
      content.Set("text/csv", Json::Object()).Set("schema", Typed("string"));
    }
    responses.Set("200",
                  Response("One JSON object per line (NDJSON), at most 10,000 per response; call again "
                           "with the last resumeToken for the rest. The claims export answers CSV with "
                           "Chinese headings for Accept: text/csv (a cut answer names the last resume token "
                           "in the Tradein-Resume-Token header).",
                           std::move(content)));
  } else {
    responses.Set("200",
                  Response("OK", Content("application/json", schemas.MessageSchema(*method.output_type()))));
  }
  operation.Set("responses", std::move(responses));
  return operation;
}

// GET operations of the gateway's own paths: no credentials.
Json PlainGet(const char* operation_id, const char* summary, const char* media_type, SchemaWriter& schemas) {
  Json operation = Json::Object();
  operation.Set("tags", Json::Array()).Add(Json::String("Gateway"));
  operation.Set("summary", Json::String(summary));
  operation.Set("operationId", Json::String(operation_id));
  operation.Set("security", Json::Array());
  Json responses = ErrorResponses(schemas);
  Json object = Typed("object");
  object.Set("additionalProperties", Json::Bool(true));
  responses.Set("200", Response("OK", Content(media_type, std::move(object))));
  operation.Set("responses", std::move(responses));
  return operation;
}

}  // namespace

std::string OpenApiDocument(const RouteTable& routes) {
  Json document = Json::Object();
  document.Set("openapi", Json::String("3.0.3"));
  Json& info = document.Set("info", Json::Object());
  info.Set("title", Json::String("tradein-subsidy JSON gateway"));
  info.Set("description",
           Json::String("JSON over HTTP for the tradein.v1 gRPC API: the same methods, checks and errors. "
                        "Generated from the protos' google.api.http annotations."));
  info.Set("version", Json::String("v1"));
  Json& security = document.Set("security", Json::Array());
  security.Add(Json::Object()).Set("bearerKey", Json::Array());
  Json components = Json::Object();
  Json& schemes = components.Set("securitySchemes", Json::Object());
  Json& bearer = schemes.Set("bearerKey", Json::Object());
  bearer.Set("type", Json::String("http"));
  bearer.Set("scheme", Json::String("bearer"));
  bearer.Set("description", Json::String("The caller's key (see the README's callers file)."));
  Json& schemas_json = components.Set("schemas", Json::Object());
  SchemaWriter schemas(schemas_json);

  Json& paths = document.Set("paths", Json::Object());
  for (const Route& route : routes.routes()) {
    // Two methods may share one path item.
    paths.Member(route.path).Set(absl::AsciiStrToLower(route.http_method), Operation(route, schemas));
  }
  paths.Set("/healthz", Json::Object())
      .Set("get", PlainGet("Gateway_Healthz", "Liveness: the process answers", "application/json", schemas));
  paths.Set("/readyz", Json::Object())
      .Set("get", PlainGet("Gateway_Readyz", "Readiness: 200 while the server is SERVING, else 503",
                           "application/json", schemas));
  paths.Set("/v1/openapi.json", Json::Object())
      .Set("get", PlainGet("Gateway_OpenApi", "This document", "application/json", schemas));
  document.Set("components", std::move(components));

  std::string out;
  document.Write(out, 0);
  return out + "\n";
}

}  // namespace tradein::gateway
