// The DDL audit. See audit.hpp for the design; README "DDL audit" for what users see.
//
// Almost everything here talks to PostgreSQL, so most functions are "leaf" functions: plain C
// style, no object with a non-trivial destructor, called through guard() from the C++ core or
// from a PostgreSQL callback. They raise PostgreSQL errors, never C++ exceptions.
#include "audit.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>

#include "checksum.hpp"
#include "safety.hpp"
#include "spi.hpp"

namespace ms::audit {

namespace {

// ------------------------------------------------------------------------------------------
// Statement text: the ProcessUtility hook keeps a stack of the utility statements running
// (client statements, statements run by functions through SPI, the runner's statements), so
// that an event trigger can name the innermost one exactly (stmt_location / stmt_len).
// ------------------------------------------------------------------------------------------

constexpr int kMaxFrames = 256;
struct Frame {
    const char* query;
    int location;
    int len;
};
Frame frames[kMaxFrames];
int depth = 0;  // may exceed kMaxFrames; frames beyond it are not recorded
bool hook_installed = false;
ProcessUtility_hook_type prev_process_utility = nullptr;

// Set by MigrationScope (the runner).
const char* migration_version = nullptr;
const char* migration_script = nullptr;
const char* migration_statement = nullptr;

bool purge_active = false;
Oid purge_relid = InvalidOid;  // the table purge_audit() is deleting from

// migrations_schema.audit: superuser-only switch (for the sessions of a restore).
bool audit_enabled = true;

extern "C" void audit_process_utility(PlannedStmt* pstmt, const char* queryString,
                                      bool readOnlyTree, ProcessUtilityContext context,
                                      ParamListInfo params, QueryEnvironment* queryEnv,
                                      DestReceiver* dest, QueryCompletion* qc) {
    int saved = depth;
    if (depth < kMaxFrames)
        frames[depth] = Frame{queryString, pstmt->stmt_location, pstmt->stmt_len};
    depth++;
    PG_TRY();
    {
        if (prev_process_utility)
            prev_process_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest,
                                 qc);
        else
            standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv,
                                    dest, qc);
    }
    PG_FINALLY();
    { depth = saved; }
    PG_END_TRY();
}

// ------------------------------------------------------------------------------------------
// Captured rows, kept in TopTransactionContext until pre-commit.
// ------------------------------------------------------------------------------------------

struct Common;

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

Row* rows = nullptr;
int n_rows = 0;
int cap_rows = 0;

// The last statement text copied into transaction memory, reused while it does not change.
const char* cached_statement = nullptr;
size_t cached_len = 0;
bool cached_exact = false;

void reset_transaction_state() {
    rows = nullptr;  // the memory belongs to TopTransactionContext
    n_rows = 0;
    cap_rows = 0;
    cached_statement = nullptr;
    cached_len = 0;
    purge_active = false;
}

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
};

char* top_strdup(const char* s) {
    return s ? MemoryContextStrdup(TopTransactionContext, s) : nullptr;
}

char* top_text(Datum d) {
    MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
    char* s = TextDatumGetCString(d);
    MemoryContextSwitchTo(old);
    return s;
}

char* role_name(Oid role) {
    char* name = GetUserNameFromId(role, true);
    if (name == nullptr) name = psprintf("%u", role);
    return top_strdup(name);
}

