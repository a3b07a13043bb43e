// Bounded lock waits for migration statements. See lockwait.hpp.
#include "migrate/lockwait.hpp"

#include <cstring>
#include <optional>

#include "pg/report.hpp"
#include "pg/scope.hpp"
#include "pg/spi.hpp"

namespace ms::migrate::lockwait {

namespace {

int timeout_ms = 5000;
int retries = 3;
int retry_delay_ms = 500;

// ---- the lock a statement waits for ----
//
// PostgreSQL clears the backend's wait (LockErrorCleanup) before it raises the lock timeout
// error, so the lock cannot be read afterwards. While a statement runs, a periodic timeout
// copies the lock the backend is sleeping on, if any; the last copy is the lock of the wait
// that timed out (it lasted lock_timeout, longer than the sampling interval).
TimeoutId sample_id = MAX_TIMEOUTS;
volatile sig_atomic_t sampled = 0;
LOCKTAG sampled_tag;
LOCKMODE sampled_mode = NoLock;

extern "C" void sample_wait(void) {
    PGPROC* proc = MyProc;
    LOCK* lock = proc != nullptr ? proc->waitLock : nullptr;
    if (lock == nullptr) return;
    sampled_tag = lock->tag;
    sampled_mode = proc->waitLockMode;
    sampled = 1;
}

// Samples while the object lives. RegisterTimeout and enable/disable_timeout raise no ERROR
// (only FATAL, for an exhausted timeout table or a failing setitimer), so they run unguarded.
class Sampler {
  public:
    explicit Sampler(int lock_timeout_ms) noexcept {
        if (sample_id == MAX_TIMEOUTS) sample_id = RegisterTimeout(USER_TIMEOUT, sample_wait);
        sampled = 0;
        int interval = lock_timeout_ms / 3;
        if (interval < 1) interval = 1;
        enable_timeout_every(
            sample_id, TimestampTzPlusMilliseconds(GetCurrentTimestamp(), interval), interval);
    }
    ~Sampler() { disable_timeout(sample_id, false); }
    Sampler(const Sampler&) = delete;
    Sampler& operator=(const Sampler&) = delete;
};

// ---- leaf calls ----

void set_timeout_leaf(int ms, GucAction action) {
    char value[32];
    snprintf(value, sizeof value, "%d", ms);
    (void)set_config_option("lock_timeout", value, PGC_USERSET, PGC_S_SESSION, action, true, 0,
                            false);
}

void sleep_leaf(long ms) {
    TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);
    for (;;) {
        long left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until);
        if (left <= 0) break;
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, left,
                        PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
    }
}

double jitter_leaf() {
    return pg_prng_double(&pg_global_prng_state);
}

struct HolderRow {
    int pid;
    bool waiting;  // not holding a conflicting mode: waiting for one
    char modes[128];
};

// The other sessions holding `tag` in a mode that conflicts with `mode`, then the ones that
// have waited for it in such a mode since before `since` (queued before a request made after
// `since`, they are granted first); at most max.
int holders_leaf(const LOCKTAG* tag, LOCKMODE mode, TimestampTz since, HolderRow* out, int max) {
    LockMethod method = GetLockTagsMethodTable(tag);
    LOCKMASK conflicts = method->conflictTab[mode];
    LockData* data = GetLockStatusData();
    int n = 0;
    for (int pass = 0; pass < 2; pass++) {
        bool waiting = pass == 1;
        for (int i = 0; i < data->nelements; i++) {
            LockInstanceData* inst = &data->locks[i];
            if (inst->pid == MyProcPid || inst->leaderPid == MyProcPid) continue;
            if (memcmp(&inst->locktag, tag, sizeof(LOCKTAG)) != 0) continue;
            bool queued_first =
                inst->waitLockMode != NoLock && inst->waitStart != 0 && inst->waitStart < since;
            LOCKMASK modes = !waiting       ? inst->holdMask
                             : queued_first ? (LOCKMASK)LOCKBIT_ON(inst->waitLockMode)
                                            : (LOCKMASK)0;
            if ((modes & conflicts) == 0) continue;
            HolderRow* h = nullptr;
            for (int j = 0; j < n; j++)
                if (out[j].pid == inst->pid) h = &out[j];
            if (h != nullptr && h->waiting != waiting) continue;  // listed as a holder
            if (h == nullptr) {
                if (n == max) continue;
                h = &out[n++];
                h->pid = inst->pid;
                h->waiting = waiting;
                h->modes[0] = '\0';
            }
            for (LOCKMODE m = 1; m <= method->numLockModes; m++) {
                if ((modes & LOCKBIT_ON(m)) == 0 || (conflicts & LOCKBIT_ON(m)) == 0) continue;
                size_t len = strlen(h->modes);
                snprintf(h->modes + len, sizeof h->modes - len, "%s%s", len ? ", " : "",
                         GetLockmodeName(tag->locktag_lockmethodid, m));
            }
        }
    }
    return n;
}

