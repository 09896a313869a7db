#!/usr/bin/env bash
# Creates one customer's Docker secrets for deploy/swarm/stack.yml:
#
#   deploy/swarm/create-secrets.sh <customer> [smtp-password-file]
#
# Run on a Swarm manager. Every value is generated here and piped straight into
# `docker secret create` (nothing is written to disk except the internal CA's working files
# in a private temporary directory, removed on exit). Existing secrets are left alone: a
# Docker secret cannot be changed, rotation is a new secret name + `docker service update
# --secret-rm/--secret-add` (see deploy/swarm/README.md).
#
# FLUXEL_SECRETS_OUT=<dir>: write the values as files into <dir> instead of calling docker
# (for inspection and for the checker's test; never point it at a shared disk).
set -euo pipefail

customer="${1:?usage: create-secrets.sh <customer> [smtp-password-file]}"
smtp_file="${2:-}"
if ! [[ "$customer" =~ ^[a-z][a-z0-9]{0,30}$ ]]; then
  echo "customer id: lower-case letters and digits, starting with a letter" >&2
  exit 2
fi
umask 077
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

put() { # put <name> — value on stdin
  local name="${customer}_$1"
  if [[ -n "${FLUXEL_SECRETS_OUT:-}" ]]; then
    mkdir -p "$FLUXEL_SECRETS_OUT"
    cat >"$FLUXEL_SECRETS_OUT/$name"
  elif docker secret inspect "$name" >/dev/null 2>&1; then
    cat >/dev/null
    echo "exists, kept: $name"
  else
    docker secret create --label "fluxel.customer=$customer" "$name" - >/dev/null
    echo "created: $name"
  fi
}
rand() { openssl rand -base64 "$1" | tr -d '\n'; }
token() { openssl rand -base64 48 | tr '+/' '-_' | tr -d '=\n'; }

# KEKs: the key-file format of @fluxel/crypto/node (fluxel-kek-v1:<base64url of 32 bytes>).
kek() { printf 'fluxel-kek-v1:%s\n' "$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n')"; }
kek | put relay_kek
kek | put portal_kek

# The relay's secrets.json (license pepper, DPoP nonce secret, token signing key, audit seed),
# in the shape examples/relay/src/secrets.ts reads.
node -e '
const { generateKeyPairSync, randomBytes } = require("node:crypto");
const jwk = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" });
const b64 = () => randomBytes(32).toString("base64");
process.stdout.write(JSON.stringify({
  pepper: b64(), nonceSecret: b64(),
  tokenKey: { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d },
  auditSeed: b64(),
}) + "\n");
' | put relay_secrets_json

# The portal's pepper, audit seed and audit pseudonym key (base64 of 32 bytes each).
for name in portal_pepper portal_audit_seed portal_audit_pseudonym; do
  printf '%s\n' "$(rand 32)" | put "$name"
done

# Bearer tokens (≥ 32 characters) shared by the customer's relay and portal.
token | put relay_admin_token
token | put relay_portal_token

# Database and Redis passwords (URL-safe, so they can sit in a URL unescaped).
relay_db="$(token)"; portal_db="$(token)"; pg_admin="$(token)"; redis_pw="$(token)"
printf '%s' "$relay_db" | put relay_db_password
printf '%s' "$portal_db" | put portal_db_password
printf '%s' "$pg_admin" | put postgres_password
# The standby's streaming-replication role (`replicator`, 10-fluxel-roles.sh).
token | put postgres_replication_password
printf 'include /usr/local/etc/redis/base.conf\nrequirepass %s\n' "$redis_pw" | put redis_conf
printf 'rediss://default:%s@redis-%s:6379/0' "$redis_pw" "$customer" | put relay_redis_url

# The customer's internal CA and the certificate the relay and portal serve inside the Swarm
# (names: the services, and localhost / 127.0.0.1 for the healthcheck and the portal's
# forwarder). The CA key never leaves this script: issue a new one to rotate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
  -subj "/CN=Fluxel internal CA ${customer}" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=relay-${customer}" -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:relay-%s,DNS:portal-%s,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n' \
  "$customer" "$customer" >"$work/server.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
  -CAcreateserial -days 397 -extfile "$work/server.ext" -out "$work/server.pem" 2>/dev/null
put internal_ca <"$work/ca.pem"
put relay_tls_cert <"$work/server.pem"
put relay_tls_key <"$work/server.key"

# The data stores' certificate, from the same CA: PostgreSQL (primary and standby) and Redis
# speak TLS only; the apps verify the name (sslmode=verify-full, rediss://) against the CA.
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=postgres-${customer}" -keyout "$work/db.key" -out "$work/db.csr" 2>/dev/null
printf 'subjectAltName=DNS:postgres-%s,DNS:postgres-%s-standby,DNS:redis-%s,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n' \
  "$customer" "$customer" "$customer" >"$work/db.ext"
openssl x509 -req -in "$work/db.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
  -CAcreateserial -days 397 -extfile "$work/db.ext" -out "$work/db.pem" 2>/dev/null
put db_tls_cert <"$work/db.pem"
put db_tls_key <"$work/db.key"

if [[ -n "$smtp_file" ]]; then
  put smtp_password <"$smtp_file"
else
  echo "note: ${customer}_smtp_password not created (pass the SMTP password file as 2nd argument)" >&2
fi