bool is_space(char ch) {
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

// The client's query string parsed again (raw statements), or NIL when it does not parse.
List* parse_client_string(const char* sql) {
    List* stmts = NIL;
    MemoryContext cxt = CurrentMemoryContext;
    PG_TRY();
    { stmts = raw_parser(sql, RAW_PARSE_DEFAULT); }
    PG_CATCH();
    {
        MemoryContextSwitchTo(cxt);
        FlushErrorState();
        stmts = NIL;
    }
    PG_END_TRY();
    return stmts;
}

// Without the hook: the statement of the client's string behind the event. A string of one
// statement qualifies when it is of the event's kind (not a DO block or a SELECT whose
// function ran the DDL); in a longer string, only a statement whose parse tree equals the
// event's (equal() ignores token locations) and is the only such one. Execution may have
// changed the event's tree in place (CREATE TABLE fills in the schema), so a longer string
// often cannot be resolved: the caller then records the whole string as not exact.
bool find_in_client_string(const char* sql, Node* parsetree, const char** src, size_t* len) {
    List* stmts = parse_client_string(sql);
    RawStmt* found = nullptr;
    if (list_length(stmts) == 1) {
        // No parse tree: a row of our own (purge), made by the client's statement itself.
        RawStmt* rs = static_cast<RawStmt*>(linitial(stmts));
        if (parsetree == nullptr || nodeTag(rs->stmt) == nodeTag(parsetree)) found = rs;
    } else if (parsetree != nullptr) {
        ListCell* lc;
        foreach (lc, stmts) {
            RawStmt* rs = static_cast<RawStmt*>(lfirst(lc));
            if (!equal(rs->stmt, parsetree)) continue;
            if (found != nullptr) return false;  // two identical statements: cannot tell
            found = rs;
        }
    }
    if (found == nullptr) return false;
    size_t total = strlen(sql);
    size_t loc = found->stmt_location > 0 ? static_cast<size_t>(found->stmt_location) : 0;
    if (loc > total) return false;
    *src = sql + loc;
    *len = found->stmt_len > 0 ? std::min(static_cast<size_t>(found->stmt_len), total - loc)
                               : total - loc;
    return true;
}

// The text of the statement that caused the event: the innermost statement the hook saw,
// else the runner's statement, else the statement of the client's query string with the
// event's parse tree, else the client's whole query string (statement_exact = false).
void statement_leaf(Common* c, Node* parsetree) {
    const char* src = nullptr;
    size_t len = 0;
    bool exact = false;
    if (depth > 0 && depth <= kMaxFrames && frames[depth - 1].query != nullptr) {
        // PostgreSQL's location and length lie within the query string: no strlen of the
        // whole string, which for a long multi-statement string would be paid per statement.
        const Frame& f = frames[depth - 1];
        src = f.query + (f.location > 0 ? f.location : 0);
        len = f.len > 0 ? static_cast<size_t>(f.len) : strlen(src);
        exact = true;
    } else if (migration_statement != nullptr) {
        src = migration_statement;
        len = strlen(src);
        exact = true;
    } else if (debug_query_string != nullptr) {
        exact = find_in_client_string(debug_query_string, parsetree, &src, &len);
        if (!exact) {
            src = debug_query_string;
            len = strlen(src);
        }
    }
    if (src == nullptr) {
        c->statement = nullptr;
        c->statement_exact = false;
        return;
    }
    // Leading white space and comments belong to the span PostgreSQL reports, not to the
    // statement.
    for (;;) {
        while (len > 0 && is_space(src[0])) {
            src++;
            len--;
        }
        if (len >= 2 && src[0] == '-' && src[1] == '-') {
            while (len > 0 && src[0] != '\n') {
                src++;
                len--;
            }
        } else if (len >= 2 && src[0] == '/' && src[1] == '*') {
            int nest = 0;  // PostgreSQL's block comments nest
            do {
                if (len >= 2 && src[0] == '/' && src[1] == '*') {
                    nest++;
                    src += 2;
                    len -= 2;
                } else if (len >= 2 && src[0] == '*' && src[1] == '/') {
                    nest--;
                    src += 2;
                    len -= 2;
                } else {
                    src++;
                    len--;
                }
            } while (nest > 0 && len > 0);
        } else {
            break;
        }
    }
    while (len > 0 && (is_space(src[len - 1]) || src[len - 1] == ';')) len--;
    if (cached_statement != nullptr && cached_len == len &&
        memcmp(cached_statement, src, len) == 0 && (cached_exact || !exact)) {
        c->statement = cached_statement;
        c->statement_exact = cached_exact;
        return;
    }
    char* copy = static_cast<char*>(MemoryContextAlloc(TopTransactionContext, len + 1));
    memcpy(copy, src, len);
    copy[len] = '\0';
    cached_statement = copy;
    cached_len = len;
    cached_exact = exact;
    c->statement = copy;
    c->statement_exact = exact;
}

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

Row* add_row(const Common* c) {
    if (n_rows == cap_rows) {
        int cap = cap_rows ? cap_rows * 2 : 64;
        size_t size = sizeof(Row) * static_cast<size_t>(cap);
        rows = static_cast<Row*>(rows ? repalloc_huge(rows, size)
                                      : MemoryContextAllocHuge(TopTransactionContext, size));
        cap_rows = cap;
    }
    Row* r = &rows[n_rows++];
    memset(r, 0, sizeof(Row));
    r->common = c;
    r->command_tag = c->command_tag;
    return r;
}

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

// ---- JSON details ----

void json_key(StringInfo buf, const char* key) {
    if (buf->len > 1) appendStringInfoChar(buf, ',');
    escape_json(buf, key);
    appendStringInfoChar(buf, ':');
}

void json_bool(StringInfo buf, const char* key, bool v) {
    json_key(buf, key);
    appendStringInfoString(buf, v ? "true" : "false");
}

const char* json_done(StringInfo buf) {
    appendStringInfoChar(buf, '}');
    return top_strdup(buf->data);
}

// PostgreSQL's parser keeps privilege names in lower case; GRANT rows show them in upper case.
void escape_json_upper(StringInfo buf, const char* name) {
    char* up = pstrdup(name);
    for (char* p = up; *p; p++) *p = pg_toupper(static_cast<unsigned char>(*p));
    escape_json(buf, up);
}

struct PrivName {
    AclMode bit;
    const char* name;
};
const PrivName kPrivileges[] = {
    {ACL_SELECT, "SELECT"},
    {ACL_INSERT, "INSERT"},
    {ACL_UPDATE, "UPDATE"},
    {ACL_DELETE, "DELETE"},
    {ACL_TRUNCATE, "TRUNCATE"},
    {ACL_REFERENCES, "REFERENCES"},
    {ACL_TRIGGER, "TRIGGER"},
    {ACL_EXECUTE, "EXECUTE"},
    {ACL_USAGE, "USAGE"},
    {ACL_CREATE, "CREATE"},
    {ACL_CREATE_TEMP, "TEMPORARY"},
    {ACL_CONNECT, "CONNECT"},
    {ACL_SET, "SET"},
    {ACL_ALTER_SYSTEM, "ALTER SYSTEM"},
};

const char* grant_detail(const InternalGrant* g) {
    StringInfoData buf;
    initStringInfo(&buf);
    appendStringInfoChar(&buf, '{');
    json_key(&buf, "privileges");
    appendStringInfoChar(&buf, '[');
    bool first = true;
    if (g->all_privs) {
        appendStringInfoString(&buf, "\"ALL\"");
        first = false;
    } else {
        for (const PrivName& p : kPrivileges) {
            if ((g->privileges & p.bit) == 0) continue;
            if (!first) appendStringInfoChar(&buf, ',');
            escape_json(&buf, p.name);
            first = false;
        }
    }
    appendStringInfoChar(&buf, ']');
    if (g->col_privs != NIL) {
        json_key(&buf, "column_privileges");
        appendStringInfoChar(&buf, '{');
        ListCell* lc;
        bool firstcol = true;
        foreach (lc, g->col_privs) {
            AccessPriv* ap = static_cast<AccessPriv*>(lfirst(lc));
            if (!firstcol) appendStringInfoChar(&buf, ',');
            firstcol = false;
            escape_json_upper(&buf, ap->priv_name ? ap->priv_name : "ALL");
            appendStringInfoString(&buf, ":[");
            ListCell* cc;
            bool firstname = true;
            foreach (cc, ap->cols) {
                if (!firstname) appendStringInfoChar(&buf, ',');
                firstname = false;
                escape_json(&buf, strVal(lfirst(cc)));
            }
            appendStringInfoChar(&buf, ']');
        }
        appendStringInfoChar(&buf, '}');
    }
    json_key(&buf, "grantees");
    appendStringInfoChar(&buf, '[');
    ListCell* lc;
    first = true;
    foreach (lc, g->grantees) {
        Oid role = lfirst_oid(lc);
        if (!first) appendStringInfoChar(&buf, ',');
        first = false;
        if (role == ACL_ID_PUBLIC) {
            appendStringInfoString(&buf, "\"PUBLIC\"");
        } else {
            char* name = GetUserNameFromId(role, true);
            escape_json(&buf, name ? name : psprintf("%u", role));
        }
    }
    appendStringInfoChar(&buf, ']');
    json_bool(&buf, "grant_option", g->grant_option);
    if (!g->is_grant) json_bool(&buf, "cascade", g->behavior == DROP_CASCADE);
    return json_done(&buf);
}

Oid class_for_grant(ObjectType t) {
    switch (t) {
        case OBJECT_TABLE:
        case OBJECT_SEQUENCE:
            return RelationRelationId;
        case OBJECT_FUNCTION:
        case OBJECT_PROCEDURE:
        case OBJECT_ROUTINE:
            return ProcedureRelationId;
        case OBJECT_SCHEMA:
            return NamespaceRelationId;
        case OBJECT_TYPE:
        case OBJECT_DOMAIN:
            return TypeRelationId;
        case OBJECT_LANGUAGE:
            return LanguageRelationId;
        case OBJECT_LARGEOBJECT:
            return LargeObjectRelationId;
        case OBJECT_FDW:
            return ForeignDataWrapperRelationId;
        case OBJECT_FOREIGN_SERVER:
            return ForeignServerRelationId;
        default:
            return InvalidOid;
    }
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

// ALTER DEFAULT PRIVILEGES: no object; the schemas and roles it applies to are in the detail.
const char* default_privileges_detail(AlterDefaultPrivilegesStmt* stmt) {
    StringInfoData buf;
    initStringInfo(&buf);
    appendStringInfoChar(&buf, '{');
    ListCell* lc;
    foreach (lc, stmt->options) {
        DefElem* opt = static_cast<DefElem*>(lfirst(lc));
        bool schemas = strcmp(opt->defname, "schemas") == 0;
        if (!schemas && strcmp(opt->defname, "roles") != 0) continue;
        json_key(&buf, opt->defname);
        appendStringInfoChar(&buf, '[');
        ListCell* vc;
        bool first = true;
        foreach (vc, (List*)opt->arg) {
            if (!first) appendStringInfoChar(&buf, ',');
            first = false;
            Node* n = static_cast<Node*>(lfirst(vc));
            if (IsA(n, String))
                escape_json(&buf, strVal(n));
            else if (IsA(n, RoleSpec))
                escape_json(&buf, get_rolespec_name(reinterpret_cast<RoleSpec*>(n)));
        }
        appendStringInfoChar(&buf, ']');
    }
    json_key(&buf, "privileges");
    appendStringInfoChar(&buf, '[');
    bool first = true;
    if (stmt->action->privileges == NIL) appendStringInfoString(&buf, "\"ALL\"");
    foreach (lc, stmt->action->privileges) {
        AccessPriv* ap = static_cast<AccessPriv*>(lfirst(lc));
        if (!first) appendStringInfoChar(&buf, ',');
        first = false;
        escape_json_upper(&buf, ap->priv_name ? ap->priv_name : "ALL");
    }
    appendStringInfoChar(&buf, ']');
    json_key(&buf, "grantees");
    appendStringInfoChar(&buf, '[');
    first = true;
    foreach (lc, stmt->action->grantees) {
        RoleSpec* rs = static_cast<RoleSpec*>(lfirst(lc));
        if (!first) appendStringInfoChar(&buf, ',');
        first = false;
        escape_json(&buf, rs->roletype == ROLESPEC_PUBLIC ? "PUBLIC" : get_rolespec_name(rs));
    }
    appendStringInfoChar(&buf, ']');
    json_bool(&buf, "grant_option", stmt->action->grant_option);
    return json_done(&buf);
}

// The table a trigger, policy, rule, table constraint or column default belongs to (these have
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
        Datum d = heap_getattr(tup, relcol, RelationGetDescr(catalog), &isnull);
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
    // First pass: the relations dropped, and whether the statement drops an extension.
    List* dropped_relations = NIL;
    bool drops_extension = false;
    while (tuplestore_gettupleslot(store, true, false, slot)) {
        slot_getallattrs(slot);
        const Datum* v = slot->tts_values;
        const bool* n = slot->tts_isnull;
        if (DatumGetObjectId(v[0]) == RelationRelationId && !n[9])
            dropped_relations = lappend(dropped_relations, TextDatumGetCString(v[9]));
        if (DatumGetObjectId(v[0]) == ExtensionRelationId && DatumGetBool(v[3]))
            drops_extension = true;
    }
    tuplestore_rescan(store);
    Common* c = nullptr;
    while (tuplestore_gettupleslot(store, true, false, slot)) {
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
                ListCell* lc;
                foreach (lc, dropped_relations) {
                    const char* rel = static_cast<const char*>(lfirst(lc));
                    size_t len = strlen(rel);
                    if (identity && strncmp(identity, "for ", 4) == 0 &&
                        strncmp(identity + 4, rel, len) == 0 && identity[4 + len] == '.')
                        owner_dropped = true;
                }
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
        r->detail = original ? (normal ? "{\"original\": true, \"normal\": true}"
                                       : "{\"original\": true, \"normal\": false}")
                             : (normal ? "{\"original\": false, \"normal\": true}"
                                       : "{\"original\": false, \"normal\": false}");
    }
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
    StringInfoData buf;
    initStringInfo(&buf);
    appendStringInfoChar(&buf, '{');
    json_key(&buf, "reasons");
    appendStringInfoChar(&buf, '[');
    bool first = true;
    for (const auto& r : kRewriteReasons) {
        if ((reason & r.bit) == 0) continue;
        if (!first) appendStringInfoChar(&buf, ',');
        first = false;
        escape_json(&buf, r.text);
    }
    appendStringInfoChar(&buf, ']');
    json_key(&buf, "reason_code");
    appendStringInfo(&buf, "%d", reason);
    r->detail = json_done(&buf);
}

EventTriggerData* event_data(Call& c, const char* name) {
    if (!CALLED_AS_EVENT_TRIGGER(c.fcinfo))
        throw Error(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED,
                    std::string(name) + " must be called as an event trigger");
    return reinterpret_cast<EventTriggerData*>(c.fcinfo->context);
}

// ------------------------------------------------------------------------------------------
// The chain: canonical form and hash of a row, as written and as verified.
// ------------------------------------------------------------------------------------------

// The columns in the hash, in this order (every column but `hash`).
const char* const kChainColumns[] = {
    "id",
    "statement_time",
    "txid",
    "backend_pid",
    "session_user_name",
    "current_user_name",
    "application_name",
    "client_addr",
    "event",
    "command_tag",
    "object_type",
    "schema_name",
    "object_identity",
    "classid",
    "objid",
    "objsubid",
    "in_extension",
    "statement",
    "statement_exact",
    "migration_version",
    "migration_script",
    "detail",
    "prev_hash",
};
constexpr int kChainCount = sizeof(kChainColumns) / sizeof(kChainColumns[0]);
constexpr const char* kCanonicalPrefix = "migrations_schema ddl_audit v1\n";

// Column positions (0-based) in a tuple descriptor: the chain columns, then `hash`.
struct Layout {
    int chain[kChainCount];
    int hash;
};

int find_column(TupleDesc desc, const char* name) {
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        if (!a->attisdropped && strcmp(NameStr(a->attname), name) == 0) return i;
    }
    ereport(
        ERROR,
        (errcode(ERRCODE_UNDEFINED_COLUMN), errmsg("migrate.ddl_audit has no column \"%s\"", name),
         errhint("The audit table was altered; reinstall the extension's version of it.")));
    return -1;
}

