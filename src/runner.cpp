#include "runner.hpp"

#include <chrono>
#include <cmath>

#include "audit.hpp"
#include "boundary.hpp"
#include "checksum.hpp"
#include "locks.hpp"
#include "safety.hpp"
#include "script.hpp"
#include "spi.hpp"
#include "version.hpp"

namespace ms::runner {

namespace {

// ---- bookkeeping queries (schema-qualified; they run with search_path pinned) ----

spi::Query q_find{
    "SELECT version, state, checksum, down_sql, name FROM migrate.migrations WHERE sort_key = $1",
    1,
    {BYTEAOID},
    nullptr};
spi::Query q_newest_applied{
    "SELECT version FROM migrate.migrations WHERE state = 'applied' ORDER BY sort_key DESC LIMIT 1",
    0,
    {},
    nullptr};
spi::Query q_history{
    "INSERT INTO migrate.history (version, name, action, checksum, performed_at, performed_by, "
    "duration_ms, statements, out_of_order, findings, overrides) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::pg_catalog.jsonb, $11::pg_catalog.jsonb) "
    "RETURNING id",
    11,
    {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, FLOAT8OID, INT4OID, BOOLOID,
     TEXTOID, TEXTOID},
    nullptr};
spi::Query q_save_applied{
    "INSERT INTO migrate.migrations AS m (version, sort_key, name, up_sql, down_sql, checksum, "
    "state, applied_seq, applied_at, applied_by, duration_ms, statements, out_of_order, "
    "findings, overrides) "
    "VALUES ($1, $2, $3, $4, $5, $6, 'applied', $7, $8, $9, $10, $11, $12, "
    "$13::pg_catalog.jsonb, $14::pg_catalog.jsonb) "
    "ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, up_sql = EXCLUDED.up_sql, "
    "down_sql = EXCLUDED.down_sql, checksum = EXCLUDED.checksum, state = 'applied', "
    "applied_seq = EXCLUDED.applied_seq, applied_at = EXCLUDED.applied_at, "
    "applied_by = EXCLUDED.applied_by, duration_ms = EXCLUDED.duration_ms, "
    "statements = EXCLUDED.statements, out_of_order = EXCLUDED.out_of_order, "
    "findings = EXCLUDED.findings, overrides = EXCLUDED.overrides",
    14,
    {TEXTOID, BYTEAOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID, TEXTOID,
     FLOAT8OID, INT4OID, BOOLOID, TEXTOID, TEXTOID},
    nullptr};
spi::Query q_mark_applied{
    "UPDATE migrate.migrations SET state = 'applied', applied_seq = $2, applied_at = $3, "
    "applied_by = $4, duration_ms = $5, statements = $6, out_of_order = $7, "
    "findings = $8::pg_catalog.jsonb, overrides = $9::pg_catalog.jsonb WHERE version = $1",
    9,
    {TEXTOID, INT8OID, TIMESTAMPTZOID, TEXTOID, FLOAT8OID, INT4OID, BOOLOID, TEXTOID, TEXTOID},
    nullptr};
spi::Query q_register{
    "INSERT INTO migrate.migrations (version, sort_key, name, up_sql, down_sql, checksum, state) "
    "VALUES ($1, $2, $3, $4, $5, $6, 'pending') "
    "ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, up_sql = EXCLUDED.up_sql, "
    "down_sql = EXCLUDED.down_sql, checksum = EXCLUDED.checksum, registered_at = now()",
    6,
    {TEXTOID, BYTEAOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID},
    nullptr};
spi::Query q_update_details{
    "UPDATE migrate.migrations SET down_sql = $2, name = $3 WHERE version = $1",
    3,
    {TEXTOID, TEXTOID, TEXTOID},
    nullptr};
// Pending migrations in version order, up to sort key $1 when it is not NULL.
spi::Query q_pending{
    "SELECT version, name, up_sql, down_sql, checksum FROM migrate.migrations "
    "WHERE state <> 'applied' AND ($1 IS NULL OR sort_key <= $1) ORDER BY sort_key",
    1,
    {BYTEAOID},
    nullptr};
// Rollback candidates, newest applied first: the newest $1 of them, or all above sort key $1.
spi::Query q_applied_newest_first{
    "SELECT version, state, checksum, down_sql, name FROM migrate.migrations "
    "WHERE state = 'applied' ORDER BY applied_seq DESC LIMIT $1",
    1,
    {INT4OID},
    nullptr};
spi::Query q_applied_above{
    "SELECT version, state, checksum, down_sql, name FROM migrate.migrations "
    "WHERE state = 'applied' AND sort_key > $1 ORDER BY applied_seq DESC",
    1,
    {BYTEAOID},
    nullptr};
spi::Query q_mark_rolled_back{
    "UPDATE migrate.migrations SET state = 'rolled back', applied_seq = NULL, applied_at = NULL, "
    "applied_by = NULL, duration_ms = NULL, statements = NULL, out_of_order = false, "
    "findings = NULL, overrides = NULL WHERE version = $1",
    1,
    {TEXTOID},
    nullptr};

// ---- helpers ----

// The migrate functions change the schema and their own tables; running one from inside a
// migration would interleave two migrations. Refuse it.
int depth = 0;
class NotNested {
  public:
    explicit NotNested(const char* function) {
        if (depth > 0)
            throw Error(ERRCODE_FEATURE_NOT_SUPPORTED,
                        std::string(function) + " cannot be called from inside a migration",
                        "A migration's statements run inside migrate.apply or migrate.rollback; "
                        "nesting another migration call there would interleave two migrations.",
                        "Call it after the current migration, as a separate statement.");
        depth++;
    }
    ~NotNested() { depth--; }
    NotNested(const NotNested&) = delete;
    NotNested& operator=(const NotNested&) = delete;
};

// Runs f with a fresh memory context current and deletes it afterwards: what f pallocs (the
// parse trees of a script checked before anything runs) does not stay for the whole call.
template <typename F>
void in_scratch_context(F&& f) {
    MemoryContext scratch = guard([] {
        return AllocSetContextCreate(CurrentMemoryContext, "migrations_schema script check",
                                     ALLOCSET_DEFAULT_SIZES);
    });
    {
        struct Back {
            MemoryContext old;
            ~Back() { MemoryContextSwitchTo(old); }  // inline assignment, cannot fail
        } back{MemoryContextSwitchTo(scratch)};
        f();
    }
    guard([&] { MemoryContextDelete(scratch); });  // on an error the abort frees it
}

// SPI connection for one call, or for one migration of a call that runs many (a nested SPI
// level: what the migration allocates lives in its own SPI memory and is freed with it):
// connect now, finish on the success path (an error's abort releases it).
class Session {
  public:
    Session() { spi::connect(); }
    void finish() { spi::finish(); }
};

std::string label(const std::string& version, const std::optional<std::string>& name) {
    return name ? version + " (" + *name + ")" : version;
}

// A row of migrate.migrations as the queries above select it:
// version, state, checksum, down_sql, name.
struct Row {
    std::string version, state, checksum;
    std::optional<std::string> down_sql, name;
};

std::vector<Row> rows(spi::Query& q, const spi::Params& p) {
    std::vector<Row> out;
    uint64 n = spi::run(q, p.values(), p.nulls());
    out.reserve(n);
    for (uint64 i = 0; i < n; i++)
        out.push_back(Row{*spi::get_text(i, 1), *spi::get_text(i, 2), *spi::get_text(i, 3),
                          spi::get_text(i, 4), spi::get_text(i, 5)});
    spi::release();
    return out;
}

std::optional<Row> find(const std::string& key) {
    spi::Params p;
    p.bytes(key);
    std::vector<Row> found = rows(q_find, p);
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
}

// A fingerprint of everything the runner decides from.
spi::Query q_fingerprint{
    "SELECT md5(string_agg(version || '/' || state || '/' || checksum || '/' || "
    "coalesce(md5(down_sql), '-') || '/' || coalesce(name, '-') || '/' || "
    "coalesce(applied_seq::text, '-'), ',' ORDER BY sort_key)) FROM migrate.migrations",
    0,
    {},
    nullptr};

// The extension version whose tables and functions this library works with.
constexpr const char* kSchemaVersion = "0.3.1";

// Leaf: the installed version of the extension (a palloc'd string), or nullptr. A direct
// catalog lookup: it runs on every call.
char* installed_version_leaf() {
    Relation rel = table_open(ExtensionRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
                CStringGetDatum("migrations_schema"));
    SysScanDesc scan = systable_beginscan(rel, ExtensionNameIndexId, true, nullptr, 1, &key);
    HeapTuple tup = systable_getnext(scan);
    char* version = nullptr;
    if (HeapTupleIsValid(tup)) {
        bool isnull = true;
        Datum d = heap_getattr(tup, Anum_pg_extension_extversion, RelationGetDescr(rel), &isnull);
        if (!isnull) version = TextDatumGetCString(d);
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    return version;
}

// A library newer than the installed extension (installed, but ALTER EXTENSION ... UPDATE not
// yet run) would write columns the tables do not have yet: refuse with the fix.
void check_installed_version() {
    std::optional<std::string> v;
    if (const char* found = guard([] { return installed_version_leaf(); })) v = found;
    if (v && *v != kSchemaVersion)
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "extension migrations_schema is installed at version " + *v +
                        " but its library is version " + kSchemaVersion,
                    "The library was upgraded; the extension's tables and functions were not.",
                    "ALTER EXTENSION migrations_schema UPDATE;");
}

// Takes the migrations lock, then makes sure the caller sees what the lock protects: under
// REPEATABLE READ or SERIALIZABLE the transaction's snapshot may predate migrations that
// another session committed while we waited. Working from that stale view could roll back
// the wrong migration; raise a serialization failure (40001) instead.
void lock() {
    check_installed_version();
    spi::lock_migrations();
    if (!spi::uses_transaction_snapshot()) return;
    spi::Internal internal;
    internal.enter();
    bool stale = spi::differs_from_latest(q_fingerprint);
    internal.leave();
    if (stale)
        throw Error(ERRCODE_T_R_SERIALIZATION_FAILURE,
                    "could not serialize access: migrations changed after this transaction "
                    "started",
                    "Another session applied, registered or rolled back migrations after this "
                    "REPEATABLE READ or SERIALIZABLE transaction took its snapshot.",
                    "Retry the transaction, or run migrations under READ COMMITTED (the "
                    "default).");
}

std::optional<std::string> newest_applied() {
    std::optional<std::string> v;
    if (spi::run(q_newest_applied, nullptr, nullptr) > 0) v = spi::get_text(0, 1);
    spi::release();
    return v;
}

int64 add_history(const std::string& version, const std::optional<std::string>& name,
                  const char* action, const std::string& checksum, TimestampTz at,
                  const std::string& by, std::optional<double> duration_ms,
                  std::optional<int> statements, bool out_of_order,
                  const std::optional<std::string>& findings = std::nullopt,
                  const std::optional<std::string>& overrides = std::nullopt) {
    spi::Params p;
    p.text(version).text(name).text(action).text(checksum).timestamptz(at).text(by);
    if (duration_ms)
        p.float8(*duration_ms);
    else
        p.null();
    if (statements)
        p.int4(*statements);
    else
        p.null();
    p.boolean(out_of_order).text(findings).text(overrides);
    spi::run(q_history, p.values(), p.nulls());
    int64 id = spi::get_int64(0, 1);
    spi::release();
    return id;
}

// Error context for the statement that is running: "migration 005 (users) up script,
// statement 3, line 12: ALTER TABLE ...". Plain data: the callback runs inside errfinish.
struct StatementContext {
    const char* migration;
    const char* which;
    int number;
    int line;
    const char* first_line;
};

extern "C" void statement_context_callback(void* arg) {
    auto* c = static_cast<StatementContext*>(arg);
    errcontext("migration %s %s script, statement %d, line %d: %s", c->migration, c->which,
               c->number, c->line, c->first_line);
}

// Pushes the callback for the lifetime of the object, on every path out (the error path
// included: the stack must never point at a dead frame when the error is raised).
class ContextScope {
  public:
    explicit ContextScope(StatementContext* c) {
        cb_.callback = statement_context_callback;
        cb_.arg = c;
        cb_.previous = error_context_stack;
        error_context_stack = &cb_;
    }
    ~ContextScope() { error_context_stack = cb_.previous; }
    ContextScope(const ContextScope&) = delete;
    ContextScope& operator=(const ContextScope&) = delete;

