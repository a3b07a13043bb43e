// The store's queries of the queue of work after commit (migrate.steps). See store.hpp.
#include "migrate/queue.hpp"
#include "migrate/store.hpp"
#include "migrate/store_rows.hpp"

namespace ms::migrate::store {

using namespace detail;

namespace {

// ---- the queue ----

spi::Query q_next_queue_seq{"SELECT pg_catalog.nextval('migrate.steps_queue_seq')", 0, {}, nullptr};
spi::Query q_queue_step{
    "INSERT INTO migrate.steps (queue_seq, position, version, direction, statements, numbers, "
    "lines, settings, run_as, search_path, lock_timeout, lock_retries, lock_retry_delay, allow) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    14,
    {INT8OID, INT4OID, TEXTOID, TEXTOID, TEXTARRAYOID, INT4ARRAYOID, INT4ARRAYOID, TEXTARRAYOID,
     TEXTOID, TEXTOID, INT4OID, INT4OID, INT4OID, TEXTARRAYOID},
    nullptr};
#define MS_ENTRY_COLUMNS                                                                         \
    "id, queue_seq, position, version, direction, state, statements, settings, numbers, lines, " \
    "run_as, search_path, lock_timeout, lock_retries, lock_retry_delay, allow, attempts, "       \
    "coalesce(pid, 0), pre_indexes, (error->>'sqlstate') || ': ' || (error->>'message'), "       \
    "CASE WHEN started_at IS NULL THEN 0 ELSE 1 END"
spi::Query q_first_unfinished{"SELECT " MS_ENTRY_COLUMNS
                              " FROM migrate.steps WHERE state IN ('pending', 'running', "
                              "'failed') ORDER BY queue_seq, position LIMIT 1",
                              0,
                              {},
                              nullptr};
spi::Query q_failed_entry{"SELECT " MS_ENTRY_COLUMNS
                          " FROM migrate.steps WHERE state = 'failed' "
                          "AND ($1 IS NULL OR version = $1) ORDER BY queue_seq, position LIMIT 1",
                          1,
                          {TEXTOID},
                          nullptr};
spi::Query q_mark_running{
    "UPDATE migrate.steps SET state = 'running', pid = $2, started_at = pg_catalog.now(), "
    "finished_at = NULL, attempts = attempts + 1, pre_indexes = $3 WHERE id = $1",
    3,
    {INT8OID, INT4OID, OIDARRAYOID},
    nullptr};
spi::Query q_mark_done{
    "UPDATE migrate.steps SET state = 'done', finished_at = pg_catalog.now() WHERE id = $1",
    1,
    {INT8OID},
    nullptr};
spi::Query q_mark_pending{
    "UPDATE migrate.steps SET state = 'pending', pid = NULL WHERE id = $1", 1, {INT8OID}, nullptr};
spi::Query q_mark_failed{
    "UPDATE migrate.steps SET state = 'failed', finished_at = pg_catalog.now(), "
    "error = $2::pg_catalog.jsonb WHERE id = $1",
    2,
    {INT8OID, TEXTOID},
    nullptr};
spi::Query q_cancel_run{
    "UPDATE migrate.steps SET state = 'cancelled', finished_at = pg_catalog.now() "
    "WHERE queue_seq = $1 AND state IN ('pending', 'running', 'failed')",
    1,
    {INT8OID},
    nullptr};
spi::Query q_cancel_behind{
    "UPDATE migrate.steps SET state = 'cancelled', finished_at = pg_catalog.now() "
    "WHERE queue_seq > $1 AND state IN ('pending', 'running', 'failed')",
    1,
    {INT8OID},
    nullptr};
spi::Query q_run_unfinished{
    "SELECT 1 FROM migrate.steps WHERE queue_seq = $1 "
    "AND state IN ('pending', 'running', 'failed') LIMIT 1",
    1,
    {INT8OID},
    nullptr};
spi::Query q_unfinished_for{
    "SELECT 1 FROM migrate.steps WHERE version = $1 AND ($2 IS NULL OR direction = $2) "
    "AND state IN ('pending', 'running', 'failed') LIMIT 1",
    2,
    {TEXTOID, TEXTOID},
    nullptr};
spi::Query q_queued_behind{
    "SELECT version FROM migrate.steps WHERE queue_seq > $1 AND position = 0 "
    "AND state IN ('pending', 'failed') ORDER BY queue_seq",
    1,
    {INT8OID},
    nullptr};
spi::Query q_worker_alive{
    "SELECT 1 FROM pg_catalog.pg_stat_activity WHERE backend_type OPERATOR(pg_catalog.=) $1 "
    "AND datid OPERATOR(pg_catalog.=) $2 LIMIT 1",
    2,
    {TEXTOID, OIDOID},
    nullptr};
spi::Query q_retry{
    "UPDATE migrate.steps SET state = 'pending', pid = NULL, error = NULL, attempts = 0 "
    "WHERE id = $1",
    1,
    {INT8OID},
    nullptr};
spi::Query q_script_of{
    "SELECT CASE WHEN $2 = 'up' THEN up_sql ELSE down_sql END FROM migrate.migrations "
    "WHERE version = $1",
    2,
    {TEXTOID, TEXTOID},
    nullptr};
spi::Query q_run_duration{
    "SELECT coalesce(sum(EXTRACT(EPOCH FROM finished_at - started_at) * 1000), 0)::float8 "
    "FROM migrate.steps WHERE queue_seq = $1 AND state = 'done'",
    1,
    {INT8OID},
    nullptr};
spi::Query q_add_duration{
    "UPDATE migrate.migrations SET duration_ms = coalesce(duration_ms, 0) + $2 "
    "WHERE version = $1",
    2,
    {TEXTOID, FLOAT8OID},
    nullptr};
spi::Query q_add_event{
    "INSERT INTO migrate.history (version, name, action, checksum, performed_at, performed_by, "
    "duration_ms, error) SELECT m.version, m.name, $2, m.checksum, pg_catalog.clock_timestamp(), "
    "$3, $4, $5::pg_catalog.jsonb FROM migrate.migrations AS m WHERE m.version = $1",
    5,
    {TEXTOID, TEXTOID, TEXTOID, FLOAT8OID, TEXTOID},
    nullptr};

}  // namespace

int64 Store::next_queue_seq() {
    spi::run(q_next_queue_seq, nullptr, nullptr);
    int64 seq = spi::get_int64(0, 1);
    spi::release();
    return seq;
}

void Store::queue_step(int64 queue_seq, int position, const std::string& version,
                       const char* direction, const StepToQueue& step, const RunContext& context) {
    spi::Params p;
    p.int8(queue_seq).int4(position).text(version).text(direction);
    if (step.statements.empty())
        p.null().null().null().null();
    else
        p.text_array(step.statements)
            .int4_array(step.numbers)
            .int4_array(step.lines)
            .text_array(step.settings);
    p.text(context.run_as)
        .text(context.search_path)
        .int4(context.lock_timeout)
        .int4(context.lock_retries)
        .int4(context.lock_retry_delay);
    if (context.allow.empty())
        p.null();
    else
        p.text_array(context.allow);
    spi::run(q_queue_step, p.values(), p.nulls());
}

namespace {

QueueEntry entry_at(uint64 i) {
    QueueEntry e;
    e.id = spi::get_int64(i, 1);
    e.queue_seq = spi::get_int64(i, 2);
    e.position = static_cast<int>(spi::get_int64(i, 3));
    e.version = *spi::get_text(i, 4);
    e.direction = *spi::get_text(i, 5);
    e.state = *spi::get_text(i, 6);
    e.statements = spi::get_text_array(i, 7);
    e.settings = spi::get_text_array(i, 8);
    e.numbers = spi::get_int_array(i, 9);
    e.lines = spi::get_int_array(i, 10);
    e.context.run_as = *spi::get_text(i, 11);
    e.context.search_path = *spi::get_text(i, 12);
    e.context.lock_timeout = static_cast<int>(spi::get_int64(i, 13));
    e.context.lock_retries = static_cast<int>(spi::get_int64(i, 14));
    e.context.lock_retry_delay = static_cast<int>(spi::get_int64(i, 15));
    e.context.allow = spi::get_text_array(i, 16);
    e.attempts = static_cast<int>(spi::get_int64(i, 17));
    e.pid = static_cast<int>(spi::get_int64(i, 18));
    e.pre_indexes = spi::get_int_array(i, 19);
    e.error = spi::get_text(i, 20);
    e.started = spi::get_int64(i, 21) != 0;
    return e;
}

std::optional<QueueEntry> one_entry(spi::Query& q, const spi::Params& p) {
    std::optional<QueueEntry> e;
    if (spi::run(q, p.values(), p.nulls()) > 0) e = entry_at(0);
    spi::release();
    return e;
}

void by_id(spi::Query& q, int64 id) {
    spi::Params p;
    p.int8(id);
    spi::run(q, p.values(), p.nulls());
}

}  // namespace

std::optional<QueueEntry> Store::first_unfinished() {
    return one_entry(q_first_unfinished, spi::Params());
}

void Store::mark_running(int64 id, int pid, const std::vector<Oid>& pre_indexes) {
    spi::Params p;
    p.int8(id).int4(pid).oid_array(pre_indexes);
    spi::run(q_mark_running, p.values(), p.nulls());
}

void Store::mark_done(int64 id) {
    by_id(q_mark_done, id);
}

void Store::mark_pending(int64 id) {
    by_id(q_mark_pending, id);
}

void Store::mark_failed(int64 id, const std::string& error_json) {
    spi::Params p;
    p.int8(id).text(error_json);
    spi::run(q_mark_failed, p.values(), p.nulls());
}

void Store::cancel_entries(int64 queue_seq) {
    by_id(q_cancel_run, queue_seq);
}

void Store::cancel_queued_behind(int64 queue_seq) {
    by_id(q_cancel_behind, queue_seq);
}

bool Store::run_unfinished(int64 queue_seq) {
    spi::Params p;
    p.int8(queue_seq);
    bool found = spi::run(q_run_unfinished, p.values(), p.nulls()) > 0;
    spi::release();
    return found;
}

bool Store::unfinished_for(const std::string& version, const char* direction) {
    spi::Params p;
    p.text(version);
    if (direction)
        p.text(direction);
    else
        p.null();
    bool found = spi::run(q_unfinished_for, p.values(), p.nulls()) > 0;
    spi::release();
    return found;
}

std::vector<std::string> Store::queued_versions_behind(int64 queue_seq) {
    spi::Params p;
    p.int8(queue_seq);
    uint64 n = spi::run(q_queued_behind, p.values(), p.nulls());
    std::vector<std::string> out;
    for (uint64 i = 0; i < n; i++) out.push_back(*spi::get_text(i, 1));
    spi::release();
    return out;
}

bool Store::worker_alive() {
    spi::Params p;
    p.text(queue::kWorkerType).oid(MyDatabaseId);
    bool found = spi::run(q_worker_alive, p.values(), p.nulls()) > 0;
    spi::release();
    return found;
}

std::optional<QueueEntry> Store::retry(const std::optional<std::string>& version) {
    spi::Params p;
    p.text(version);
    std::optional<QueueEntry> e = one_entry(q_failed_entry, p);
    if (e) by_id(q_retry, e->id);
    return e;
}

std::optional<std::string> Store::script_of(const std::string& version,
                                            const std::string& direction) {
    spi::Params p;
    p.text(version).text(direction);
    std::optional<std::string> s;
    if (spi::run(q_script_of, p.values(), p.nulls()) > 0) s = spi::get_text(0, 1);
    spi::release();
    return s;
}

double Store::run_duration_ms(int64 queue_seq) {
    spi::Params p;
    p.int8(queue_seq);
    spi::run(q_run_duration, p.values(), p.nulls());
    double ms = std::stod(spi::get_text(0, 1).value_or("0"));
    spi::release();
    return ms;
}

void Store::add_duration(const std::string& version, double ms) {
    spi::Params p;
    p.text(version).float8(ms);
    spi::run(q_add_duration, p.values(), p.nulls());
}

void Store::add_event(const std::string& version, const char* action, const std::string& by,
                      std::optional<double> duration_ms, const std::optional<std::string>& error) {
    spi::Params p;
    p.text(version).text(action).text(by);
    optional_float8(p, duration_ms);
    p.text(error);
    spi::run(q_add_event, p.values(), p.nulls());
}

}  // namespace ms::migrate::store
