// The statement text of audit rows: a ProcessUtility hook keeps a stack of the utility
// statements running (client statements, statements run by functions through SPI, the
// runner's statements), so that an event trigger can name the innermost one exactly
// (stmt_location / stmt_len, as pgaudit does). Without the hook (the library loaded by the
// session's first DDL), the statement is looked for in the client's query string.
#include <algorithm>
#include <cstring>

#include "audit/internal.hpp"

namespace ms::audit::internal {

namespace {

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

// The last statement text copied into transaction memory, reused while it does not change.
const char* cached_statement = nullptr;
size_t cached_len = 0;
bool cached_exact = false;

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

bool is_space(char ch) {
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

// The client's query string parsed again (raw statements), or NIL when it does not parse
// now: settings the string itself changed (standard_conforming_strings) can make it a syntax
// error. Only such errors of the parser (syntax, class 42, and bad literals, class 22) are
// caught: the parser holds no resource an error would leak, so no subtransaction is needed.
// Anything else (out of memory, a cancel) is raised as it is.
List* parse_client_string(const char* sql) {
    List* stmts = NIL;
    MemoryContext cxt = CurrentMemoryContext;
    PG_TRY();
    { stmts = raw_parser(sql, RAW_PARSE_DEFAULT); }
    PG_CATCH();
    {
        MemoryContextSwitchTo(cxt);
        ErrorData* e = CopyErrorData();
        int category = ERRCODE_TO_CATEGORY(e->sqlerrcode);
        if (category != ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION &&
            category != ERRCODE_DATA_EXCEPTION)
            PG_RE_THROW();
        FreeErrorData(e);
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

}  // namespace

// Set by MigrationScope (the runner).
const char* migration_version = nullptr;
const char* migration_script = nullptr;
namespace {
const char* migration_statement = nullptr;
}  // namespace

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

void forget_statement_cache() {
    cached_statement = nullptr;
    cached_len = 0;
}

void install_hook() {
    if (hook_installed) return;
    prev_process_utility = ProcessUtility_hook;
    ProcessUtility_hook = audit_process_utility;
    hook_installed = true;
}

}  // namespace ms::audit::internal

namespace ms::audit {

using namespace internal;

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

}  // namespace ms::audit