  private:
    ErrorContextCallback cb_;
};

double round3(double ms) {
    return std::round(ms * 1000.0) / 1000.0;
}

// Runs the statements of a script as the caller, each under the bounded lock wait and with
// the safety guard of `check` active; returns the time taken in milliseconds.
double run_script(const script::Script& s, const std::string& version, const std::string& migration,
                  const char* which, safety::Check& check) {
    StatementContext ctx{migration.c_str(), which, 0, 0, ""};
    ContextScope scope(&ctx);
    audit::MigrationScope audited(version.c_str(), which);
    auto start = std::chrono::steady_clock::now();
    locks::Bound bound;
    bound.enter();
    check.start();
    const std::string prefix = "migration " + migration + " " + which + " script, statement ";
    for (const auto& st : s.statements) {
        ctx.number = st.number;
        ctx.line = st.line;
        ctx.first_line = st.first_line.c_str();
        check.statement(st.number, st.line);
        audited.statement(st.sql.c_str());
        locks::run([&] { spi::execute(st.sql); }, prefix + std::to_string(st.number));
    }
    bound.leave();
    std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    check.finish();
    return round3(took.count());
}

// Parses the up script; an up script must hold at least one statement.
script::Script split_up(const std::string& version, const std::string& up_sql) {
    script::Script s = script::split(up_sql, {version, "up"});
    if (s.statements.empty())
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                    "migration " + version + " up script contains no statements",
                    "The script is empty or holds only white space, comments, or BEGIN/COMMIT.",
                    "A migration needs at least one statement.");
    return s;
}

// A down script that cannot be split (syntax error, transaction control, a statement that
// cannot run in a transaction) would fail only when a rollback needs it. Say so now, as a
// WARNING, without refusing the migration. The check runs in a subtransaction so that a
// PostgreSQL error from the parser is cleanly rolled back.
void warn_if_down_unusable(const std::string& version, const std::optional<std::string>& down) {
    if (!down) return;
    std::string problem, detail;
    try {
        spi::in_subtransaction([&] {
            script::split(*down, {version, "down"});
            safety::directive_overrides(*down, {version, "down"});
        });
    } catch (const PgError& e) {
        problem = e.data->message ? e.data->message : "error";
        detail = e.data->context ? e.data->context : "";
    } catch (const Error& e) {
        problem = e.message;
        detail = e.detail;
    }
    if (!problem.empty())
        spi::warning("the down script of migration " + version + " cannot be run: " + problem,
                     detail,
                     "The migration is accepted; rolling it back will fail until its down script "
                     "is fixed (register it again with the same up script and a fixed down "
                     "script).");
}

void check_input(const Input& in) {
    version::validate(in.version);
    if (in.name) version::validate_name(*in.name);
}

void check_same_version(const Row& row, const std::string& version) {
    if (row.version != version)
        throw Error(
            ERRCODE_UNIQUE_VIOLATION,
            "migration version " + version + " is equivalent to the known version " + row.version,
            "Versions compare naturally (runs of digits as numbers), so " + version + " and " +
                row.version + " would take the same place in the order.",
            "Use the version exactly as it is known: " + row.version + ".");
}

[[noreturn]] void throw_edited(const std::string& version, const std::string& applied,
                               const std::string& given) {
    throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                "migration " + version + " was edited after it was applied",
                "Applied checksum: " + applied + "\nGiven checksum:   " + given,
                "Restore the applied script, or write the change as a new migration with a "
                "higher version.");
}