void layout_leaf(TupleDesc desc, Layout* l) {
    for (int i = 0; i < kChainCount; i++) l->chain[i] = find_column(desc, kChainColumns[i]);
    l->hash = find_column(desc, "hash");
}

void put_u32(StringInfo buf, uint32 v) {
    char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                 static_cast<char>(v)};
    appendBinaryStringInfo(buf, b, 4);
}

void put_value(StringInfo buf, const char* data, size_t len) {
    appendStringInfoChar(buf, 1);
    put_u32(buf, static_cast<uint32>(len));
    appendBinaryStringInfo(buf, data, static_cast<int>(len));
}

void put_u64(StringInfo buf, uint64 v) {
    char b[8];
    for (int i = 0; i < 8; i++) b[i] = static_cast<char>(v >> (56 - 8 * i));
    put_value(buf, b, 8);
}

// Canonical bytes of one column value: 0x00 for NULL; else 0x01, a 4-byte big-endian length
// and the value: integers, oids, xid8 and timestamps (microseconds since 2000-01-01 UTC) as
// big-endian two's complement; text and name as their bytes; bool as one byte 0/1; bytea raw;
// inet and jsonb as their text output. Nothing depends on settings such as TimeZone.
void put_datum(StringInfo buf, Oid type, Datum d, bool isnull) {
    if (isnull) {
        appendStringInfoChar(buf, 0);
        return;
    }
    switch (type) {
        case INT8OID:
        case TIMESTAMPTZOID:
            put_u64(buf, static_cast<uint64>(DatumGetInt64(d)));
            return;
        case XID8OID:
            put_u64(buf, DatumGetUInt64(d));
            return;
        case INT4OID: {
            char b[4];
            uint32 v = static_cast<uint32>(DatumGetInt32(d));
            for (int i = 0; i < 4; i++) b[i] = static_cast<char>(v >> (24 - 8 * i));
            put_value(buf, b, 4);
            return;
        }
        case OIDOID: {
            char b[4];
            uint32 v = DatumGetObjectId(d);
            for (int i = 0; i < 4; i++) b[i] = static_cast<char>(v >> (24 - 8 * i));
            put_value(buf, b, 4);
            return;
        }
        case BOOLOID: {
            char b = DatumGetBool(d) ? 1 : 0;
            put_value(buf, &b, 1);
            return;
        }
        case NAMEOID: {
            const char* s = NameStr(*DatumGetName(d));
            put_value(buf, s, strlen(s));
            return;
        }
        case TEXTOID:
        case BYTEAOID: {
            struct varlena* v =
                pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(d)));
            put_value(buf, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
            return;
        }
        case JSONBOID: {
            Jsonb* jb = DatumGetJsonbP(d);
            char* s = JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
            put_value(buf, s, strlen(s));
            return;
        }
        default: {
            Oid out;
            bool varlena;
            getTypeOutputInfo(type, &out, &varlena);
            char* s = OidOutputFunctionCall(out, d);
            put_value(buf, s, strlen(s));
            return;
        }
    }
}

