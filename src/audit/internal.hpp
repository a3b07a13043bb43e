// What the files of the audit share: captured rows, the chain's layout, the JSON helpers.
// Internal to src/audit/; the rest of the extension uses audit.hpp. Every function here is a
// leaf (PostgreSQL calls, no C++ objects with destructors), called through guard().
#pragma once

#include "audit/audit.hpp"

namespace ms::audit::internal {

// ---- capture.cpp: rows captured by the event triggers, kept in TopTransactionContext ----

// What every row of one event trigger call shares (allocated in TopTransactionContext).
struct Common {
    SubTransactionId subid;
    TimestampTz statement_time;
    uint64 fxid;
    const char* session_user_name;
    const char* current_user_name;
    const char* application_name;
    const char* statement;
    bool statement_exact;
    const char* migration_version;
    const char* migration_script;
    const char* command_tag;  // of the event; ddl_command_end rows carry their command's
    // Rows moved after a restored chain (load.cpp) keep the backend and client address they
    // were recorded with; captured rows take this backend's.
    bool moved;
    int32 backend_pid;
    const char* client_addr;  // inet as text, or nullptr
};

struct Row {
    const Common* common;  // what every row of its event shares
    const char* event;
    const char* command_tag;
    const char* object_type;
    const char* schema_name;
    const char* object_identity;
    bool has_address;
    Oid classid;
    Oid objid;
    int32 objsubid;
    bool in_extension;
    const char* detail;  // JSON text, or nullptr
};

extern Row* rows;
extern int n_rows;
// Whether this transaction loaded rows into migrate.ddl_audit (a restore, load.cpp).
extern bool loaded;

Common* common_leaf(const char* command_tag, Node* parsetree);
Row* add_row(const Common* c);
char* top_strdup(const char* s);
// A text Datum as a C string in TopTransactionContext.
char* top_text(Datum d);
// The transaction ended: its rows are gone with its memory.
void reset_transaction_state();
// A subtransaction was rolled back: its rows (and its children's) go.
void forget_subtransaction(SubTransactionId subid);
// Puts `n` rows (their Common in TopTransactionContext) before the rows captured so far: the
// writer writes them first (load.cpp moves a restore's own rows after the restored chain).
void prepend_rows(const Row* moved, int n);

// migrations_schema.audit
extern bool enabled;

// ---- hook.cpp: the statement text ----

// Sets c->statement and c->statement_exact for the event (see hook.cpp).
void statement_leaf(Common* c, Node* parsetree);
void forget_statement_cache();
void install_hook();
extern const char* migration_version;
extern const char* migration_script;

// ---- detail.cpp: the jsonb detail of a row, as text in TopTransactionContext ----

void json_key(StringInfo buf, const char* key);
const char* json_done(StringInfo buf);
const char* grant_detail(const InternalGrant* g);
const char* default_privileges_detail(AlterDefaultPrivilegesStmt* stmt);
const char* rewrite_detail(int reason);
const char* drop_detail(bool original, bool normal);
Oid class_for_grant(ObjectType t);

// ---- chain.cpp: canonical form and hash of a row, the chain lock and head ----

constexpr int kChainCount = 23;  // every column but `hash` (chain.cpp lists them)

// Column positions (0-based) in a tuple descriptor: the chain columns, then `hash`.
struct Layout {
    int chain[kChainCount];
    int hash;
};
int find_column(TupleDesc desc, const char* name);
void layout_leaf(TupleDesc desc, Layout* l);
void row_hash(TupleDesc desc, const Layout* l, const Datum* values, const bool* nulls,
              StringInfo buf, uint8* digest);
Datum bytea_datum(const uint8* data, size_t len);
Datum text_datum(const char* s);
// The audit table, or InvalidOid when it does not exist (the extension is being dropped).
Oid audit_table();
// The audit table's rows in id order (its primary key), with the latest snapshot: read under
// the chain lock, every earlier writer has committed. Leaves.
struct IdScan {
    Relation index;
    Snapshot snap;
    SysScanDesc scan;
};
void begin_id_scan(Relation rel, IdScan* s);
void end_id_scan(IdScan* s);
void lock_chain();
void read_head(Relation rel, const Layout* l, int64* id, uint8* hash, bool* found);

// ---- purge.cpp ----
extern bool purge_active;
extern Oid purge_relid;

}  // namespace ms::audit::internal