bool is_older(const std::string& version, const std::optional<std::string>& newest) {
    return newest && version::compare(version, *newest) < 0;
}

// After the per-migration scripts ran: history row, then the migration row marked applied.
void record_applied(const Input& in, const std::string& sum, TimestampTz at, const std::string& by,
                    double ms, int statements, bool out_of_order, bool store_scripts,
                    const safety::Check& check) {
    std::string findings = check.findings_json(), overrides = check.overrides_json();
    spi::Internal internal;
    internal.enter();
    int64 seq = add_history(in.version, in.name, "apply", sum, at, by, ms, statements, out_of_order,
                            findings, overrides);
    spi::Params p;
    if (store_scripts) {
        p.text(in.version)
            .bytes(version::sort_key(in.version))
            .text(in.name)
            .text(in.up_sql)
            .text(in.down_sql)
            .text(sum)
            .int8(seq)
            .timestamptz(at)
            .text(by)
            .float8(ms)
            .int4(statements)
            .boolean(out_of_order)
            .text(findings)
            .text(overrides);
        spi::run(q_save_applied, p.values(), p.nulls());
    } else {
        p.text(in.version)
            .int8(seq)
            .timestamptz(at)
            .text(by)
            .float8(ms)
            .int4(statements)
            .boolean(out_of_order)
            .text(findings)
            .text(overrides);
        spi::run(q_mark_applied, p.values(), p.nulls());
    }
    internal.leave();
}