void row_hash(TupleDesc desc, const Layout* l, const Datum* values, const bool* nulls,
              StringInfo buf, uint8* digest) {
    resetStringInfo(buf);
    appendStringInfoString(buf, kCanonicalPrefix);
    for (int i = 0; i < kChainCount; i++) {
        int col = l->chain[i];
        put_datum(buf, TupleDescAttr(desc, col)->atttypid, values[col], nulls[col]);
    }
    checksum::sha256_leaf(buf->data, static_cast<size_t>(buf->len), digest);
}

Datum bytea_datum(const uint8* data, size_t len) {
    bytea* b = static_cast<bytea*>(palloc(VARHDRSZ + len));
    SET_VARSIZE(b, VARHDRSZ + len);
    memcpy(VARDATA(b), data, len);
    return PointerGetDatum(b);
}

Datum text_datum(const char* s) {
    return PointerGetDatum(cstring_to_text(s));
}

// The audit table, or InvalidOid when it does not exist (the extension is being dropped).
Oid audit_table() {
    Oid nsp = get_namespace_oid("migrate", true);
    return OidIsValid(nsp) ? get_relname_relid("ddl_audit", nsp) : InvalidOid;
}

// The chain lock: taken before reading the chain's head, held until commit. An object lock on
// the extension, which no SQL command lets an ordinary role take.
void lock_chain() {
    Oid ext = get_extension_oid("migrations_schema", false);
    LockDatabaseObject(ExtensionRelationId, ext, 0, ExclusiveLock);
}

// The newest row's id and hash, read with the latest snapshot (under the chain lock every
// earlier writer has committed). *found is false for an empty table.
void read_head(Relation rel, const Layout* l, int64* id, uint8* hash, bool* found) {
    *found = false;
    Oid pk = RelationGetPrimaryKeyIndex(rel);
    if (!OidIsValid(pk))
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("migrate.ddl_audit has no primary key")));
    Relation index = index_open(pk, AccessShareLock);
    Snapshot snap = RegisterSnapshot(GetLatestSnapshot());
    SysScanDesc scan = systable_beginscan_ordered(rel, index, snap, 0, nullptr);
    HeapTuple tup = systable_getnext_ordered(scan, BackwardScanDirection);
    if (HeapTupleIsValid(tup)) {
        bool isnull;
        TupleDesc desc = RelationGetDescr(rel);
        *id = DatumGetInt64(heap_getattr(tup, l->chain[0] + 1, desc, &isnull));
        Datum h = heap_getattr(tup, l->hash + 1, desc, &isnull);
        if (isnull)
            ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                            errmsg("the newest audit row (id %lld) has no hash",
                                   static_cast<long long>(*id))));
        bytea* b = DatumGetByteaPP(h);
        if (VARSIZE_ANY_EXHDR(b) != PG_SHA256_DIGEST_LENGTH)
            ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                            errmsg("the newest audit row (id %lld) has a malformed hash",
                                   static_cast<long long>(*id))));
        memcpy(hash, VARDATA_ANY(b), PG_SHA256_DIGEST_LENGTH);
        *found = true;
    }
    systable_endscan_ordered(scan);
    UnregisterSnapshot(snap);
    index_close(index, AccessShareLock);
}

