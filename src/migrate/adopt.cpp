// Adopting another tool's history, and baselines. See adopt.hpp.
#include "migrate/adopt.hpp"

#include <cctype>
#include <map>
#include <set>

#include "migrate/lock.hpp"
#include "migrate/ops.hpp"
#include "migrate/store.hpp"
#include "migrate/version.hpp"
#include "pg/report.hpp"
#include "pg/scope.hpp"
#include "pg/spi.hpp"
#include "script/text.hpp"

namespace ms::migrate {

namespace {

// A timestamp column of the source as TimestampTz (microseconds since 2000-01-01 UTC); a
// `timestamp without time zone` is read in the session's time zone, as the tool wrote it.
std::string micros(const std::string& column) {
    return "((pg_catalog.date_part('epoch', (" + column +
           ")::pg_catalog.timestamptz) * 1000000)::pg_catalog.int8 - 946684800000000)";
}

// What a row of the source's table says about one version.
struct SourceRow {
    std::string version;
    std::optional<std::string> name;
    std::string state;  // applied, baseline, head, failed, undo, deleted, rolled back, dirty
                        // (stopped in the middle), repeatable, skip
    std::optional<int64> at;
    std::optional<std::string> by;
    std::optional<std::string> note;
};

struct Source {
    const char* name;
    const char* table;  // default table name, found in the caller's search_path
    // The query over the table (its name replaces {t}): version, name, state, time (see
    // micros()), user, note; in the tool's order.
    std::string (*query)(const std::string& t);
    bool split_name;  // versions are "<digits>_<name>" (node-pg-migrate, Prisma)
    const char* tool;
};

// The queries run as the caller, in the caller's search_path: operators are named with their
// schema, so that none of a schema the caller can write stands in for them.
#define EQ " OPERATOR(pg_catalog.=) "
#define LIKE " OPERATOR(pg_catalog.~~) "

std::string q_flyway(const std::string& t) {
    return "SELECT version::text, description::text, CASE WHEN type::text" EQ
           "'SCHEMA' THEN 'skip' WHEN version IS NULL THEN 'repeatable' WHEN NOT success THEN "
           "'failed' WHEN type::text" LIKE "'UNDO%' THEN 'undo' WHEN type::text" EQ
           "'DELETE' THEN 'deleted' WHEN type::text" LIKE
           "'%BASELINE' THEN 'baseline' ELSE 'applied' END, " +
           micros("installed_on") +
           ", installed_by::text, CASE WHEN type::text" LIKE "'UNDO%' THEN type::text END FROM " +
           t + " ORDER BY installed_rank";
}
std::string q_dbmate(const std::string& t) {
    return "SELECT version::text, NULL, 'applied', NULL::pg_catalog.int8, NULL, NULL FROM " + t +
           " ORDER BY version";
}
std::string q_golang(const std::string& t) {
    return "SELECT version::text, NULL, CASE WHEN dirty THEN 'dirty' ELSE 'baseline' END, "
           "NULL::pg_catalog.int8, NULL, NULL FROM " +
           t + " WHERE version OPERATOR(pg_catalog.>=) 0 OR dirty";
}
std::string q_sqlx(const std::string& t) {
    return "SELECT version::text, description::text, CASE WHEN success THEN 'applied' ELSE "
           "'dirty' END, " +
           micros("installed_on") + ", NULL, NULL FROM " + t + " ORDER BY version";
}
std::string q_diesel(const std::string& t) {
    return "SELECT version::text, NULL, 'applied', " + micros("run_on") + ", NULL, NULL FROM " + t +
           " ORDER BY version";
}
std::string q_alembic(const std::string& t) {
    return "SELECT version_num::text, NULL, 'head', NULL::pg_catalog.int8, NULL, NULL FROM " + t +
           " ORDER BY version_num";
}
std::string q_node(const std::string& t) {
    return "SELECT name::text, NULL, 'applied', " + micros("run_on") + ", NULL, NULL FROM " + t +
           " ORDER BY id";
}
std::string q_sqitch(const std::string& t) {
    return "SELECT change::text, change::text, 'applied', " + micros("committed_at") +
           ", committer_name::text, pg_catalog.concat('project ', project) FROM " + t +
           " ORDER BY committed_at, change_id";
}
std::string q_prisma(const std::string& t) {
    return "SELECT migration_name::text, NULL, CASE WHEN rolled_back_at IS NOT NULL THEN "
           "'rolled back' WHEN finished_at IS NULL THEN 'dirty' ELSE 'applied' END, " +
           micros("coalesce(finished_at, started_at)") +
           ", NULL, CASE WHEN finished_at IS NULL AND rolled_back_at IS NULL THEN "
           "pg_catalog.left(logs, 200) END FROM " +
           t + " ORDER BY started_at, id";
}

const Source kSources[] = {
    {"flyway", "flyway_schema_history", q_flyway, false, "Flyway"},
    {"dbmate", "schema_migrations", q_dbmate, false, "dbmate"},
    {"golang-migrate", "schema_migrations", q_golang, false, "golang-migrate"},
    {"sqlx", "_sqlx_migrations", q_sqlx, false, "sqlx"},
    {"diesel", "__diesel_schema_migrations", q_diesel, false, "diesel"},
    {"alembic", "alembic_version", q_alembic, false, "Alembic"},
    {"node-pg-migrate", "pgmigrations", q_node, true, "node-pg-migrate"},
    {"sqitch", "sqitch.changes", q_sqitch, false, "Sqitch"},
    {"prisma", "_prisma_migrations", q_prisma, true, "Prisma"},
};

const Source& find_source(const std::string& name) {
    std::string names;
    for (const auto& s : kSources) {
        if (name == s.name) return s;
        names += (names.empty() ? "" : ", ") + std::string(s.name);
    }
    throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "unknown source \"" + name + "\"",
                "migrate.adopt() reads the bookkeeping table of: " + names + ".",
                "Name the tool whose table holds the history, e.g. migrate.adopt('flyway').");
}

spi::Query q_has_dirty{
    "SELECT EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid OPERATOR(pg_catalog.=) "
    "pg_catalog.to_regclass($1) AND attname OPERATOR(pg_catalog.=) 'dirty' AND attnum "
    "OPERATOR(pg_catalog.>) 0 AND NOT attisdropped)::integer",
    1,
    {TEXTOID},
    nullptr};

spi::Query q_resolve{
    "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) "
    "FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace "
    "WHERE c.oid = pg_catalog.to_regclass($1)",
    1,
    {TEXTOID},
    nullptr};

// The table, qualified and quoted; resolved in the caller's search_path.
std::string resolve_table(const Source& s, const std::optional<std::string>& table_name) {
    std::string name = table_name.value_or(s.table);
    if (name.empty())
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "table_name must not be empty", "",
                    std::string("Leave it out to read ") + s.table + ".");
    spi::Params p;
    p.text(name);
    std::optional<std::string> found;
    try {
        if (spi::run(q_resolve, p.values(), p.nulls()) > 0) found = spi::get_text(0, 1);
        spi::release();
    } catch (const PgError& e) {
        if (e.data->sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE) throw;  // its own words
        throw Error(ERRCODE_INVALID_NAME, "\"" + name + "\" is not a table name",
                    e.data->message ? e.data->message : "");
    }
    if (!found)
        throw Error(ERRCODE_UNDEFINED_TABLE,
                    std::string(s.tool) + "'s table \"" + name + "\" does not exist",
                    "Looked for it in the search_path: " + std::string(guard([] {
                        return GetConfigOption("search_path", false, false);
                    })) +
                        ".",
                    "Name it with table_name => 'schema.table', or set search_path to its "
                    "schema.");
    // dbmate's and golang-migrate's tables share a name; golang-migrate's has a dirty flag,
    // which dbmate's reading would pass over.
    if (std::string(s.name) == "dbmate") {
        spi::Params q;
        q.text(*found);
        spi::run(q_has_dirty, q.values(), q.nulls());
        bool dirty = spi::get_int64(0, 1) != 0;
        spi::release();
        if (dirty)
            throw Error(ERRCODE_INVALID_TABLE_DEFINITION,
                        *found + " is golang-migrate's table, not dbmate's: it has a dirty column",
                        "Nothing was adopted.", "Adopt it with migrate.adopt('golang-migrate').");
    }
    return *found;
}