// A migration known and applied with the same checksum may take a new down script or name.
// NULL (not given) keeps what is stored: an app that re-applies its migrations at start-up
// without down scripts must not erase them.
struct Details {
    std::optional<std::string> down_sql, name;
    bool down_changed, name_changed;
};

Details merged_details(const Row& row, const Input& in) {
    Details d{in.down_sql ? in.down_sql : row.down_sql, in.name ? in.name : row.name, false, false};
    d.down_changed = d.down_sql != row.down_sql;
    d.name_changed = d.name != row.name;
    return d;
}

// Returns whether anything changed.
bool update_details(const Row& row, const Input& in, const std::string& by) {
    Details d = merged_details(row, in);
    if (!d.down_changed && !d.name_changed) return false;
    if (d.down_changed) warn_if_down_unusable(in.version, d.down_sql);
    spi::Internal internal;
    internal.enter();
    spi::Params p;
    p.text(in.version).text(d.down_sql).text(d.name);
    spi::run(q_update_details, p.values(), p.nulls());
    if (d.down_changed)
        add_history(in.version, d.name, "update_down", row.checksum, spi::now(), by, {}, {}, false);
    internal.leave();
    if (d.down_changed) spi::notice("migration " + in.version + ": stored a new down script");
    return true;
}

Ran rollback_one(const Row& row, const script::Script& down,
                 std::vector<safety::Override> directives, const std::string& by,
                 std::vector<safety::Override>* args) {
    std::string migration = label(row.version, row.name);
    safety::Check check(migration, row.version, "down", args, std::move(directives));
    check.lint(down.statements);
    TimestampTz at = spi::now();
    double ms = run_script(down, row.version, migration, "down", check);
    int n = static_cast<int>(down.statements.size());
    spi::Internal internal;
    internal.enter();
    std::string findings = check.findings_json(), overrides = check.overrides_json();
    add_history(row.version, row.name, "rollback", row.checksum, at, by, ms, n, false, findings,
                overrides);
    spi::Params p;
    p.text(row.version);
    spi::run(q_mark_rolled_back, p.values(), p.nulls());
    internal.leave();
    return Ran{row.version, row.name, n, ms};
}