Datum client_addr_datum(bool* isnull) {
    LOCAL_FCINFO(fcinfo, 0);
    InitFunctionCallInfoData(*fcinfo, nullptr, 0, InvalidOid, nullptr, nullptr);
    Datum d = inet_client_addr(fcinfo);
    *isnull = fcinfo->isnull;
    return d;
}

// Pre-commit: writes the captured rows, chained, through the executor's insert path
// (constraints checked, every index maintained).
void flush_leaf() {
    Oid relid = audit_table();
    if (!OidIsValid(relid)) return;  // the audit table is gone with this transaction
    Relation rel = table_open(relid, RowExclusiveLock);
    lock_chain();
    TupleDesc desc = RelationGetDescr(rel);
    Layout l;
    layout_leaf(desc, &l);
    int64 id = 0;
    uint8 prev[PG_SHA256_DIGEST_LENGTH];
    bool have_prev = false;
    read_head(rel, &l, &id, prev, &have_prev);

    PushActiveSnapshot(GetTransactionSnapshot());
    EState* estate = CreateExecutorState();
    RangeTblEntry* rte = makeNode(RangeTblEntry);
    rte->rtekind = RTE_RELATION;
    rte->relid = relid;
    rte->relkind = rel->rd_rel->relkind;
    rte->rellockmode = RowExclusiveLock;
    ExecInitRangeTable(estate, list_make1(rte));
    ResultRelInfo* rri = makeNode(ResultRelInfo);
    InitResultRelInfo(rri, rel, 1, nullptr, 0);
    ExecOpenIndices(rri, false);
    estate->es_output_cid = GetCurrentCommandId(true);
    TupleTableSlot* slot = ExecInitExtraTupleSlot(estate, desc, &TTSOpsVirtual);

    bool addr_null;
    Datum addr = client_addr_datum(&addr_null);
    StringInfoData canon;
    initStringInfo(&canon);
    // Column positions by name (the table's column order is not assumed).
    const int* ch = l.chain;
    for (int i = 0; i < n_rows; i++) {
        const Row& r = rows[i];
        const Common& c = *r.common;
        ExecClearTuple(slot);
        Datum* v = slot->tts_values;
        bool* n = slot->tts_isnull;
        for (int a = 0; a < desc->natts; a++) {
            v[a] = (Datum)0;
            n[a] = true;
        }
        auto set = [&](int col, Datum d) {
            v[col] = d;
            n[col] = false;
        };
        auto set_text = [&](int col, const char* s) {
            if (s) set(col, text_datum(s));
        };
        set(ch[0], Int64GetDatum(++id));
        set(ch[1], TimestampTzGetDatum(c.statement_time));
        set(ch[2], UInt64GetDatum(c.fxid));
        set(ch[3], Int32GetDatum(MyProcPid));
        set(ch[4], DirectFunctionCall1(namein, CStringGetDatum(c.session_user_name)));
        set(ch[5], DirectFunctionCall1(namein, CStringGetDatum(c.current_user_name)));
        set_text(ch[6], c.application_name);
        if (!addr_null) set(ch[7], addr);
        set_text(ch[8], r.event);
        set_text(ch[9], r.command_tag);
        set_text(ch[10], r.object_type);
        set_text(ch[11], r.schema_name);
        set_text(ch[12], r.object_identity);
        if (r.has_address) {
            set(ch[13], ObjectIdGetDatum(r.classid));
            set(ch[14], ObjectIdGetDatum(r.objid));
            set(ch[15], Int32GetDatum(r.objsubid));
        }
        set(ch[16], BoolGetDatum(r.in_extension));
        set_text(ch[17], c.statement);
        set(ch[18], BoolGetDatum(c.statement_exact));
        set_text(ch[19], c.migration_version);
        set_text(ch[20], c.migration_script);
        if (r.detail) set(ch[21], DirectFunctionCall1(jsonb_in, CStringGetDatum(r.detail)));
        if (have_prev) set(ch[22], bytea_datum(prev, PG_SHA256_DIGEST_LENGTH));
        uint8 digest[PG_SHA256_DIGEST_LENGTH];
        row_hash(desc, &l, v, n, &canon, digest);
        set(l.hash, bytea_datum(digest, PG_SHA256_DIGEST_LENGTH));
        memcpy(prev, digest, PG_SHA256_DIGEST_LENGTH);
        have_prev = true;

        ExecStoreVirtualTuple(slot);
        if (rel->rd_att->constr) ExecConstraints(rri, slot, estate);
        table_tuple_insert(rel, slot, estate->es_output_cid, 0, nullptr);
        if (rri->ri_NumIndices > 0)
            ExecInsertIndexTuples(rri, slot, estate, false, false, nullptr, NIL);
        ResetPerTupleExprContext(estate);
    }
    ExecCloseIndices(rri);
    ExecResetTupleTable(estate->es_tupleTable, false);
    FreeExecutorState(estate);
    PopActiveSnapshot();
    table_close(rel, NoLock);
}

Datum flush_core(Call&) {
    guard([] { flush_leaf(); });
    return (Datum)0;
}

extern "C" void audit_xact_callback(XactEvent event, void*) {
    switch (event) {
        case XACT_EVENT_PRE_COMMIT:
        case XACT_EVENT_PRE_PREPARE:
            if (n_rows > 0) {
                bool failed = false;
                boundary::run(nullptr, flush_core, &failed);
                if (failed) boundary::raise_recorded();
            }
            reset_transaction_state();
            break;
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PREPARE:
        case XACT_EVENT_PARALLEL_COMMIT:
        case XACT_EVENT_PARALLEL_ABORT:
            reset_transaction_state();
            break;
        default:
            break;
    }
}

