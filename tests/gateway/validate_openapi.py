#!/usr/bin/env python3
"""Validates an OpenAPI document against the OpenAPI 3.0 JSON Schema of Debian's openapi-specification
package (with python3-jsonschema), then prints one "METHOD PATH" line per operation for the caller to try.

  validate_openapi.py openapi.json    exit 0: valid; 1: the schema's errors on stderr; 2: usage or files
"""
import json
import sys

import jsonschema

SCHEMA = "/usr/share/openapi-specification/schemas/v3.0/schema.json"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(SCHEMA, encoding="utf-8") as f:
            schema = json.load(f)
        with open(argv[1], encoding="utf-8") as f:
            document = json.load(f)
    except (OSError, ValueError) as error:
        print(f"validate_openapi: {error}", file=sys.stderr)
        return 2
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    for error in errors:
        where = "/".join(str(p) for p in error.absolute_path)
        print(f"{argv[1]}: /{where}: {error.message[:300]}", file=sys.stderr)
    if errors:
        return 1
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                print(method.upper(), path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