std::vector<Ran> rollback_rows(const std::vector<Row>& rows, const std::string& by,
                               const Allow& allow) {
    std::vector<safety::Override> args = safety::argument_overrides(allow);
    // Every migration must have a down script, and every down script must split (and name
    // only known rules in its directives), before anything runs.
    std::vector<std::string> missing;
    for (const auto& r : rows)
        if (!r.down_sql) missing.push_back(label(r.version, r.name));
    if (!missing.empty()) {
        std::string list;
        for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "migration " + missing.front() + " has no down script; nothing was rolled back",
                    "Migrations without a down script among those to roll back: " + list + ".",
                    "Give it a down script by registering it again with the same up script "
                    "(migrate.register(version, up_sql, down_sql)), or roll back fewer "
                    "migrations.");
    }
    // Parse trees are not kept from this check: each script is split again just before it
    // runs, in the SPI level of its own migration, so a call's memory does not grow with the
    // number of migrations it runs.
    std::vector<std::vector<safety::Override>> directives;
    directives.reserve(rows.size());
    for (const auto& r : rows)
        in_scratch_context([&] {
            script::split(*r.down_sql, {r.version, "down"});
            directives.push_back(safety::directive_overrides(*r.down_sql, {r.version, "down"}));
        });
    std::vector<Ran> ran;
    for (size_t i = 0; i < rows.size(); i++) {
        Session one;
        {
            script::Script down = script::split(*rows[i].down_sql, {rows[i].version, "down"});
            ran.push_back(rollback_one(rows[i], down, std::move(directives[i]), by, &args));
        }  // its parse trees are in this migration's SPI memory, freed by finish()
        one.finish();
    }
    safety::report_unmatched_arguments(args);
    return ran;
}

}  // namespace

