// Capture: the event triggers turn each DDL event into rows, kept in transaction memory until
// the pre-commit writer (writer.cpp) chains and stores them.
//
// Almost everything here talks to PostgreSQL, so most functions are "leaf" functions: plain C
// style, no object with a non-trivial destructor, called through guard() from the C++ core or
// from a PostgreSQL callback. They raise PostgreSQL errors, never C++ exceptions.
#include <cstring>
#include <string>

#include "audit/internal.hpp"

namespace ms::audit::internal {

Row* rows = nullptr;
int n_rows = 0;
bool loaded = false;
namespace {
int cap_rows = 0;
int n_moved = 0;  // rows of the list that prepend_rows() put first
}  // namespace

bool enabled = true;

void reset_transaction_state() {
    rows = nullptr;  // the memory belongs to TopTransactionContext
    n_rows = 0;
    cap_rows = 0;
    n_moved = 0;
    loaded = false;
    forget_statement_cache();
    purge_active = false;
}

// Rows of the subtransaction and its children (started after it: higher ids) go; the others
// keep their order. Captured rows of those subtransactions are at the end, but rows moved by a
// load in one of them were put first (prepend_rows).
void forget_subtransaction(SubTransactionId subid) {
    if (n_moved == 0) {
        while (n_rows > 0 && rows[n_rows - 1].common->subid >= subid) n_rows--;
    } else {
        int kept = 0;
        n_moved = 0;
        for (int i = 0; i < n_rows; i++) {
            if (rows[i].common->subid >= subid) continue;
            n_moved += rows[i].common->moved ? 1 : 0;
            rows[kept++] = rows[i];
        }
        n_rows = kept;
    }
    forget_statement_cache();
    purge_active = false;
}

char* top_strdup(const char* s) {
    return s ? MemoryContextStrdup(TopTransactionContext, s) : nullptr;
}

char* top_text(Datum d) {
    MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
    char* s = TextDatumGetCString(d);
    MemoryContextSwitchTo(old);
    return s;
}

namespace {

char* role_name(Oid role) {
    char* name = GetUserNameFromId(role, true);
    if (name == nullptr) name = psprintf("%u", role);
    return top_strdup(name);
}

}  // namespace

Common* common_leaf(const char* command_tag, Node* parsetree) {
    Common* c = static_cast<Common*>(MemoryContextAllocZero(TopTransactionContext, sizeof(Common)));
    c->subid = GetCurrentSubTransactionId();
    c->statement_time = GetCurrentStatementStartTimestamp();
    c->fxid = U64FromFullTransactionId(GetTopFullTransactionId());
    c->session_user_name = role_name(GetSessionUserId());
    c->current_user_name = role_name(GetUserId());
    c->application_name =
        application_name && application_name[0] ? top_strdup(application_name) : nullptr;
    statement_leaf(c, parsetree);
    c->migration_version = top_strdup(migration_version);
    c->migration_script = top_strdup(migration_script);
    c->command_tag = top_strdup(command_tag);
    return c;
}

namespace {

// Room for `more` rows after the n_rows there are.
void reserve_rows(int more) {
    if (n_rows + more <= cap_rows) return;
    int cap = cap_rows ? cap_rows : 64;
    while (cap < n_rows + more) cap *= 2;
    size_t size = sizeof(Row) * static_cast<size_t>(cap);
    rows = static_cast<Row*>(rows ? repalloc_huge(rows, size)
                                  : MemoryContextAllocHuge(TopTransactionContext, size));
    cap_rows = cap;
}

}  // namespace

void prepend_rows(const Row* moved, int n) {
    if (n <= 0) return;
    reserve_rows(n);
    memmove(&rows[n], &rows[0], sizeof(Row) * static_cast<size_t>(n_rows));
    memcpy(&rows[0], moved, sizeof(Row) * static_cast<size_t>(n));
    n_rows += n;
    n_moved += n;
}

Row* add_row(const Common* c) {
    reserve_rows(1);
    Row* r = &rows[n_rows++];
    memset(r, 0, sizeof(Row));
    r->common = c;
    r->command_tag = c->command_tag;
    return r;
}

namespace {

// The object's schema ("pg_temp" for any temporary schema), or nullptr.
const char* schema_of(const ObjectAddress* addr, bool* temporary) {
    *temporary = false;
    Oid nsp = get_object_namespace(addr);
    if (!OidIsValid(nsp)) return nullptr;
    if (isAnyTempNamespace(nsp)) {
        *temporary = true;
        return "pg_temp";
    }
    return top_strdup(get_namespace_name(nsp));
}

const char* event_for_tag(const char* tag) {
    if (strncmp(tag, "CREATE", 6) == 0 || strncmp(tag, "IMPORT", 6) == 0 ||
        strcmp(tag, "SELECT INTO") == 0)
        return "create";
    if (strncmp(tag, "DROP", 4) == 0) return "drop";
    if (strcmp(tag, "COMMENT") == 0) return "comment";
    if (strcmp(tag, "GRANT") == 0) return "grant";
    if (strcmp(tag, "REVOKE") == 0) return "revoke";
    if (strncmp(tag, "REFRESH", 7) == 0) return "refresh";
    return "alter";
}

// GRANT / REVOKE: the event trigger's own row names no object; the statement's resolved
// object list (InternalGrant, collected with the command) does. One row per object.
void grant_rows(Common** c, const char* tag, CollectedCommand* cmd, Node* parsetree) {
    InternalGrant* g = cmd->d.grant.istmt;
    Oid classid = class_for_grant(g->objtype);
    const char* detail = nullptr;
    ListCell* lc;
    foreach (lc, g->objects) {
        Oid objid = lfirst_oid(lc);
        ObjectAddress addr{classid, objid, 0};
        bool temporary = false;
        const char* schema = OidIsValid(classid) ? schema_of(&addr, &temporary) : nullptr;
        if (temporary) continue;
        if (*c == nullptr) *c = common_leaf(tag, parsetree);
        if (detail == nullptr) detail = grant_detail(g);
        Row* r = add_row(*c);
        if (strcmp(r->command_tag, tag) != 0) r->command_tag = top_strdup(tag);
        r->event = g->is_grant ? "grant" : "revoke";
        r->in_extension = cmd->in_extension;
        r->detail = detail;
        if (OidIsValid(classid)) {
            r->has_address = true;
            r->classid = classid;
            r->objid = objid;
            r->object_type = top_strdup(getObjectTypeDescription(&addr, true));
            r->object_identity = top_strdup(getObjectIdentity(&addr, true));
            r->schema_name = schema;
        }
    }
}

// no schema of their own), or InvalidOid.
Oid owning_relation(Oid classid, Oid objid) {
    AttrNumber oidcol, relcol;
    switch (classid) {
        case TriggerRelationId:
            oidcol = Anum_pg_trigger_oid;
            relcol = Anum_pg_trigger_tgrelid;
            break;
        case PolicyRelationId:
            oidcol = Anum_pg_policy_oid;
            relcol = Anum_pg_policy_polrelid;
            break;
        case RewriteRelationId:
            oidcol = Anum_pg_rewrite_oid;
            relcol = Anum_pg_rewrite_ev_class;
            break;
        case ConstraintRelationId:
            oidcol = Anum_pg_constraint_oid;
            relcol = Anum_pg_constraint_conrelid;
            break;
        case AttrDefaultRelationId:
            oidcol = Anum_pg_attrdef_oid;
            relcol = Anum_pg_attrdef_adrelid;
            break;
        default:
            return InvalidOid;
    }
    Relation catalog = table_open(classid, AccessShareLock);
    HeapTuple tup = get_catalog_object_by_oid(catalog, oidcol, objid);
    Oid relid = InvalidOid;
    if (HeapTupleIsValid(tup)) {
        bool isnull;
        Datum d = ms_heap_getattr(tup, relcol, RelationGetDescr(catalog), &isnull);
        if (!isnull) relid = DatumGetObjectId(d);
    }
    table_close(catalog, AccessShareLock);
    return relid;
}

bool is_temp_schema_name(const char* schema) {
    return strcmp(schema, "pg_temp") == 0 || strncmp(schema, "pg_temp_", 8) == 0 ||
           strncmp(schema, "pg_toast_temp_", 14) == 0;
}

// "name on schema.table" (a trigger, rule, policy or constraint) of a temporary table. The
// table comes after the last " on "; object identities show temporary schemas as pg_temp.
bool on_temp_table(const char* identity) {
    const char* last = nullptr;
    for (const char* p = strstr(identity, " on "); p != nullptr; p = strstr(p + 1, " on "))
        last = p;
    return last != nullptr && strncmp(last + 4, "pg_temp.", 8) == 0;
}

// Runs a built-in set-returning event trigger function (materialize mode) and returns its
// rows; the tuplestore and descriptor live in the current memory context.
Tuplestorestate* call_srf(Oid fnoid, TupleDesc* desc) {
    FmgrInfo flinfo;
    fmgr_info(fnoid, &flinfo);
    ReturnSetInfo* rsinfo = makeNode(ReturnSetInfo);
    // The event trigger functions only put their tuplestore in the per-query memory: the
    // call's own context, freed with it. No standalone expression context (and its memory
    // contexts) per event.
    rsinfo->econtext = makeNode(ExprContext);
    rsinfo->econtext->ecxt_per_query_memory = CurrentMemoryContext;
    rsinfo->allowedModes = SFRM_Materialize;
    LOCAL_FCINFO(fcinfo, 0);
    InitFunctionCallInfoData(*fcinfo, &flinfo, 0, InvalidOid, nullptr,
                             reinterpret_cast<Node*>(rsinfo));
    (void)FunctionCallInvoke(fcinfo);
    *desc = rsinfo->setDesc;
    return rsinfo->setResult;
}

// ddl_command_end: one row per object of pg_event_trigger_ddl_commands().
void ddl_command_end_leaf(EventTriggerData* trig) {
    TupleDesc desc;
    Tuplestorestate* store = call_srf(F_PG_EVENT_TRIGGER_DDL_COMMANDS, &desc);
    if (store == nullptr) return;
    TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
    Common* c = nullptr;
    while (tuplestore_gettupleslot(store, true, false, slot)) {
        slot_getallattrs(slot);
        const Datum* v = slot->tts_values;
        const bool* n = slot->tts_isnull;
        // classid, objid, objsubid, command_tag, object_type, schema_name, object_identity,
        // in_extension, command
        // Temporary objects are not the schema. Triggers, policies, rules and constraints have
        // no schema of their own: their table's tells, and becomes the row's schema_name.
        const char* owner_schema = nullptr;
        if (!n[5]) {
            char* schema = TextDatumGetCString(v[5]);
            if (is_temp_schema_name(schema)) continue;
        } else if (!n[0]) {
            Oid relid = owning_relation(DatumGetObjectId(v[0]), DatumGetObjectId(v[1]));
            if (OidIsValid(relid)) {
                Oid nsp = get_rel_namespace(relid);
                if (OidIsValid(nsp) && isAnyTempNamespace(nsp)) continue;
                if (OidIsValid(nsp)) owner_schema = top_strdup(get_namespace_name(nsp));
            }
        }
        auto* cmd = reinterpret_cast<CollectedCommand*>(DatumGetPointer(v[8]));
        char* tag = TextDatumGetCString(v[3]);
        if (cmd->type == SCT_Grant) {
            grant_rows(&c, tag, cmd, trig->parsetree);
            continue;
        }
        if (c == nullptr) c = common_leaf(tag, trig->parsetree);
        Row* r = add_row(c);
        r->command_tag = top_strdup(tag);
        r->in_extension = DatumGetBool(v[7]);
        r->object_type = top_text(v[4]);
        r->schema_name = n[5] ? owner_schema : top_text(v[5]);
        r->object_identity = n[6] ? nullptr : top_text(v[6]);
        if (!n[0]) {
            r->has_address = true;
            r->classid = DatumGetObjectId(v[0]);
            r->objid = DatumGetObjectId(v[1]);
            r->objsubid = DatumGetInt32(v[2]);
        }
        if (cmd->type == SCT_AlterDefaultPrivileges) {
            auto* stmt = reinterpret_cast<AlterDefaultPrivilegesStmt*>(cmd->parsetree);
            r->event = stmt->action->is_grant ? "grant" : "revoke";
            r->detail = default_privileges_detail(stmt);
        } else {
            r->event = event_for_tag(tag);
        }
    }
    ExecDropSingleTupleTableSlot(slot);
    tuplestore_end(store);
}

// A relation's identity ("schema"."table", each part quoted as needed) fits: two names of at
// most 63 bytes, every character possibly a doubled quote, two enclosing quotes, a dot.
constexpr size_t kIdentityKeySize = 2 * (2 * NAMEDATALEN + 2) + 2;

// The identity of the table whose column a dropped default belonged to: "for public.t.id"
// gives public.t. The column is the last part (a quoted name may hold dots and doubled
// quotes). False when the identity is not of that form or too long.
bool default_owner(const char* identity, char* key) {
    if (strncmp(identity, "for ", 4) != 0) return false;
    const char* start = identity + 4;
    const char* end = start + strlen(start);
    const char* p = end;
    if (p > start && p[-1] == '"') {
        p--;  // the closing quote; find the opening one (inner quotes come in pairs)
        while (p > start) {
            p--;
            if (*p != '"') continue;
            if (p > start && p[-1] == '"') {
                p--;
                continue;
            }
            break;
        }
    } else {
        while (p > start && p[-1] != '.') p--;
    }
    if (p <= start || p[-1] != '.') return false;
    size_t len = static_cast<size_t>(p - 1 - start);
    if (len >= kIdentityKeySize) return false;
    memcpy(key, start, len);
    key[len] = '\0';
    return true;
}

// sql_drop: one row per dropped object, except temporary objects and the parts PostgreSQL
// creates and drops together with their owner object (row and array types, a composite type's
// relation, defaults of columns whose table is dropped too, TOAST storage, a view's _RETURN
// rule), unless the statement named them.
void sql_drop_leaf(EventTriggerData* trig) {
    TupleDesc desc;
    Tuplestorestate* store = call_srf(F_PG_EVENT_TRIGGER_DROPPED_OBJECTS, &desc);
    if (store == nullptr) return;
    TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
    // classid, objid, objsubid, original, normal, is_temporary, object_type, schema_name,
    // object_name, object_identity, address_names, address_args
    // First pass: the relations dropped (a hash set of their identities), and whether the
    // statement drops an extension.
    HASHCTL ctl;
    memset(&ctl, 0, sizeof ctl);
    ctl.keysize = kIdentityKeySize;
    ctl.entrysize = kIdentityKeySize;
    ctl.hcxt = CurrentMemoryContext;
    HTAB* dropped_relations =
        hash_create("dropped relations", 64, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
    bool drops_extension = false;
    while (tuplestore_gettupleslot(store, true, false, slot)) {
        CHECK_FOR_INTERRUPTS();
        slot_getallattrs(slot);
        const Datum* v = slot->tts_values;
        const bool* n = slot->tts_isnull;
        if (DatumGetObjectId(v[0]) == RelationRelationId && !n[9]) {
            char key[kIdentityKeySize];
            snprintf(key, sizeof key, "%s", TextDatumGetCString(v[9]));
            (void)hash_search(dropped_relations, key, HASH_ENTER, nullptr);
        }
        if (DatumGetObjectId(v[0]) == ExtensionRelationId && DatumGetBool(v[3]))
            drops_extension = true;
    }
    tuplestore_rescan(store);
    Common* c = nullptr;
    while (tuplestore_gettupleslot(store, true, false, slot)) {
        CHECK_FOR_INTERRUPTS();
        slot_getallattrs(slot);
        const Datum* v = slot->tts_values;
        const bool* n = slot->tts_isnull;
        bool original = DatumGetBool(v[3]);
        bool normal = DatumGetBool(v[4]);
        if (DatumGetBool(v[5])) continue;
        char* type = TextDatumGetCString(v[6]);
        char* schema = n[7] ? nullptr : TextDatumGetCString(v[7]);
        char* identity = n[9] ? nullptr : TextDatumGetCString(v[9]);
        if (schema && (strcmp(schema, "pg_toast") == 0 || is_temp_schema_name(schema))) continue;
        if (schema == nullptr && identity && on_temp_table(identity)) continue;
        if (!original) {
            if (strcmp(type, "composite type") == 0 || strcmp(type, "toast table") == 0) continue;
            if (!normal && strcmp(type, "type") == 0) continue;
            if (strcmp(type, "rule") == 0 && identity &&
                strncmp(identity, "\"_RETURN\" on ", 13) == 0)
                continue;
            if (strcmp(type, "default value") == 0) {
                // "for public.t.id": skip it when public.t goes too (or it is not normal)
                bool owner_dropped = !normal;
                char key[kIdentityKeySize];
                if (!owner_dropped && identity && default_owner(identity, key))
                    owner_dropped = hash_search(dropped_relations, key, HASH_FIND, nullptr);
                if (owner_dropped) continue;
            }
        }
        if (c == nullptr) c = common_leaf(GetCommandTagName(trig->tag), trig->parsetree);
        Row* r = add_row(c);
        r->event = "drop";
        // Members of an extension that is dropped (or changed by its update script).
        r->in_extension = creating_extension || (drops_extension && !original && !normal);
        r->object_type = top_strdup(type);
        r->schema_name = top_strdup(schema);
        r->object_identity = top_strdup(identity);
        r->has_address = true;
        r->classid = DatumGetObjectId(v[0]);
        r->objid = DatumGetObjectId(v[1]);
        r->objsubid = DatumGetInt32(v[2]);
        r->detail = drop_detail(original, normal);
    }
    hash_destroy(dropped_relations);
    ExecDropSingleTupleTableSlot(slot);
    tuplestore_end(store);
}

// table_rewrite: the table about to be rewritten and PostgreSQL's reason bits.
void rewrite_target_leaf(Oid* relid, int* reason) {
    LOCAL_FCINFO(fcinfo, 0);
    InitFunctionCallInfoData(*fcinfo, nullptr, 0, InvalidOid, nullptr, nullptr);
    *relid = DatumGetObjectId(pg_event_trigger_table_rewrite_oid(fcinfo));
    *reason = DatumGetInt32(pg_event_trigger_table_rewrite_reason(fcinfo));
}

// table_rewrite: the table and PostgreSQL's reasons.
void table_rewrite_leaf(EventTriggerData* trig, Oid relid, int reason) {
    ObjectAddress addr{RelationRelationId, relid, 0};
    bool temporary = false;
    const char* schema = schema_of(&addr, &temporary);
    if (temporary) return;
    Row* r = add_row(common_leaf(GetCommandTagName(trig->tag), trig->parsetree));
    r->event = "rewrite";
    r->has_address = true;
    r->classid = RelationRelationId;
    r->objid = relid;
    r->object_type = top_strdup(getObjectTypeDescription(&addr, true));
    r->object_identity = top_strdup(getObjectIdentity(&addr, true));
    r->schema_name = schema;
    r->detail = rewrite_detail(reason);
}

EventTriggerData* event_data(Call& c, const char* name) {
    if (!CALLED_AS_EVENT_TRIGGER(c.fcinfo))
        throw Error(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED,
                    std::string(name) + " must be called as an event trigger");
    return reinterpret_cast<EventTriggerData*>(c.fcinfo->context);
}

}  // namespace
}  // namespace ms::audit::internal

namespace ms::audit {

using namespace internal;

namespace {
RewriteObserver rewrite_observer = nullptr;
}  // namespace

void observe_rewrites(RewriteObserver observer) noexcept {
    rewrite_observer = observer;
}

const RewriteReason kRewriteReasons[4] = {
    {AT_REWRITE_ALTER_PERSISTENCE, "persistence change (SET LOGGED / UNLOGGED)"},
    {AT_REWRITE_DEFAULT_VAL, "new column with a volatile default or a domain constraint"},
    {AT_REWRITE_COLUMN_REWRITE, "column type change that is not binary coercible"},
    {AT_REWRITE_ACCESS_METHOD, "access method change"},
};

namespace {
Datum on_event(Call& c, const char* name, void (*leaf)(EventTriggerData*)) {
    EventTriggerData* trig = event_data(c, name);
    if (!enabled) return (Datum)0;
    guard([&] { leaf(trig); });
    return (Datum)0;
}
}  // namespace

Datum on_ddl_command_end(Call& c) {
    return on_event(c, "migrate.audit_ddl_command_end()", ddl_command_end_leaf);
}

Datum on_sql_drop(Call& c) {
    return on_event(c, "migrate.audit_sql_drop()", sql_drop_leaf);
}

Datum on_table_rewrite(Call& c) {
    EventTriggerData* trig = event_data(c, "migrate.audit_table_rewrite()");
    Oid relid = InvalidOid;
    int reason = 0;
    guard([&] { rewrite_target_leaf(&relid, &reason); });
    // The observer (the rewrite guard of a running migration) comes first, whether the audit
    // is on or not.
    if (rewrite_observer != nullptr) rewrite_observer(relid, reason);
    if (!enabled) return (Datum)0;
    guard([&] { table_rewrite_leaf(trig, relid, reason); });
    return (Datum)0;
}

// Rows reach migrate.ddl_audit through the audit itself, which does not fire triggers. A
// direct INSERT or COPY (a privileged role: a restore) is let through only into an empty

}  // namespace ms::audit
