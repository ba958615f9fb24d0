#!/bin/sh
# Compose entry point of the redis service (deploy/compose.yaml), run as root in the official redis image:
# renders the ACL file from the compose secrets into /run/redis, then hands over to the image's entry point,
# which drops to the redis user and starts redis-server with deploy/redis/redis.conf.
set -eu
mkdir -p /run/redis
/usr/local/etc/redis/render-acl.sh /run/secrets/redis_password /run/secrets/redis_admin_password \
  /run/redis/users.acl
chown -R redis:redis /run/redis
# The compose network is private and no port is published, so listen on the container's interfaces.
exec docker-entrypoint.sh redis-server /usr/local/etc/redis/redis.conf --bind 0.0.0.0 -::*
