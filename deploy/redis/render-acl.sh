#!/bin/sh
# Renders the Redis ACL file (users.acl.template next to this script) with SHA-256 hashes of the passwords, so
# no clear-text password is ever written to disk. The rules of each user are documented in redis.conf.
#
#   render-acl.sh TRADEIN_PASSWORD_FILE ADMIN_PASSWORD_FILE OUTPUT
#
# A password file holds the password (one trailing newline is ignored); generate one with
# `openssl rand -hex 24`. The same tradein password goes into the server's URL:
# TRADEIN_REDIS=redis://tradein:<password>@<host>:6379. POSIX sh and coreutils only (runs in the redis image).
set -eu
if [ "$#" -ne 3 ]; then
  echo "usage: $0 TRADEIN_PASSWORD_FILE ADMIN_PASSWORD_FILE OUTPUT" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
template="${TRADEIN_ACL_TEMPLATE:-$here/users.acl.template}"

hash_of() {
  # $(...) drops trailing newlines; printf '%s' hashes exactly the password.
  password=$(cat "$1")
  if [ "${#password}" -lt 16 ]; then
    echo "$0: $1: password shorter than 16 characters" >&2
    exit 1
  fi
  printf '%s' "$password" | sha256sum | cut -d' ' -f1
}

tradein_hash=$(hash_of "$1")
admin_hash=$(hash_of "$2")
umask 077
sed -e "s/@TRADEIN_PASSWORD_SHA256@/$tradein_hash/" -e "s/@ADMIN_PASSWORD_SHA256@/$admin_hash/" \
  "$template" > "$3.tmp"
mv "$3.tmp" "$3"