// Rows captured in an aborted subtransaction (and its children, all started after it) go.
extern "C" void audit_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
                                       SubTransactionId, void*) {
    if (event != SUBXACT_EVENT_ABORT_SUB) return;
    while (n_rows > 0 && rows[n_rows - 1].common->subid >= mySubid) n_rows--;
    cached_statement = nullptr;
    cached_len = 0;
    purge_active = false;
}

}  // namespace

const RewriteReason kRewriteReasons[4] = {
    {AT_REWRITE_ALTER_PERSISTENCE, "persistence change (SET LOGGED / UNLOGGED)"},
    {AT_REWRITE_DEFAULT_VAL, "new column with a volatile default or a domain constraint"},
    {AT_REWRITE_COLUMN_REWRITE, "column type change that is not binary coercible"},
    {AT_REWRITE_ACCESS_METHOD, "access method change"},
};

void init() noexcept {
    if (hook_installed) return;
    DefineCustomBoolVariable(
        "migrations_schema.audit", "Records every DDL change in migrate.ddl_audit.",
        "Superusers only. Switch it off only for the sessions of a restore, which load the "
        "dumped audit: PGOPTIONS='-c migrations_schema.audit=off' pg_restore ...",
        &audit_enabled, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    prev_process_utility = ProcessUtility_hook;
    ProcessUtility_hook = audit_process_utility;
    RegisterXactCallback(audit_xact_callback, nullptr);
    RegisterSubXactCallback(audit_subxact_callback, nullptr);
    hook_installed = true;
}

MigrationScope::MigrationScope(const char* version, const char* script) noexcept
    : saved_version_(migration_version),
      saved_script_(migration_script),
      saved_statement_(migration_statement) {
    migration_version = version;
    migration_script = script;
    migration_statement = nullptr;
}

MigrationScope::~MigrationScope() {
    migration_version = saved_version_;
    migration_script = saved_script_;
    migration_statement = saved_statement_;
}

void MigrationScope::statement(const char* sql) noexcept {
    migration_statement = sql;
}

bool purging(Oid relid) noexcept {
    return purge_active && relid == purge_relid;
}

namespace {
Datum on_event(Call& c, const char* name, void (*leaf)(EventTriggerData*)) {
    EventTriggerData* trig = event_data(c, name);
    if (!audit_enabled) return (Datum)0;
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
    // The rewrite guard of a running migration comes first, whether the audit is on or not.
    safety::Check::on_rewrite(relid, reason);
    if (!audit_enabled) return (Datum)0;
    guard([&] { table_rewrite_leaf(trig, relid, reason); });
    return (Datum)0;
}

// Rows reach migrate.ddl_audit through the audit itself, which does not fire triggers. A
// direct INSERT or COPY (a privileged role: a restore) is let through only into an empty
// table, so that a restore cannot merge a dumped chain with rows already recorded.
Datum load_check(Call& c) {
    auto* trigdata = reinterpret_cast<TriggerData*>(c.fcinfo->context);
    if (trigdata == nullptr || !CALLED_AS_TRIGGER(c.fcinfo))
        throw Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                    "migrate.audit_load_check() must be called as a trigger");
    Relation rel = trigdata->tg_relation;
    bool any = guard([&] {
        TableScanDesc scan = table_beginscan(rel, GetActiveSnapshot(), 0, nullptr);
        TupleTableSlot* slot = table_slot_create(rel, nullptr);
        bool found = table_scan_getnextslot(scan, ForwardScanDirection, slot);
        ExecDropSingleTupleTableSlot(slot);
        table_endscan(scan);
        return found;
    });
    if (any)
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "rows can be loaded into migrate.ddl_audit only while it is empty",
                    "The audit adds its rows itself; a direct INSERT or COPY is a restore, and "
                    "the table already holds rows recorded in this database.",
                    "Restore into a new database with auditing switched off for the restore's "
                    "sessions: PGOPTIONS='-c migrations_schema.audit=off' pg_restore ...");
    return PointerGetDatum(nullptr);
}

// ------------------------------------------------------------------------------------------
// verify_audit()
// ------------------------------------------------------------------------------------------

namespace {

struct VerifyState {
    int64 checked;
    bool have_first;
    int64 first_id;
    bool first_prev_null;
    uint8 first_prev[PG_SHA256_DIGEST_LENGTH];
    bool have_last;
    int64 last_id;
    uint8 last_hash[PG_SHA256_DIGEST_LENGTH];
    // the newest purge record: the id and hash of the last row it deleted
    bool have_purge;
    int64 purge_last_id;
    char purge_last_hash[2 * PG_SHA256_DIGEST_LENGTH + 1];
    bool broken;
    int64 broken_id;
    char problem[512];
};

void fail(VerifyState* s, int64 id, const char* fmt, ...) pg_attribute_printf(3, 4);
void fail(VerifyState* s, int64 id, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->problem, sizeof s->problem, fmt, ap);
    va_end(ap);
    s->broken = true;
    s->broken_id = id;
}

const char* kVerifyQuery =
    "SELECT a.*, "
    "       CASE WHEN a.event = 'purge' THEN (a.detail ->> 'last_deleted_id')::bigint END "
    "         AS purge_last_id, "
    "       CASE WHEN a.event = 'purge' THEN a.detail ->> 'last_deleted_hash' END "
    "         AS purge_last_hash "
    "  FROM migrate.ddl_audit AS a ORDER BY a.id";