// Reads the source's rows as the caller (in a subtransaction, so that a table of another shape
// gives a clear error).
std::vector<SourceRow> read_source(const Source& s, const std::string& table) {
    std::vector<SourceRow> out;
    try {
        pg::in_subtransaction([&] {
            uint64 n = spi::read(s.query(table));
            for (uint64 i = 0; i < n; i++) {
                SourceRow r{spi::get_text(i, 1).value_or(""),
                            spi::get_text(i, 2),
                            *spi::get_text(i, 3),
                            std::nullopt,
                            spi::get_text(i, 5),
                            spi::get_text(i, 6)};
                if (!spi::is_null(i, 4)) r.at = spi::get_int64(i, 4);
                out.push_back(std::move(r));
            }
            spi::release();
        });
    } catch (const PgError& e) {
        // Only what says the table has another shape (a missing column, another type) is about
        // the source; a permission, a lock timeout, a cancel keep their own error.
        if (ERRCODE_TO_CATEGORY(e.data->sqlerrcode) !=
                ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION ||
            e.data->sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE)
            throw;
        std::string message = e.data->message ? e.data->message : "error";
        throw Error(ERRCODE_INVALID_TABLE_DEFINITION,
                    "cannot read " + table + " as " + s.tool + "'s table: " + message,
                    "migrate.adopt('" + std::string(s.name) + "') reads the columns " + s.tool +
                        " creates.",
                    "Check the source name, or name the right table with table_name =>.");
    }
    if (s.split_name)
        for (auto& r : out) {
            // "1700000000000_create-users": the version, then the name.
            size_t digits = 0;
            while (digits < r.version.size() && isdigit((unsigned char)r.version[digits])) digits++;
            if (digits > 0 && digits < r.version.size() && r.version[digits] == '_') {
                r.name = r.version.substr(digits + 1);
                r.version.resize(digits);
            }
        }
    for (const auto& r : out) {
        if (r.state == "repeatable" || r.state == "skip") continue;
        try {
            version::validate(r.version);
        } catch (const Error& e) {
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        table + " holds \"" + r.version +
                            "\", which cannot be a migration version: " + e.message,
                        "Nothing was adopted.");
        }
    }
    return out;
}