std::string apply_one(const Input& in, bool allow_out_of_order, const Allow& allow) {
    NotNested nested("migrate.apply");
    check_input(in);
    std::vector<safety::Override> args = safety::argument_overrides(allow);
    std::string sum = checksum::sha256_hex(in.up_sql);
    std::string by = spi::current_user_name();
    Session session;
    lock();

    spi::Internal internal;
    internal.enter();
    std::optional<Row> row = find(version::sort_key(in.version));
    bool applied = row && row->state == "applied";
    std::optional<std::string> newest;
    if (!applied) newest = newest_applied();
    internal.leave();

    if (row) check_same_version(*row, in.version);
    if (applied) {
        if (row->checksum != sum) throw_edited(in.version, row->checksum, sum);
        update_details(*row, in, by);
        spi::notice("migration " + in.version +
                    " is already applied with the same checksum; "
                    "nothing to do");
        session.finish();
        return "unchanged";
    }
    bool out_of_order = is_older(in.version, newest);
    if (out_of_order && !allow_out_of_order)
        throw Error(
            ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "migration " + in.version + " is older than the newest applied migration " + *newest,
            "Applying it now would run it after migrations that were written after it.",
            "Pass allow_out_of_order => true to apply it anyway; it is recorded as "
            "applied out of order.");
    script::Script up = split_up(in.version, in.up_sql);
    std::string migration = label(in.version, in.name);
    safety::Check check(migration, in.version, "up", &args,
                        safety::directive_overrides(in.up_sql, {in.version, "up"}));
    warn_if_down_unusable(in.version, in.down_sql);
    check.lint(up.statements);

    TimestampTz at = spi::now();
    double ms = run_script(up, in.version, migration, "up", check);
    record_applied(in, sum, at, by, ms, static_cast<int>(up.statements.size()), out_of_order, true,
                   check);
    safety::report_unmatched_arguments(args);
    session.finish();
    return "applied";
}

std::string register_one(const Input& in) {
    NotNested nested("migrate.register");
    check_input(in);
    std::string sum = checksum::sha256_hex(in.up_sql);
    std::string by = spi::current_user_name();
    Session session;
    lock();

    spi::Internal internal;
    internal.enter();
    std::optional<Row> row = find(version::sort_key(in.version));
    internal.leave();
    if (row) check_same_version(*row, in.version);
    if (row && row->state == "applied") {
        if (row->checksum != sum) throw_edited(in.version, row->checksum, sum);
        bool changed = update_details(*row, in, by);
        session.finish();
        return changed ? "updated" : "unchanged";
    }
    split_up(in.version, in.up_sql);
    safety::directive_overrides(in.up_sql, {in.version, "up"});
    warn_if_down_unusable(in.version, in.down_sql);
    // A pending or rolled-back migration may be replaced freely: it is not in the schema.
    std::string result = "registered";
    if (row)
        result = (row->checksum == sum && row->down_sql == in.down_sql && row->name == in.name)
                     ? "unchanged"
                     : "updated";
    if (result != "unchanged") {
        internal.enter();
        spi::Params p;
        p.text(in.version)
            .bytes(version::sort_key(in.version))
            .text(in.name)
            .text(in.up_sql)
            .text(in.down_sql)
            .text(sum);
        spi::run(q_register, p.values(), p.nulls());
        internal.leave();
    }
    session.finish();
    return result;
}

