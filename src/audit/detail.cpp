// The jsonb detail of audit rows: GRANT/REVOKE privileges and grantees, default privileges,
// rewrite reasons, drop flags. Built as text in TopTransactionContext.
//
// Almost everything here talks to PostgreSQL, so most functions are "leaf" functions: plain C
// style, no object with a non-trivial destructor, called through guard() from the C++ core or
// from a PostgreSQL callback. They raise PostgreSQL errors, never C++ exceptions.
#include <cstring>

#include "audit/internal.hpp"

namespace ms::audit::internal {

namespace {

void json_bool(StringInfo buf, const char* key, bool v) {
    json_key(buf, key);
    appendStringInfoString(buf, v ? "true" : "false");
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

}  // namespace

void json_key(StringInfo buf, const char* key) {
    if (buf->len > 1) appendStringInfoChar(buf, ',');
    escape_json(buf, key);
    appendStringInfoChar(buf, ':');
}

const char* json_done(StringInfo buf) {
    appendStringInfoChar(buf, '}');
    return top_strdup(buf->data);
}

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

const char* rewrite_detail(int reason) {
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
    return json_done(&buf);
}

const char* drop_detail(bool original, bool normal) {
    return original ? (normal ? "{\"original\": true, \"normal\": true}"
                              : "{\"original\": true, \"normal\": false}")
                    : (normal ? "{\"original\": false, \"normal\": true}"
                              : "{\"original\": false, \"normal\": false}");
}

}  // namespace ms::audit::internal