// What the source says at the end, per version (the last row of a version wins: a reworked
// Sqitch change, a Prisma migration rolled back and applied again, a Flyway undo).
struct Verdict {
    SourceRow row;
    bool applied = false;
    std::string why;  // why not applied
};

std::vector<Verdict> verdicts(const Source& s, const std::vector<SourceRow>& rows) {
    std::vector<Verdict> out;
    std::map<std::string, size_t> at;
    for (const auto& r : rows) {
        Verdict v{r, false, ""};
        if (r.state == "applied" || r.state == "baseline" || r.state == "head")
            v.applied = true;
        else if (r.state == "failed")
            v.why = "failed in " + std::string(s.tool) +
                    (r.note && !r.note->empty() ? ": " + *r.note : std::string());
        else if (r.state == "undo")
            v.why = "undone in " + std::string(s.tool) + (r.note ? " (" + *r.note + ")" : "");
        else if (r.state == "deleted")
            v.why =
                "marked deleted in Flyway (flyway repair: its file was missing); what it "
                "made may still be in the schema";
        else if (r.state == "dirty")
            v.why = "dirty";
        else if (r.state == "rolled back")
            v.why = "rolled back in " + std::string(s.tool);
        else if (r.state == "repeatable")
            v.why =
                "repeatable migration: register it with migrate.register_repeatable() "
                "(pg_migrate does, from R__ files); it runs with the next apply()";
        else
            continue;  // Flyway's schema-creation row
        std::string key = r.state == "repeatable" ? "R__" + r.name.value_or("") : r.version;
        auto it = at.find(key);
        if (it != at.end()) {
            Verdict& before = out[it->second];
            // A failed retry does not undo an earlier success of the same version.
            if (r.state == "failed" && before.applied) continue;
            before = v;
        } else {
            at[key] = out.size();
            out.push_back(v);
        }
    }
    // A tool stopped in the middle of a migration (its last word on a version): the schema may
    // hold part of it, so which versions are applied is not known.
    for (const auto& v : out) {
        if (v.why != "dirty") continue;
        const std::string& ver = v.row.version;
        std::string name(s.name), detail, hint, log;
        if (name == "sqlx") {
            detail = "Its row has success = false: sqlx calls it dirty and stops there.";
            hint = "Finish or undo migration " + ver +
                   " by hand, then delete its row (or set success = true once it is complete), "
                   "and adopt again.";
        } else if (name == "prisma") {
            detail = "It failed and is not resolved: Prisma stops there (P3009).";
            if (v.row.note) log = " Its log: " + script::rtrim(*v.row.note);
            hint =
                "Resolve it the Prisma way (prisma migrate resolve --applied or "
                "--rolled-back), then adopt again.";
        } else {
            detail = "Its table is marked dirty.";
            hint = "Finish or undo migration " + ver +
                   " by hand, clear the flag with `migrate force VERSION`, then adopt again.";
        }
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    std::string(s.tool) + " stopped in the middle of migration " + ver +
                        "; nothing was adopted",
                    detail + " The schema may hold part of it." + log, hint);
    }
    return out;
}

