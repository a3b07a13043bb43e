// The catalog snapshot: a canonical, deterministic description of the schema a migration can
// own, read from PostgreSQL's catalogs (and its own pg_get_*def deparsers), never from pg_dump.
// verify() compares snapshots taken around an up and a down script, plan() and schema() use
// them too (src/migrate/verify.cpp, plan.cpp).
//
// What it holds: schemas; tables, partitions, views, materialized views, sequences, foreign
// tables and composite types; columns; constraints (of tables and domains); indexes; triggers;
// rules; policies and row-level security; functions, procedures and aggregates; enum, range and
// base types and domains; extensions; extended statistics; default privileges; the comment,
// owner and privileges of each. What it leaves out: OIDs, statistics, sizes, sequence values,
// the objects of extensions (their extension stands for them) and this extension's own schema.
//
// Objects are keyed by kind and qualified name ("table public.users", "column
// public.users.email", "constraint public.users.users_email_key"). A constraint or index whose
// name PostgreSQL chose itself (<table>_..._pkey, _key, _fkey, _check, _excl, _idx) with a
// number appended to make it unique ("users_email_key1") is keyed as if it had none, so that
// an object the down script recreates compares equal to the one it replaced when it is the
// same. Every property is text; a property that does not apply (or has PostgreSQL's default)
// is absent.
#pragma once

#include <map>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

// SQL: the namespace alias `n` is one of the user's (plan.cpp shares it).
// A namespace of the user's: not a system one, not a temporary one, not this extension's.
#define MS_USER_NAMESPACE(n)                                                            \
    "(" n ".nspname NOT IN ('pg_catalog', 'information_schema') AND " n                 \
    ".nspname NOT LIKE 'pg\\_toast%' AND " n ".nspname NOT LIKE 'pg\\_temp\\_%' AND " n \
    ".oid <> (SELECT e.extnamespace FROM pg_extension e WHERE e.extname = 'migrations_schema'))"

namespace ms::snapshot {

struct Object {
    std::string parent;                        // key of the object it belongs to, or ""
    std::map<std::string, std::string> props;  // property -> value
};

// Key ("kind qualified.name") -> object, in key order.
using Snapshot = std::map<std::string, Object>;

// Reads the catalogs of the current database as the current role, with its own search_path
// pinned (names come out schema-qualified). Needs an SPI connection.
Snapshot take();

// A snapshot that verify() can bring up to date after a script without reading everything
// again (incremental.cpp; docs/performance.md). `relations` maps the OID of each relation in
// the snapshot to its key, and `bases` holds the bases of every generated name with a number
// appended seen so far; both are empty and unused when incremental snapshots are off.
struct Tracked {
    Snapshot objects;
    std::map<std::uint32_t, std::string> relations;
    std::set<std::string> bases;
    bool incremental = false;
};

// What the catalogs were before a script: the next transaction id, the transaction's write
// counters of every catalog, and the settings that change how the snapshot's text is written.
struct Mark {
    std::uint32_t next_xid = 0;
    std::vector<std::int64_t> writes;
    std::string settings;
    bool valid = false;
};

// A full read (take()), with what refresh() needs when migrations_schema.snapshot_incremental
// is on. Needs an SPI connection.
Tracked take_tracked();
// Before a script: what refresh() compares with.
Mark mark();
// After a script run since `since` (in a subtransaction begun after the mark): `before` with
// the relations the script wrote read again, or a full read when that cannot be sure. The
// objects are the same as take()'s.
Tracked refresh(const Tracked& before, const Mark& since);
// Defines migrations_schema.snapshot_incremental (from _PG_init).
void define_settings();

struct Difference {
    std::string object;    // the key
    std::string property;  // "exists" when the object is only on one side
    std::optional<std::string> before, after;
};

// What differs from `before` to `after`, by object and property.
std::vector<Difference> compare(const Snapshot& before, const Snapshot& after);

// The differences as a jsonb array text: [{"object", "property", "before", "after"}, ...];
// for "exists", before and after are true/false.
std::string differences_json(const std::vector<Difference>& diffs);
// The same elements appended to `out` (", " between them, no brackets), each with a first
// member "check": `check` when it is not null.
void append_json(std::string& out, const std::vector<Difference>& diffs, const char* check);

// The snapshot as readable, deterministic DDL-like text (migrate.schema()).
std::string render(const Snapshot& s);

}  // namespace ms::snapshot