void verify_batch(VerifyState* s, const Layout* l, int purge_id_col, int purge_hash_col,
                  StringInfo canon) {
    TupleDesc desc = SPI_tuptable->tupdesc;
    Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * desc->natts));
    bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * desc->natts));
    for (uint64 i = 0; i < SPI_processed && !s->broken; i++) {
        heap_deform_tuple(SPI_tuptable->vals[i], desc, values, nulls);
        int64 id = DatumGetInt64(values[l->chain[0]]);
        s->checked++;
        uint8 digest[PG_SHA256_DIGEST_LENGTH];
        row_hash(desc, l, values, nulls, canon, digest);
        bytea* stored = nulls[l->hash] ? nullptr : DatumGetByteaPP(values[l->hash]);
        if (stored == nullptr || VARSIZE_ANY_EXHDR(stored) != PG_SHA256_DIGEST_LENGTH ||
            memcmp(VARDATA_ANY(stored), digest, PG_SHA256_DIGEST_LENGTH) != 0) {
            fail(s, id,
                 "row %lld was changed after it was recorded: its hash does not match its contents",
                 static_cast<long long>(id));
            break;
        }
        int prev_col = l->chain[kChainCount - 1];
        bytea* prev = nulls[prev_col] ? nullptr : DatumGetByteaPP(values[prev_col]);
        if (prev != nullptr && VARSIZE_ANY_EXHDR(prev) != PG_SHA256_DIGEST_LENGTH) {
            fail(s, id, "row %lld has a malformed prev_hash", static_cast<long long>(id));
            break;
        }
        if (!s->have_first) {
            s->have_first = true;
            s->first_id = id;
            s->first_prev_null = prev == nullptr;
            if (prev) memcpy(s->first_prev, VARDATA_ANY(prev), PG_SHA256_DIGEST_LENGTH);
        } else {
            if (id != s->last_id + 1) {
                fail(s, id,
                     "rows %lld to %lld are missing: the chain jumps from row %lld to row %lld",
                     static_cast<long long>(s->last_id + 1), static_cast<long long>(id - 1),
                     static_cast<long long>(s->last_id), static_cast<long long>(id));
                break;
            }
            if (prev == nullptr ||
                memcmp(VARDATA_ANY(prev), s->last_hash, PG_SHA256_DIGEST_LENGTH) != 0) {
                fail(s, id,
                     "row %lld does not link to row %lld: its prev_hash is not that row's hash",
                     static_cast<long long>(id), static_cast<long long>(s->last_id));
                break;
            }
        }
        s->have_last = true;
        s->last_id = id;
        memcpy(s->last_hash, digest, PG_SHA256_DIGEST_LENGTH);
        if (!nulls[purge_id_col] && !nulls[purge_hash_col]) {
            s->have_purge = true;
            s->purge_last_id = DatumGetInt64(values[purge_id_col]);
            char* h = TextDatumGetCString(values[purge_hash_col]);
            snprintf(s->purge_last_hash, sizeof s->purge_last_hash, "%s", h);
        }
    }
    pfree(values);
    pfree(nulls);
}

void verify_leaf(VerifyState* s) {
    SPIPlanPtr plan = SPI_prepare(kVerifyQuery, 0, nullptr);
    if (plan == nullptr) elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    Portal portal = SPI_cursor_open(nullptr, plan, nullptr, nullptr, true);
    Layout l;
    bool have_layout = false;
    int purge_id_col = -1, purge_hash_col = -1;
    StringInfoData canon;
    initStringInfo(&canon);
    MemoryContext batch =
        AllocSetContextCreate(CurrentMemoryContext, "audit verify batch", ALLOCSET_DEFAULT_SIZES);
    while (!s->broken) {
        SPI_cursor_fetch(portal, true, 1000);
        if (SPI_processed == 0) break;
        if (!have_layout) {
            layout_leaf(SPI_tuptable->tupdesc, &l);
            purge_id_col = find_column(SPI_tuptable->tupdesc, "purge_last_id");
            purge_hash_col = find_column(SPI_tuptable->tupdesc, "purge_last_hash");
            have_layout = true;
        }
        MemoryContext old = MemoryContextSwitchTo(batch);
        verify_batch(s, &l, purge_id_col, purge_hash_col, &canon);
        MemoryContextSwitchTo(old);
        MemoryContextReset(batch);
        SPI_freetuptable(SPI_tuptable);
    }
    SPI_cursor_close(portal);
    MemoryContextDelete(batch);
    if (s->broken || !s->have_first) return;
    // The start of the chain: the very first row, or the first row after a recorded purge.
    if (s->first_prev_null) {
        if (s->first_id != 1)
            fail(s, s->first_id,
                 "rows before %lld are missing: row %lld starts a new chain (no prev_hash)",
                 static_cast<long long>(s->first_id), static_cast<long long>(s->first_id));
        return;
    }
    char hex[2 * PG_SHA256_DIGEST_LENGTH + 1];
    checksum::hex(s->first_prev, PG_SHA256_DIGEST_LENGTH, hex);
    if (!s->have_purge || s->purge_last_id != s->first_id - 1 ||
        strcmp(hex, s->purge_last_hash) != 0)
        fail(s, s->first_id, "rows before %lld are missing and no purge record accounts for them",
             static_cast<long long>(s->first_id));
}

}  // namespace

Datum verify(Call& c) {
    VerifyState s;
    memset(&s, 0, sizeof s);
    spi::connect();
    spi::Internal internal;
    internal.enter();
    guard([&] { verify_leaf(&s); });
    internal.leave();
    spi::finish();
    FunctionCallInfo fcinfo = c.fcinfo;
    MemoryContext result_cxt = c.result_cxt;
    return guard([&] {
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "migrate.verify_audit() must return a row type");
        MemoryContext old = MemoryContextSwitchTo(result_cxt);
        desc = BlessTupleDesc(desc);
        Datum v[6];
        bool n[6] = {false, false, !s.have_first, !s.have_last, !s.broken, !s.broken};
        v[0] = BoolGetDatum(!s.broken);
        v[1] = Int64GetDatum(s.checked);
        v[2] = Int64GetDatum(s.first_id);
        v[3] = Int64GetDatum(s.last_id);
        v[4] = Int64GetDatum(s.broken_id);
        v[5] = s.broken ? text_datum(s.problem) : (Datum)0;
        Datum result = HeapTupleGetDatum(heap_form_tuple(desc, v, n));
        MemoryContextSwitchTo(old);
        return result;
    });
}

// ------------------------------------------------------------------------------------------
// purge_audit(older_than)
// ------------------------------------------------------------------------------------------

namespace {

struct PurgeState {
    TimestampTz older_than;
    int64 deleted;
    int64 first_deleted;
    int64 last_deleted;
    char last_hash[2 * PG_SHA256_DIGEST_LENGTH + 1];
    Oid relid;
};

SPIPlanPtr prepare(const char* sql, int nargs, Oid* types) {
    SPIPlanPtr plan = SPI_prepare(sql, nargs, types);
    if (plan == nullptr) elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    return plan;
}

int64 scalar_int8(const char* sql, int nargs, Oid* types, Datum* values, bool* isnull) {
    SPIPlanPtr plan = prepare(sql, nargs, types);
    int ret = SPI_execute_snapshot(plan, values, nullptr, GetLatestSnapshot(), InvalidSnapshot,
                                   false, false, 1);
    if (ret < 0) elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(ret));
    *isnull = true;
    int64 v = 0;
    if (SPI_processed > 0) {
        Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
        if (!*isnull) v = DatumGetInt64(d);
    }
    return v;
}