// Where a version new to the database goes: its natural place, or (a database ordered by the
// order keys of a client) the version itself as its key.
struct NewPlace {
    std::string place;
    std::optional<std::string> order_key;
};

NewPlace new_place(store::Store& db, const std::string& v) {
    NewPlace p;
    if (db.ordered_by_keys()) p.order_key = v;
    p.place = version::place(v, p.order_key);
    store::OrderCheck c = db.check_order(v, p.place);
    if (c.taken_by)
        throw Error(ERRCODE_UNIQUE_VIOLATION,
                    "version " + v + " would take the place of the known migration " + *c.taken_by,
                    "Nothing was adopted.");
    return p;
}

// Records the registered migrations at or before `place` as applied (below a baseline).
int adopt_below(store::Store& db, const std::string& place, const store::Adopted& base,
                std::vector<AdoptResult>* results) {
    int n = 0;
    for (const store::Row& r : db.pending_upto(place)) {
        store::Adopted a = base;
        a.version = r.version;
        a.name = r.name;
        db.adopt(a, "adopt", r, r.place(), r.order_key);
        n++;
        if (results)
            results->push_back({r.version, r.name, "adopted", base.at, base.by,
                                "registered, at or below " + base.version});
    }
    return n;
}

}  // namespace

using ops::Session;

std::vector<AdoptResult> adopt(const std::string& source,
                               const std::optional<std::string>& table_name) {
    NotNested nested("migrate.adopt");
    const Source& s = find_source(source);
    std::string by = pg::current_user_name();
    Session session;
    lock();
    std::string table = resolve_table(s, table_name);
    std::vector<Verdict> found = verdicts(s, read_source(s, table));
    TimestampTz now = pg::now();

    store::Store db;
    // Our history must not hold applied migrations the source does not record: the two would
    // disagree about the schema.
    std::set<std::string> applied_places;
    std::optional<std::string> upto;  // baseline semantics: everything up to it is applied
    for (const auto& v : found) {
        if (!v.applied) continue;
        std::optional<store::Row> known = db.find(v.row.version);
        std::string place = known ? known->place() : version::place(v.row.version, std::nullopt);
        applied_places.insert(known ? known->version : v.row.version);
        if (v.row.state != "applied" && (!upto || place > *upto)) upto = place;
    }
    std::vector<std::string> conflicts;
    for (const store::Row& r : db.in_schema())
        if (!applied_places.count(r.version) && !(upto && r.place() <= *upto))
            conflicts.push_back(r.version);
    if (!conflicts.empty()) {
        std::string list;
        for (const auto& c : conflicts) list += (list.empty() ? "" : ", ") + c;
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    std::to_string(conflicts.size()) +
                        (conflicts.size() == 1 ? " migration is" : " migrations are") +
                        " applied here but not recorded in " + table + "; nothing was adopted",
                    "Applied here only: " + list +
                        ". Adopting would record two histories that disagree about the schema.",
                    "Adopt into a database whose migrations all came from " + std::string(s.tool) +
                        ", or roll back the migrations applied here since.");
    }

    std::vector<AdoptResult> results;
    for (const auto& v : found) {
        AdoptResult res{v.row.version, v.row.name, "", v.row.at, v.row.by, std::nullopt};
        if (!v.applied) {
            res.result = "not applied";
            res.detail = v.why;
            if (v.row.state == "repeatable") res.version = "R__" + v.row.name.value_or("");
            results.push_back(res);
            continue;
        }
        std::optional<store::Row> known = db.find(v.row.version);
        if (known && !res.name) res.name = known->name;  // the source has no names (Alembic)
        if (known && known->state != "pending" && known->state != "rolled back") {
            res.result = "already applied";
            if (known->state != "applied")
                throw Error(
                    ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "migration " + known->version + " is " + known->state + "; nothing was adopted",
                    "", "CALL migrate.wait() lets its steps finish; adopt again then.");
            res.detail = known->adopted_from ? "adopted from " + *known->adopted_from
                                             : std::string("applied here");
            results.push_back(res);
            continue;
        }
        bool base = v.row.state != "applied";
        store::Adopted a{
            known ? known->version : v.row.version,
            v.row.name,
            v.row.at.value_or(now),
            v.row.by.value_or(by),
            s.name,
            "{\"source\": " + pg::json_string(s.name) + ", \"table\": " + pg::json_string(table) +
                ", \"adopted_by\": " + pg::json_string(by) +
                (v.row.note ? ", \"note\": " + pg::json_string(*v.row.note) : "") + "}"};
        NewPlace np;
        if (!known) np = new_place(db, v.row.version);
        db.adopt(a, base ? "baseline" : "adopt", known, known ? known->place() : np.place,
                 known ? known->order_key : np.order_key);
        res.version = a.version;
        res.result = "adopted";
        res.applied_at = a.at;
        res.applied_by = a.by;
        res.detail = known ? "registered; its scripts are kept" : "no script attached yet";
        if (base) res.detail = *res.detail + "; the migrations before it count as applied";
        results.push_back(res);
    }
    // Below a baseline (golang-migrate's version, Alembic's heads, Flyway's baseline): every
    // registered migration up to it is applied too.
    if (upto) {
        store::Adopted base{"",
                            std::nullopt,
                            now,
                            by,
                            s.name,
                            "{\"source\": " + pg::json_string(s.name) + ", \"table\": " +
                                pg::json_string(table) + ", \"below_baseline\": true}"};
        for (const auto& v : found)
            if (v.applied && v.row.state != "applied") base.version = v.row.version;
        adopt_below(db, *upto, base, &results);
    }
    db.close();
    int adopted = 0, skipped = 0;
    for (const auto& r : results) {
        if (r.result == "adopted") adopted++;
        if (r.result == "not applied") skipped++;
    }
    pg::notice("adopted " + std::to_string(adopted) +
                   (adopted == 1 ? " migration" : " migrations") + " from " + table +
                   "; nothing ran",
               skipped ? std::to_string(skipped) + " of its rows " + (skipped == 1 ? "is" : "are") +
                             " not applied (see the result)."
                       : std::string());
    session.finish();
    return results;
}

