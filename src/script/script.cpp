#include "script/script.hpp"

#include <optional>

#include "pg/scope.hpp"
#include "script/text.hpp"

namespace ms::script {

namespace {

// ---- PostgreSQL leaf calls: C-style, trivial locals only, always called through guard() ----

List* parse_script(const char* text) {
    return raw_parser(text, RAW_PARSE_DEFAULT);
}

// Byte offset of the first token of text[0, len), or -1 when it holds only white space and
// comments. Uses PostgreSQL's own lexer.
int first_token_offset(const char* text, int len) {
    char* copy = pnstrdup(text, len);
    core_yy_extra_type extra;
    core_YYSTYPE yylval;
    YYLTYPE yylloc = -1;
    core_yyscan_t scanner = scanner_init(copy, &extra, &ScanKeywords, ScanKeywordTokens);
    int token = core_yylex(&yylval, &yylloc, scanner);
    scanner_finish(scanner);
    pfree(copy);
    return token == 0 ? -1 : yylloc;
}

const char* command_name(Node* stmt) {
    return GetCommandTagName(CreateCommandTag(stmt));
}

// Byte offset of the 1-based character position `charpos` in text (server encoding).
int char_to_byte(const char* text, int len, int charpos) {
    int offset = 0;
    for (int c = 1; c < charpos && offset < len; c++) offset += pg_mblen(text + offset);
    return offset > len ? len : offset;
}

// ---- classification ----

// Why a statement cannot run inside a transaction block, or nullptr when it can. *as_step:
// whether a migration may hold it (it then runs as a step after commit); the others (databases,
// tablespaces, the server's configuration, subscriptions with a slot) do not belong in one.
const char* outside_transaction_only(Node* stmt, bool* as_step) {
    *as_step = true;
    switch (nodeTag(stmt)) {
        case T_IndexStmt:
            return ((IndexStmt*)stmt)->concurrent ? "CREATE INDEX CONCURRENTLY" : nullptr;
        case T_DropStmt: {
            auto* drop = (DropStmt*)stmt;
            return drop->concurrent ? "DROP INDEX CONCURRENTLY" : nullptr;
        }
        case T_ReindexStmt: {
            auto* reindex = (ReindexStmt*)stmt;
            if (reindex->kind == REINDEX_OBJECT_SYSTEM ||
                reindex->kind == REINDEX_OBJECT_DATABASE) {
                *as_step = false;
                return "REINDEX SYSTEM/DATABASE";
            }
            bool concurrently =
                guard([&] { return option_is_true(reindex->params, "concurrently", false); });
            return concurrently ? "REINDEX CONCURRENTLY" : nullptr;
        }
        case T_VacuumStmt:
            return ((VacuumStmt*)stmt)->is_vacuumcmd ? "VACUUM" : nullptr;
        case T_AlterTableStmt: {
            ListCell* lc;
            foreach (lc, ((AlterTableStmt*)stmt)->cmds) {
                auto* cmd = (AlterTableCmd*)lfirst(lc);
                if (cmd->subtype == AT_DetachPartition && cmd->def &&
                    ((PartitionCmd*)cmd->def)->concurrent)
                    return "ALTER TABLE ... DETACH PARTITION CONCURRENTLY";
            }
            return nullptr;
        }
        default:
            break;
    }
    *as_step = false;
    switch (nodeTag(stmt)) {
        case T_ClusterStmt:
            return ((ClusterStmt*)stmt)->relation == nullptr ? "CLUSTER without a table" : nullptr;
        case T_CreatedbStmt:
            return "CREATE DATABASE";
        case T_DropdbStmt:
            return "DROP DATABASE";
        case T_AlterDatabaseStmt: {
            ListCell* lc;
            foreach (lc, ((AlterDatabaseStmt*)stmt)->options) {
                if (strcmp(((DefElem*)lfirst(lc))->defname, "tablespace") == 0)
                    return "ALTER DATABASE SET TABLESPACE";
            }
            return nullptr;
        }
        case T_AlterSystemStmt:
            return "ALTER SYSTEM";
        case T_CreateTableSpaceStmt:
            return "CREATE TABLESPACE";
        case T_DropTableSpaceStmt:
            return "DROP TABLESPACE";
        case T_DiscardStmt:
            return ((DiscardStmt*)stmt)->target == DISCARD_ALL ? "DISCARD ALL" : nullptr;
        case T_CreateSubscriptionStmt: {
            auto* sub = (CreateSubscriptionStmt*)stmt;
            bool slot = guard([&] { return option_is_true(sub->options, "create_slot", true); });
            bool connect = guard([&] { return option_is_true(sub->options, "connect", true); });
            return slot && connect ? "CREATE SUBSCRIPTION with create_slot" : nullptr;
        }
        default:
            return nullptr;
    }
}

std::string where(const Origin& o) {
    if (o.version.empty()) return "script";
    return "migration " + std::string(o.version) + " " + o.which + " script";
}

// Syntax errors from raw_parser point into the script: turn the cursor position into the
// script's line, keep SQLSTATE, message, detail and hint.
[[noreturn]] void rethrow_syntax_error(const PgError& e, std::string_view text, const Origin& o) {
    ErrorData* data = e.data;
    std::string context = where(o);
    if (data->cursorpos > 0) {
        int offset = guard([&] {
            return char_to_byte(text.data(), static_cast<int>(text.size()), data->cursorpos);
        });
        int line = count_lines(text, 0, static_cast<size_t>(offset), 1);
        size_t begin = text.rfind('\n', offset > 0 ? offset - 1 : 0);
        begin = (begin == std::string_view::npos || offset == 0) ? 0 : begin + 1;
        size_t end = text.find('\n', offset);
        if (end == std::string_view::npos) end = text.size();
        context +=
            ", line " + std::to_string(line) + ": " + shorten(text.substr(begin, end - begin));
    }
    if (data->context) context += std::string("\n") + data->context;
    guard([&] {
        data->context = MemoryContextStrdup(GetMemoryChunkContext(data), context.c_str());
        data->cursorpos = 0;
    });
    throw PgError(data);
}

}  // namespace

std::vector<Statement> parse(std::string_view text, const Origin& origin) {
    List* parsed = nullptr;
    try {
        parsed = guard([&] { return parse_script(text.data()); });
    } catch (const PgError& e) {
        rethrow_syntax_error(e, text, origin);
    }

    std::vector<Statement> raws;
    raws.reserve(static_cast<size_t>(list_length(parsed)));
    size_t counted_to = 0;
    int line = 1;
    int number = 0;
    ListCell* lc;
    foreach (lc, parsed) {
        if ((number & 1023) == 1023) pg::check_for_interrupts();  // scripts of 100k statements
        auto* raw = (RawStmt*)lfirst(lc);
        size_t loc = raw->stmt_location < 0 ? 0 : static_cast<size_t>(raw->stmt_location);
        size_t len = raw->stmt_len == 0 ? text.size() - loc : static_cast<size_t>(raw->stmt_len);
        int first =
            guard([&] { return first_token_offset(text.data() + loc, static_cast<int>(len)); });
        size_t start = first < 0 ? loc : loc + static_cast<size_t>(first);
        line = count_lines(text, counted_to, start, line);
        counted_to = start;
        Statement st;
        st.tree = raw->stmt;
        st.number = ++number;
        st.line = line;
        st.sql = rtrim(text.substr(start, loc + len - start));
        st.first_line = shorten(st.sql);
        st.command = guard([&] { return command_name(raw->stmt); });
        raws.push_back(std::move(st));
    }
    return raws;
}

namespace {

// `kind` names the statement in the message (its command tag when nullptr).
[[noreturn]] void refuse(const Origin& origin, const Statement& r, int code,
                         const std::string& what, const std::string& why, const std::string& hint,
                         const char* kind = nullptr) {
    throw Error(code,
                where(origin) + ": statement " + std::to_string(r.number) + " (" +
                    (kind ? kind : r.command.c_str()) + ") " + what,
                "Line " + std::to_string(r.line) + ": " + r.first_line + "\n" + why, hint);
}

const char* kControl =
    "A script may hold BEGIN ... COMMIT blocks: in the part that runs in the caller's "
    "transaction they change nothing (it is one unit), among the steps that run after commit "
    "a block is one step.";

}  // namespace

Script split(std::string_view text, const Origin& origin) {
    std::vector<Statement> raws = parse(text, origin);
    Script script;
    script.statements.reserve(raws.size());
    std::optional<size_t> block_start;  // index in script.statements of an open block
    const Statement* open_begin = nullptr;
    std::optional<size_t> first_step;
    for (auto& r : raws) {
        if (nodeTag(r.tree) == T_TransactionStmt) {
            auto* t = (TransactionStmt*)r.tree;
            switch (t->kind) {
                case TRANS_STMT_BEGIN:
                case TRANS_STMT_START:
                    if (block_start)
                        refuse(origin, r, ERRCODE_ACTIVE_SQL_TRANSACTION,
                               "opens a block inside a block", kControl,
                               "Close the first block with COMMIT before the next BEGIN.");
                    if (t->options != NIL)
                        refuse(origin, r, ERRCODE_INVALID_TRANSACTION_TERMINATION,
                               "sets transaction options", kControl,
                               "Use a plain BEGIN; the caller's transaction (or the step's) "
                               "keeps its own isolation level and access mode.");
                    block_start = script.statements.size();
                    open_begin = &r;
                    continue;
                case TRANS_STMT_COMMIT:
                    if (!block_start)
                        refuse(origin, r, ERRCODE_INVALID_TRANSACTION_TERMINATION,
                               "commits without a BEGIN", kControl,
                               "Remove it, or open the block with BEGIN.");
                    if (t->chain)
                        refuse(origin, r, ERRCODE_INVALID_TRANSACTION_TERMINATION,
                               "commits and chains", kControl, "Use a plain COMMIT.");
                    if (*block_start < script.statements.size())
                        script.blocks.push_back({*block_start, script.statements.size()});
                    block_start.reset();
                    continue;
                default:
                    refuse(origin, r, ERRCODE_INVALID_TRANSACTION_TERMINATION,
                           "controls the transaction",
                           std::string(kControl) +
                               " ROLLBACK, SAVEPOINT, RELEASE and two-phase commit have no "
                               "meaning there.",
                           "Remove the transaction control statement from the script.");
            }
        }
        bool as_step = false;
        if (const char* what = outside_transaction_only(r.tree, &as_step)) {
            if (!as_step)
                refuse(origin, r, ERRCODE_ACTIVE_SQL_TRANSACTION, "cannot run in a migration",
                       std::string(what) +
                           " must run outside any transaction block, and it is not part of a "
                           "schema migration. Nothing was run.",
                       "Run it outside migrations (from psql), by an administrator.", what);
            if (block_start)
                refuse(origin, r, ERRCODE_ACTIVE_SQL_TRANSACTION,
                       "cannot run inside a BEGIN ... COMMIT block",
                       std::string(what) +
                           " must run as a transaction of its own; the block around it makes "
                           "it part of a larger one. Nothing was run.",
                       "Move it out of the block (apply runs it as a step of its own, after the "
                       "migration's transactional part commits).",
                       what);
            r.outside_transaction = what;
            if (!first_step) first_step = script.statements.size();
        }
        if (nodeTag(r.tree) == T_CopyStmt && ((CopyStmt*)r.tree)->filename == nullptr)
            refuse(origin, r, ERRCODE_FEATURE_NOT_SUPPORTED,
                   "copies from or to the client (COPY ... STDIN/STDOUT)",
                   "A migration runs inside the server, where there is no client stream to copy "
                   "from or to.",
                   "Use INSERT ... VALUES, or COPY from a server-side file.");
        script.statements.push_back(std::move(r));
    }
    if (block_start)
        refuse(origin, *open_begin, ERRCODE_INVALID_TRANSACTION_TERMINATION,
               "opens a block that the script does not close", kControl,
               "Close the block with COMMIT.");
    script.steps_from(first_step.value_or(script.statements.size()));
    return script;
}

void Script::steps_from(size_t first) {
    transactional = first;
    steps.clear();
    size_t i = first;
    while (i < statements.size()) {
        Step step{i, 1, false};
        for (const auto& [start, end] : blocks)
            if (start <= i && i < end) step = Step{i, end - i, true};
        steps.push_back(step);
        i += step.count;
    }
}

bool option_is_true(List* options, const char* name, bool if_absent) {
    ListCell* lc;
    foreach (lc, options) {
        DefElem* opt = (DefElem*)lfirst(lc);
        if (strcmp(opt->defname, name) == 0) return defGetBoolean(opt);
    }
    return if_absent;
}

}  // namespace ms::script
