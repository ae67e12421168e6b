#!/bin/sh
# docker-compose.yml (temporal-setup): create the FarmIQ namespaces and register the custom search
# attributes from search-attributes.txt on a Temporal cluster. Idempotent. POSIX sh (admin-tools image).
set -eu
address="${TEMPORAL_ADDRESS:-temporal:7233}"
list="${SEARCH_ATTRIBUTES_FILE:-/etc/farmiq/search-attributes.txt}"
for i in $(seq 1 60); do
  temporal operator cluster health --address "$address" >/dev/null 2>&1 && break
  echo "waiting for Temporal at $address ($i)"; sleep 2
done
for ns in ${TEMPORAL_NAMESPACES:-farmiq-edge farmiq-cloud}; do
  temporal operator namespace describe --address "$address" -n "$ns" >/dev/null 2>&1 \
    || temporal operator namespace create --address "$address" -n "$ns" --retention 30d
  grep -v '^#' "$list" | while read -r name type; do
    [ -n "$name" ] || continue
    temporal operator search-attribute create --address "$address" --namespace "$ns" --name "$name" --type "$type" >/dev/null 2>&1 \
      || temporal operator search-attribute list --address "$address" --namespace "$ns" | grep -q "$name" \
      || { echo "could not register $name on $ns" >&2; exit 1; }
  done
  echo "namespace $ns: search attributes registered"
done
