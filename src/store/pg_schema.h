// The PostgreSQL schema as one ordered list of versioned migrations, recorded in the
// schema_migrations table (one row per version applied).
#pragma once
#include <pqxx/pqxx>

namespace pastiche {

constexpr int kPgSchemaVersion = 9;

// Applies each migration above the database's version, up to `target`, in one transaction
// under pg_advisory_xact_lock: processes starting together wait for each other and apply each
// step once. Throws on failure (nothing is applied then).
void migrate_postgres(pqxx::connection& conn, int target = kPgSchemaVersion);
int postgres_schema_version(pqxx::connection& conn);  // 0 for an empty database

}  // namespace pastiche