std::vector<Ran> apply_pending(const std::optional<std::string>& to_version,
                               bool allow_out_of_order, const Allow& allow) {
    NotNested nested("migrate.apply");
    if (to_version) version::validate(*to_version);
    std::vector<safety::Override> args = safety::argument_overrides(allow);
    std::string by = spi::current_user_name();
    Session session;
    lock();

    struct Pending {
        Input in;
        std::string checksum;
    };
    std::vector<Pending> pending;
    spi::Internal internal;
    internal.enter();
    spi::Params target_key;
    if (to_version) {
        std::optional<Row> target = find(version::sort_key(*to_version));
        if (!target)
            throw Error(ERRCODE_UNDEFINED_OBJECT,
                        "migration version " + *to_version + " is not known", "",
                        "SELECT version FROM migrate.status() lists the known versions.");
        target_key.bytes(version::sort_key(target->version));
    } else {
        target_key.null();
    }
    std::optional<std::string> newest = newest_applied();
    uint64 n = spi::run(q_pending, target_key.values(), target_key.nulls());
    pending.reserve(n);
    for (uint64 i = 0; i < n; i++)
        pending.push_back(Pending{Input{*spi::get_text(i, 1), *spi::get_text(i, 3),
                                        spi::get_text(i, 4), spi::get_text(i, 2)},
                                  *spi::get_text(i, 5)});
    spi::release();
    internal.leave();

    std::vector<std::string> older;
    for (const auto& p : pending)
        if (is_older(p.in.version, newest)) older.push_back(p.in.version);
    if (!older.empty() && !allow_out_of_order) {
        std::string list;
        for (const auto& v : older) list += (list.empty() ? "" : ", ") + v;
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    std::to_string(older.size()) +
                        (older.size() == 1 ? " pending migration is" : " pending migrations are") +
                        " older than the newest applied migration " + *newest,
                    "Older than " + *newest + ": " + list + ". Nothing was applied.",
                    "Pass allow_out_of_order => true to apply them anyway; they are recorded as "
                    "applied out of order.");
    }
    if (pending.empty()) {
        spi::notice("nothing to apply: no pending migration" +
                    (to_version ? " up to version " + *to_version : std::string()));
        session.finish();
        return {};
    }
    // Check every script before running any. The parse trees are not kept: each script is
    // split again just before it runs, in the SPI level of its own migration (freed after it),
    // so a call's memory does not grow with the number of migrations it applies.
    std::vector<std::vector<safety::Override>> directives;
    directives.reserve(pending.size());
    for (const auto& p : pending)
        in_scratch_context([&] {
            split_up(p.in.version, p.in.up_sql);
            directives.push_back(safety::directive_overrides(p.in.up_sql, {p.in.version, "up"}));
        });

    std::vector<Ran> ran;
    for (size_t i = 0; i < pending.size(); i++) {
        Session one;
        {
            const Input& in = pending[i].in;
            script::Script script = split_up(in.version, in.up_sql);
            TimestampTz at = spi::now();
            std::string migration = label(in.version, in.name);
            safety::Check check(migration, in.version, "up", &args, std::move(directives[i]));
            check.lint(script.statements);
            double ms = run_script(script, in.version, migration, "up", check);
            int count = static_cast<int>(script.statements.size());
            bool ooo = is_older(in.version, newest);
            record_applied(in, pending[i].checksum, at, by, ms, count, ooo, false, check);
            if (!newest || version::compare(in.version, *newest) > 0) newest = in.version;
            ran.push_back(Ran{in.version, in.name, count, ms});
        }
        one.finish();
    }
    safety::report_unmatched_arguments(args);
    session.finish();
    return ran;
}

std::vector<Ran> rollback_steps(int steps, const Allow& allow) {
    NotNested nested("migrate.rollback");
    if (steps < 1)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "steps must be at least 1",
                    "Got " + std::to_string(steps) + ".");
    std::string by = spi::current_user_name();
    Session session;
    lock();
    spi::Internal internal;
    internal.enter();
    spi::Params p;
    p.int4(steps);
    // At most `steps` rows: fewer means that every applied migration was returned.
    std::vector<Row> candidates = rows(q_applied_newest_first, p);
    internal.leave();
    if (candidates.empty())
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "no migration is applied; nothing to roll back");
    if (static_cast<size_t>(steps) > candidates.size())
        throw Error(
            ERRCODE_INVALID_PARAMETER_VALUE,
            "cannot roll back " + std::to_string(steps) + " migrations: only " +
                std::to_string(candidates.size()) + (candidates.size() == 1 ? " is" : " are") +
                " applied",
            "Nothing was rolled back.",
            "migrate.rollback(" + std::to_string(candidates.size()) + ") rolls back all of them.");
    std::vector<Ran> ran = rollback_rows(candidates, by, allow);
    session.finish();
    return ran;
}

std::vector<Ran> rollback_to(const std::string& to_version, const Allow& allow) {
    NotNested nested("migrate.rollback");
    version::validate(to_version);
    std::string by = spi::current_user_name();
    Session session;
    lock();
    spi::Internal internal;
    internal.enter();
    std::optional<Row> target = find(version::sort_key(to_version));
    if (!target)
        throw Error(ERRCODE_UNDEFINED_OBJECT, "migration version " + to_version + " is not known",
                    "Nothing was rolled back.",
                    "SELECT version FROM migrate.status() lists the known versions.");
    spi::Params p;
    p.bytes(version::sort_key(target->version));
    std::vector<Row> above = rows(q_applied_above, p);
    internal.leave();
    if (above.empty()) {
        spi::notice("nothing to roll back: no migration newer than " + target->version +
                    " is applied");
        session.finish();
        return {};
    }
    std::vector<Ran> ran = rollback_rows(above, by, allow);
    session.finish();
    return ran;
}

}  // namespace ms::runner