void purge_leaf(PurgeState* s) {
    s->relid = audit_table();
    if (!OidIsValid(s->relid))
        ereport(ERROR,
                (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("migrate.ddl_audit does not exist")));
    Relation rel = table_open(s->relid, RowExclusiveLock);
    table_close(rel, NoLock);
    lock_chain();
    Oid types[1] = {TIMESTAMPTZOID};
    Datum args[1] = {TimestampTzGetDatum(s->older_than)};
    bool isnull;
    // Keep every row from the first one recorded at or after older_than, and always the
    // newest row (the head the next row links to).
    int64 cut = scalar_int8(
        "SELECT LEAST(max(id), min(id) FILTER (WHERE statement_time >= $1)) FROM migrate.ddl_audit",
        1, types, args, &isnull);
    if (isnull) return;
    int64 first =
        scalar_int8("SELECT min(id) FROM migrate.ddl_audit", 0, nullptr, nullptr, &isnull);
    if (isnull || first >= cut) return;
    Oid t8[1] = {INT8OID};
    Datum a8[1] = {Int64GetDatum(cut - 1)};
    SPIPlanPtr plan = prepare("SELECT hash FROM migrate.ddl_audit WHERE id = $1", 1, t8);
    int ret = SPI_execute_snapshot(plan, a8, nullptr, GetLatestSnapshot(), InvalidSnapshot, true,
                                   false, 1);
    if (ret < 0 || SPI_processed != 1)
        ereport(
            ERROR,
            (errcode(ERRCODE_DATA_CORRUPTED),
             errmsg("audit row %lld is missing", static_cast<long long>(cut - 1)),
             errhint(
                 "Run SELECT * FROM migrate.verify_audit() to see where the chain is broken.")));
    Datum h = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    if (isnull) elog(ERROR, "audit row %lld has no hash", static_cast<long long>(cut - 1));
    bytea* b = DatumGetByteaPP(h);
    checksum::hex(reinterpret_cast<const uint8*>(VARDATA_ANY(b)),
                  std::min<size_t>(VARSIZE_ANY_EXHDR(b), PG_SHA256_DIGEST_LENGTH), s->last_hash);
    a8[0] = Int64GetDatum(cut);
    plan = prepare("DELETE FROM migrate.ddl_audit WHERE id < $1", 1, t8);
    purge_active = true;
    purge_relid = s->relid;
    ret = SPI_execute_snapshot(plan, a8, nullptr, GetLatestSnapshot(), InvalidSnapshot, false,
                               false, 0);
    purge_active = false;
    if (ret < 0) elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(ret));
    s->deleted = static_cast<int64>(SPI_processed);
    s->first_deleted = first;
    s->last_deleted = cut - 1;
}

void purge_record_leaf(const PurgeState* s) {
    Row* r = add_row(common_leaf("DELETE", nullptr));
    r->event = "purge";
    r->object_type = "table";
    r->schema_name = "migrate";
    r->object_identity = "migrate.ddl_audit";
    r->has_address = true;
    r->classid = RelationRelationId;
    r->objid = s->relid;
    StringInfoData buf;
    initStringInfo(&buf);
    appendStringInfoChar(&buf, '{');
    json_key(&buf, "older_than");
    appendStringInfo(
        &buf, "\"%s\"",
        JsonEncodeDateTime(nullptr, TimestampTzGetDatum(s->older_than), TIMESTAMPTZOID, nullptr));
    json_key(&buf, "deleted");
    appendStringInfo(&buf, "%lld", static_cast<long long>(s->deleted));
    if (s->deleted > 0) {
        json_key(&buf, "first_deleted_id");
        appendStringInfo(&buf, "%lld", static_cast<long long>(s->first_deleted));
        json_key(&buf, "last_deleted_id");
        appendStringInfo(&buf, "%lld", static_cast<long long>(s->last_deleted));
        json_key(&buf, "last_deleted_hash");
        escape_json(&buf, s->last_hash);
    }
    r->detail = json_done(&buf);
}

}  // namespace

Datum purge(Call& c) {
    if (c.fcinfo->args[0].isnull)
        throw Error(
            ERRCODE_NULL_VALUE_NOT_ALLOWED, "older_than must not be NULL", "",
            "Pass the time before which audit rows are deleted, e.g. now() - interval '1 year'.");
    if (!guard([] { return superuser(); }))
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied to purge the DDL audit",
                    "Only superusers may delete audit rows.",
                    "Ask a superuser to run migrate.purge_audit(); the purge itself is recorded.");
    PurgeState s;
    memset(&s, 0, sizeof s);
    s.older_than = DatumGetTimestampTz(c.fcinfo->args[0].value);
    spi::connect();
    // As the table owner with search_path pinned, like every bookkeeping query: the caller's
    // search_path must not choose the operators and aggregates of the purge's queries.
    spi::Internal internal;
    internal.enter();
    guard([&] { purge_leaf(&s); });
    internal.leave();
    spi::finish();
    if (!OidIsValid(s.relid)) s.relid = guard([] { return audit_table(); });
    guard([&] { purge_record_leaf(&s); });
    return Int64GetDatum(s.deleted);
}

// ------------------------------------------------------------------------------------------
// audit_preloaded()
// ------------------------------------------------------------------------------------------

namespace {

// Leaf: does the library list `setting` name this library ("migrations_schema", with or
// without a directory and a .so suffix)?
bool lists_library_leaf(const char* setting) {
    const char* value = GetConfigOption(setting, true, false);
    if (value == nullptr || *value == '\0') return false;
    char* raw = pstrdup(value);
    List* items = NIL;
    bool found = false;
    if (SplitDirectoriesString(raw, ',', &items)) {
        ListCell* lc;
        foreach (lc, items) {
            const char* item = static_cast<const char*>(lfirst(lc));
            const char* base = strrchr(item, '/');
            base = base ? base + 1 : item;
            size_t len = strlen(base);
            if (len > 3 && strcmp(base + len - 3, ".so") == 0) len -= 3;
            if (len == strlen("migrations_schema") && strncmp(base, "migrations_schema", len) == 0)
                found = true;
        }
    }
    list_free_deep(items);
    pfree(raw);
    return found;
}

}  // namespace

Datum preloaded(Call&) {
    return BoolGetDatum(guard([] {
        return lists_library_leaf("shared_preload_libraries") ||
               lists_library_leaf("session_preload_libraries");
    }));
}

}  // namespace ms::audit
