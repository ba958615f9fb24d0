#!/bin/sh
# Compose entry point of the redis services (deploy/compose.yaml, deploy/compose.cluster.yaml), run as root in
# the official redis image: renders the ACL file from the compose secrets into /run/redis, then hands over to
# the image's entry point, which drops to the redis user and starts redis-server with deploy/redis/redis.conf,
# or with --cluster deploy/redis/redis-cluster.conf (after writing the replication credentials it includes).
set -eu
config=/usr/local/etc/redis/redis.conf
mkdir -p /run/redis
/usr/local/etc/redis/render-acl.sh /run/secrets/redis_password /run/secrets/redis_admin_password \
  /run/redis/users.acl
if [ "${1:-}" = "--cluster" ]; then
  config=/usr/local/etc/redis/redis-cluster.conf
  umask 077
  printf 'masteruser admin\nmasterauth "%s"\n' "$(cat /run/secrets/redis_admin_password)" \
    > /run/redis/replication.conf
fi
chown -R redis:redis /run/redis
# The compose network is private and no port is published, so listen on the container's interfaces; the AOF
# (and a cluster node's nodes.conf) go to the /data volume.
exec docker-entrypoint.sh redis-server "$config" --dir /data --bind 0.0.0.0 -::*
