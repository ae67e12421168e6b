-- docker-compose.yml: the postgres image creates the farmiq role (POSTGRES_USER) and runs this once
-- on an empty data volume. The local stack creates the same databases in scripts/services.sh.
CREATE DATABASE farmiq_edge OWNER farmiq;
CREATE DATABASE farmiq_cloud OWNER farmiq;