int apply_baseline_to_pending(const std::string& by) {
    store::Store db;
    int n = 0;
    if (std::optional<std::string> base = db.baseline_place())
        n = adopt_below(db, *base,
                        store::Adopted{"", std::nullopt, pg::now(), by, "baseline",
                                       "{\"below_baseline\": true}"},
                        nullptr);
    db.close();
    return n;
}

int baseline(const std::string& v, const std::optional<std::string>& name) {
    NotNested nested("migrate.baseline");
    version::validate(v);
    if (name) version::validate_name(*name);
    std::string by = pg::current_user_name();
    Session session;
    lock();
    store::Store db;
    std::optional<store::Row> known = db.find(v);
    if (known && known->version != v)
        throw Error(
            ERRCODE_UNIQUE_VIOLATION,
            "baseline version " + v + " is equivalent to the known version " + known->version, "",
            "Use the version exactly as it is known: " + known->version + ".");
    std::string place = known ? known->place() : std::string();
    // A newer migration applied here would be below nothing: a baseline goes first.
    std::optional<store::Newest> newest = db.newest_applied();
    NewPlace np;
    if (!known) {
        np = new_place(db, v);
        place = np.place;
    }
    if (newest && newest->place > place)
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "migration " + newest->version + " is applied and newer than the baseline " + v,
                    "A baseline says the schema is at " + v +
                        "; a newer migration applied here says otherwise. Nothing changed.",
                    "Choose a baseline at or after " + newest->version + ".");
    store::Adopted a{v,  name,       pg::now(),
                     by, "baseline", "{\"baseline\": " + pg::json_string(v) + "}"};
    int n = 0;
    if (!known || known->state == "pending" || known->state == "rolled back") {
        db.adopt(a, "baseline", known, place, known ? known->order_key : np.order_key);
        if (known) n++;
    } else {
        // Already applied: the baseline is recorded (registered versions below it count as
        // applied from now on) without changing it.
        db.baseline_mark(a, *known);
    }
    n += adopt_below(db, place, a, nullptr);
    db.close();
    pg::notice("baseline " + v + ": " + std::to_string(n) +
                   (n == 1 ? " registered migration" : " registered migrations") +
                   " marked applied without running",
               "Migrations registered later at or below " + v + " count as applied too.");
    session.finish();
    return n;
}

}  // namespace ms::migrate
