#!/bin/sh
# Runs once, when the customer's PostgreSQL data volume is empty (docker-entrypoint-initdb.d).
# One login role and one database per app: the relay owns database "relay", the portal owns
# database "portal"; neither can connect to the other's (the portal never touches the
# relay's data, as the design requires). With the replication password mounted, the role
# `replicator` (streaming replication only) for the customer's standby. Passwords come from the
# mounted Docker secrets and are read by psql itself (\set with backticks), so they never
# appear on a command line.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
\set relay_pw `cat /run/secrets/relay_db_password`
\set portal_pw `cat /run/secrets/portal_db_password`
CREATE ROLE relay LOGIN PASSWORD :'relay_pw';
CREATE ROLE portal LOGIN PASSWORD :'portal_pw';
CREATE DATABASE relay OWNER relay;
CREATE DATABASE portal OWNER portal;
REVOKE ALL ON DATABASE relay FROM PUBLIC;
REVOKE ALL ON DATABASE portal FROM PUBLIC;
GRANT CONNECT ON DATABASE relay TO relay;
GRANT CONNECT ON DATABASE portal TO portal;
SQL
if [ -r /run/secrets/replication_password ]; then
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
\set replication_pw `cat /run/secrets/replication_password`
CREATE ROLE replicator REPLICATION LOGIN PASSWORD :'replication_pw';
SQL
fi