// PostgreSQL's own description of a lock tag ("transaction 731", "tuple (0,1) of relation ...").
char* describe_leaf(const LOCKTAG* tag) {
    StringInfoData buf;
    initStringInfo(&buf);
    DescribeLockTag(&buf, tag);
    return buf.data;
}

const char* mode_name_leaf(const LOCKTAG* tag, LOCKMODE mode) {
    return GetLockmodeName(tag->locktag_lockmethodid, mode);
}

// As the caller, so that PostgreSQL's own rules decide whose query text is shown. Every name
// and operator is schema-qualified: the caller's search_path plays no part.
spi::Query q_activity{
    "SELECT application_name, usename, state, pg_catalog.left(query, 200), "
    "pg_catalog.to_char(xact_start, 'YYYY-MM-DD HH24:MI:SS'), "
    "pg_catalog.to_char(xact_start, 'YYYY-MM-DD HH24:MI:SS TZ'), "
    "pg_catalog.length(query) OPERATOR(pg_catalog.>) 200 "
    "FROM pg_catalog.pg_stat_activity WHERE pid OPERATOR(pg_catalog.=) $1",
    1,
    {INT4OID},
    nullptr};

// Who holds `tag` in a mode that conflicts with `mode`, or has waited for it so since before
// `since` (at most 16 sessions), with what pg_stat_activity shows of them now; `text` gets them
// described, a line each.
std::vector<Blocked::Holder> holders(const LOCKTAG& tag, LOCKMODE mode, TimestampTz since,
                                     std::string& text) {
    HolderRow found[16];
    const LOCKTAG* t = &tag;
    int n = guard([&] { return holders_leaf(t, mode, since, found, 16); });
    pg::refresh_activity();
    std::vector<Blocked::Holder> out;
    for (int i = 0; i < n; i++) {
        Blocked::Holder h;
        h.pid = found[i].pid;
        h.waiting = found[i].waiting;
        h.modes = found[i].modes;
        spi::Params p;
        p.int4(h.pid);
        std::string line = "pid " + std::to_string(h.pid);
        bool cut = false;  // the query longer than the 200 characters kept
        if (spi::run(q_activity, p.values(), p.nulls()) > 0) {
            h.application = spi::get_text(0, 1).value_or("");
            h.user = spi::get_text(0, 2).value_or("");
            h.state = spi::get_text(0, 3).value_or("");
            h.query = spi::get_text(0, 4).value_or("");
            h.since = spi::get_text(0, 5).value_or("");
            auto since = spi::get_text(0, 6);
            cut = spi::get_text(0, 7).value_or("f") == "t";
            line += " (application \"" + h.application + "\", user " +
                    (h.user.empty() ? "?" : h.user) + ", " +
                    (h.state.empty() ? "state unknown" : h.state) +
                    (since ? ", transaction started " + *since : "") + ")";
        }
        line += (h.waiting ? " is queued for " + h.modes + ", ahead of it" : " holds " + h.modes);
        if (!h.query.empty()) {
            std::string q = h.query;
            for (char& ch : q)
                if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
            line += "; its last query: " + q + (cut ? " ..." : "");
        }
        spi::release();
        text += (text.empty() ? "" : "\n") + line;
        out.push_back(std::move(h));
    }
    return out;
}

}  // namespace

bool is_lock_timeout(const PgError& e) {
    return e.data->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE && e.data->message_id != nullptr &&
           strcmp(e.data->message_id, "canceling statement due to lock timeout") == 0;
}

