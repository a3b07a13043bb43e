// The rule registry: every lint rule and guard, with its id, name, family and summary. What
// migrate.lint_rules() lists, what findings carry and what overrides may name. Pure C++.
#include "common/pure.hpp"

#include "lint/registry.hpp"

#include <cctype>

namespace ms::lint {

const std::vector<Rule>& rules() noexcept {
    static const std::vector<Rule> all = {
        {"R101", "add-column-volatile-default", "rewrite",
         "ADD COLUMN with a volatile default (per pg_proc) rewrites the table"},
        {"R102", "add-column-stored-generated", "rewrite",
         "ADD COLUMN ... GENERATED ALWAYS AS (...) STORED computes every row"},
        {"R103", "add-column-serial-or-identity", "rewrite",
         "ADD COLUMN serial / identity fills every row"},
        {"R104", "alter-column-type-rewrite", "rewrite",
         "ALTER COLUMN TYPE that is not binary coercible from the column's actual type"},
        {"R106", "set-not-null-scan", "rewrite",
         "SET NOT NULL scans the table unless a validated CHECK (col IS NOT NULL) proves it"},
        {"R107", "add-required-column", "rewrite",
         "ADD COLUMN NOT NULL without a default fails on a table with rows"},
        {"R108", "table-rewrite-option", "rewrite",
         "SET LOGGED / UNLOGGED / TABLESPACE / ACCESS METHOD rewrites or copies the table"},
        {"R109", "vacuum-full-rewrite", "rewrite", "VACUUM FULL rewrites tables"},
        {"R109", "cluster-rewrite", "rewrite", "CLUSTER rewrites the table"},
        {"R110", "large-table-rewrite", "guard",
         "a table larger than migrations_schema.max_rewrite_size is about to be rewritten "
         "(checked while the migration runs)"},
        {"C201", "check-without-not-valid", "constraint", "ADD CHECK without NOT VALID scans"},
        {"C202", "foreign-key-without-not-valid", "constraint",
         "ADD FOREIGN KEY without NOT VALID scans and blocks writes to both tables"},
        {"C203", "validate-in-same-transaction", "constraint",
         "VALIDATE CONSTRAINT in the migration that added it NOT VALID"},
        {"C204", "unique-constraint-builds-index", "constraint",
         "ADD UNIQUE builds its index under ACCESS EXCLUSIVE"},
        {"C205", "primary-key-builds-index", "constraint",
         "ADD PRIMARY KEY builds its index under ACCESS EXCLUSIVE"},
        {"C207", "exclusion-constraint", "constraint",
         "ADD EXCLUDE builds its index under ACCESS EXCLUSIVE"},
        {"C208", "domain-check-constraint", "constraint",
         "CHECK on a domain is checked against every column of the domain"},
        {"I301", "create-index-not-concurrent", "index", "CREATE INDEX without CONCURRENTLY"},
        {"I302", "drop-index-not-concurrent", "index", "DROP INDEX without CONCURRENTLY"},
        {"I303", "concurrently-in-transaction", "index",
         "CONCURRENTLY (and VACUUM) inside the script's own BEGIN ... COMMIT block"},
        {"I305", "reindex-not-concurrent", "index", "REINDEX without CONCURRENTLY"},
        {"I306", "foreign-key-without-index", "index",
         "foreign key columns without an index (looked up in pg_index)"},
        {"B401", "drop-column", "breaking",
         "DROP COLUMN breaks readers (an error when the column holds values)"},
        {"B402", "drop-table", "breaking", "DROP TABLE (an error when the table holds rows)"},
        {"B402", "drop-schema", "breaking", "DROP SCHEMA (an error with CASCADE)"},
        {"B403", "rename-column", "breaking", "RENAME COLUMN breaks running code"},
        {"B404", "rename-table", "breaking", "RENAME TABLE breaks running code"},
        {"B404", "rename-schema", "breaking", "RENAME SCHEMA breaks running code"},
        {"B405", "drop-not-null", "breaking", "DROP NOT NULL on an existing column"},
        {"B406", "truncate", "breaking", "TRUNCATE removes every row under ACCESS EXCLUSIVE"},
        {"B406", "truncate-cascade", "breaking", "TRUNCATE ... CASCADE empties referencing tables"},
        {"B407", "rename-enum-value", "breaking", "ALTER TYPE ... RENAME VALUE"},
        {"B408", "drop-constraint", "breaking", "DROP CONSTRAINT on an existing table"},
        {"T501", "require-lock-timeout", "transaction",
         "strong lock with no lock_timeout (migrate.lint only: apply bounds every lock wait)"},
        {"T504", "multiple-alters-of-one-table", "transaction",
         "several ALTER TABLE statements on one existing table"},
        {"T505", "backfill-in-ddl-transaction", "transaction",
         "UPDATE / DELETE without WHERE in a migration with DDL"},
        {"P601", "detach-partition-blocking", "partition", "DETACH PARTITION without CONCURRENTLY"},
        {"P602", "attach-partition-scan", "partition", "ATTACH PARTITION scans the partition"},
        {"P603", "refresh-matview-blocking", "partition",
         "REFRESH MATERIALIZED VIEW without CONCURRENTLY"},
        {"Y701", "prefer-jsonb", "type", "json column"},
        {"Y702", "prefer-bigint-key", "type", "32-bit (or smaller) integer key"},
        {"Y703", "prefer-text", "type", "varchar(n) or char(n) column"},
        {"Y704", "prefer-timestamptz", "type", "timestamp without time zone column"},
        {"Y705", "identifier-too-long", "type", "identifier longer than 63 bytes"},
        {"O801", "foreign-key-without-on-delete", "convention",
         "opt-in fk_on_delete: foreign key without an explicit ON DELETE"},
        {"O802", "tenant-table-without-rls", "convention",
         "opt-in tenant_rls: table with tenant_id and no row-level security"},
        {"O803", "table-without-primary-key", "convention",
         "opt-in require_primary_key: table without a primary key"},
    };
    return all;
}

namespace {

std::string upper(std::string_view s) {
    std::string out;
    for (char ch : s) out += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return out;
}

// Names compare in lower case with '_' as '-'.
std::string name_key(std::string_view s) {
    std::string out;
    for (char ch : s)
        out += ch == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

}  // namespace

std::optional<RuleRef> resolve(std::string_view token) {
    std::string id = upper(token), name = name_key(token);
    for (const auto& r : rules()) {
        if (id == r.id) return RuleRef{id, true};
        if (name == r.name) return RuleRef{name, false};
    }
    return std::nullopt;
}

bool allows(const RuleRef& ref, std::string_view rule_id, std::string_view rule_name) {
    return ref.key == (ref.by_id ? rule_id : rule_name);
}

std::string family_of(std::string_view rule_id) {
    for (const auto& r : rules())
        if (rule_id == r.id) return r.family;
    return {};
}

}  // namespace ms::lint
