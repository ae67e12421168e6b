# The compose broker: eclipse-mosquitto with FarmIQ's subscribe guard plugin
# (infra/mosquitto/subscribe-guard/: refuses every SUBSCRIBE but the bridge user's). Build context:
# the repository root (mosquitto.Dockerfile.dockerignore beside this file keeps it to the
# plugin's source). The rendered mosquitto.conf (broker-config service) loads the plugin from
# /usr/lib/farmiq/subscribe_guard.so; passwd and acl stay in the config volume, reloaded on SIGHUP.

# Same Alpine (musl) as eclipse-mosquitto:2.0.18's own base, so the .so loads into its broker.
# Alpine's mosquitto-dev has the Mosquitto 2.0 plugin headers; the plugin interface (v5) is the
# same across 2.0.x, and the .so links to nothing but libc (the broker provides the rest).
FROM alpine:3.18 AS subscribe-guard
RUN apk add --no-cache build-base mosquitto-dev
COPY infra/mosquitto/subscribe-guard/ /src/
RUN make -C /src OUT=/out/subscribe_guard.so

FROM eclipse-mosquitto:2.0.18
COPY --from=subscribe-guard /out/subscribe_guard.so /usr/lib/farmiq/subscribe_guard.so