void define_settings() noexcept {
    DefineCustomIntVariable(
        "migrations_schema.lock_timeout", "lock_timeout of every statement of a migration.",
        "A statement whose lock is not granted in time is retried "
        "(migrations_schema.lock_retries). A script's own SET lock_timeout applies to the "
        "statements after it, unless it sets 0 (no bound).",
        &timeout_ms, 5000, 1, INT_MAX, PGC_USERSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("migrations_schema.lock_retries",
                            "How many times a migration statement is retried after a lock timeout.",
                            nullptr, &retries, 3, 0, 1000, PGC_USERSET, 0, nullptr, nullptr,
                            nullptr);
    DefineCustomIntVariable(
        "migrations_schema.lock_retry_delay",
        "Delay before the first retry after a lock timeout; doubled for each further retry.",
        "Each delay varies randomly by up to 25% either way, so that competing sessions do not "
        "retry in step.",
        &retry_delay_ms, 500, 0, 3600000, PGC_USERSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
}

void Bound::enter() {
    nest_ = guard([] { return NewGUCNestLevel(); });
    int ms = timeout_ms;
    guard([&] { set_timeout_leaf(ms, GUC_ACTION_SAVE); });
}

void Bound::leave() {
    int nest = nest_;
    guard([&] { AtEOXact_GUC(true, nest); });
    nest_ = -1;
}

void run(const std::function<void()>& statement, const std::string& where) {
    for (int attempt = 1;; attempt++) {
        // A script may set its own lock_timeout, but not lift the bound.
        if (LockTimeout == 0) {
            int ms = timeout_ms;
            guard([&] { set_timeout_leaf(ms, GUC_ACTION_LOCAL); });
        }
        int wait_ms = LockTimeout;
        TimestampTz started = pg::now();  // (its wait began after this)
        try {
            Sampler sampler(wait_ms);
            pg::in_subtransaction(statement);
            return;
        } catch (const PgError& e) {
            if (!is_lock_timeout(e)) throw;
            if (attempt > retries) {
                std::string object = "a lock", held;
                Blocked b;
                if (sampled) {
                    LOCKTAG tag = sampled_tag;
                    LOCKMODE mode = sampled_mode;
                    const LOCKTAG* t = &tag;
                    std::string mode_name = guard([&] { return mode_name_leaf(t, mode); });
                    std::optional<std::string> rel;
                    if (tag.locktag_type == LOCKTAG_RELATION && tag.locktag_field1 == MyDatabaseId)
                        rel = pg::relation_name(tag.locktag_field2);
                    if (rel)
                        b.relation = *rel;
                    else
                        b.lock = guard([&] { return describe_leaf(t); });
                    object = mode_name + " on " + (rel ? "relation " + *rel : b.lock);
                    b.holders = holders(tag, mode, started, held);
                }
                std::string detail =
                    !sampled       ? "The lock it waited for was not seen (a wait shorter than the "
                                     "sampling interval)."
                    : held.empty() ? "No session holds a conflicting lock any more: the sessions "
                                     "that blocked it have finished since."
                                   : "Blocking sessions:\n" + held;
                throw LockNotGranted(
                    Error(ERRCODE_LOCK_NOT_AVAILABLE,
                          where + ": " + object + " not granted within lock_timeout (" +
                              std::to_string(wait_ms) + " ms) in " + std::to_string(attempt) +
                              (attempt == 1 ? " attempt" : " attempts"),
                          detail + "\nThe migration was stopped; nothing of it remains.",
                          "End or wait for the blocking sessions and run it again. "
                          "migrations_schema.lock_timeout, lock_retries and lock_retry_delay "
                          "set how long a migration waits."),
                    std::move(b));
            }
            long ms = retry_delay(current(), attempt);
            pg::notice(where + ": lock not granted within " + std::to_string(wait_ms) +
                       " ms; retry " + std::to_string(attempt) + " of " + std::to_string(retries) +
                       " in " + std::to_string(ms) + " ms");
            sleep_ms(ms);
        }
    }
}

Settings current() {
    return Settings{timeout_ms, retries, retry_delay_ms};
}

long retry_delay(const Settings& s, int attempt) {
    // Doubled for each retry, up to a minute (or the first delay, when that is longer).
    double cap = s.retry_delay_ms > 60000 ? s.retry_delay_ms : 60000;
    double delay = s.retry_delay_ms;
    for (int i = 1; i < attempt && delay < cap; i++) delay = delay * 2 > cap ? cap : delay * 2;
    double factor = 0.75 + 0.5 * guard([] { return jitter_leaf(); });
    return static_cast<long>(delay * factor);
}

void sleep_ms(long ms) {
    guard([&] { sleep_leaf(ms); });
}

}  // namespace ms::migrate::lockwait
