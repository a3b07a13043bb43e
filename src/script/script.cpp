#include "script/script.hpp"

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

bool option_is_true(List* options, const char* name, bool if_absent) {
    ListCell* lc;
    foreach (lc, options) {
        DefElem* opt = (DefElem*)lfirst(lc);
        if (strcmp(opt->defname, name) == 0) return defGetBoolean(opt);
    }
    return if_absent;
}

// ---- classification ----

// Why a statement cannot run inside a transaction block, or nullptr when it can.
const char* outside_transaction_only(Node* stmt) {
    switch (nodeTag(stmt)) {
        case T_IndexStmt:
            return ((IndexStmt*)stmt)->concurrent ? "CREATE INDEX CONCURRENTLY" : nullptr;
        case T_DropStmt: {
            auto* drop = (DropStmt*)stmt;
            return drop->concurrent ? "DROP INDEX CONCURRENTLY" : nullptr;
        }
        case T_ReindexStmt: {
            auto* reindex = (ReindexStmt*)stmt;
            if (reindex->kind == REINDEX_OBJECT_SYSTEM || reindex->kind == REINDEX_OBJECT_DATABASE)
                return "REINDEX SYSTEM/DATABASE";
            bool concurrently =
                guard([&] { return option_is_true(reindex->params, "concurrently", false); });
            return concurrently ? "REINDEX CONCURRENTLY" : nullptr;
        }
        case T_VacuumStmt:
            return ((VacuumStmt*)stmt)->is_vacuumcmd ? "VACUUM" : nullptr;
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
            return nullptr;
    }
}

std::string where(const Origin& o) {
    if (o.version.empty()) return "script";
    return "migration " + std::string(o.version) + " " + o.which + " script";
}

std::string outside_transaction_hint(const char* what) {
    std::string hint =
        "Run this statement outside migrate.apply (for example from psql in autocommit mode).";
    if (strcmp(what, "CREATE INDEX CONCURRENTLY") == 0)
        hint +=
            " Or use CREATE INDEX without CONCURRENTLY, which blocks writes to the table "
            "while the index builds.";
    else if (strcmp(what, "DROP INDEX CONCURRENTLY") == 0)
        hint += " Or use DROP INDEX without CONCURRENTLY, which briefly locks the table.";
    return hint;
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

Script split(std::string_view text, const Origin& origin) {
    std::vector<Statement> raws = parse(text, origin);

    Script script;
    size_t begin = 0, end = raws.size();
    auto tx_kind = [](Node* n) {
        return nodeTag(n) == T_TransactionStmt ? static_cast<int>(((TransactionStmt*)n)->kind) : -1;
    };
    if (raws.size() >= 2) {
        int first_kind = tx_kind(raws.front().tree), last_kind = tx_kind(raws.back().tree);
        bool opens = first_kind == TRANS_STMT_BEGIN || first_kind == TRANS_STMT_START;
        if (opens && last_kind == TRANS_STMT_COMMIT) {
            auto* b = (TransactionStmt*)raws.front().tree;
            auto* c = (TransactionStmt*)raws.back().tree;
            if (b->options == NIL && !c->chain) {
                script.wrapped = true;
                begin = 1;
                end = raws.size() - 1;
            }
        }
    }
    for (size_t i = 0; i < raws.size(); i++) {
        const Statement& r = raws[i];
        bool is_wrapper = script.wrapped && (i == 0 || i + 1 == raws.size());
        if (!is_wrapper && nodeTag(r.tree) == T_TransactionStmt)
            throw Error(
                ERRCODE_INVALID_TRANSACTION_TERMINATION,
                where(origin) + ": statement " + std::to_string(r.number) + " (" + r.command +
                    ") controls the transaction",
                "Line " + std::to_string(r.line) + ": " + r.first_line +
                    "\nA migration runs inside the caller's transaction, as one unit. Only a "
                    "plain BEGIN as the first statement together with a plain COMMIT as the last "
                    "one are accepted (and ignored).",
                "Remove the transaction control statement from the script.");
        if (const char* what = outside_transaction_only(r.tree))
            throw Error(ERRCODE_ACTIVE_SQL_TRANSACTION,
                        where(origin) + ": statement " + std::to_string(r.number) + " (" + what +
                            ") cannot run inside a transaction block",
                        "Line " + std::to_string(r.line) + ": " + r.first_line + "\n" + what +
                            " must run as a top-level statement outside any transaction, and a "
                            "migration always runs inside one. Nothing was run.",
                        outside_transaction_hint(what));
        if (nodeTag(r.tree) == T_CopyStmt && ((CopyStmt*)r.tree)->filename == nullptr)
            throw Error(ERRCODE_FEATURE_NOT_SUPPORTED,
                        where(origin) + ": statement " + std::to_string(r.number) +
                            " copies from or to the client (COPY ... STDIN/STDOUT)",
                        "Line " + std::to_string(r.line) + ": " + r.first_line +
                            "\nA migration runs inside the server, where there is no client "
                            "stream to copy from or to.",
                        "Use INSERT ... VALUES, or COPY from a server-side file.");
    }
    for (size_t i = begin; i < end; i++) script.statements.push_back(std::move(raws[i]));
    return script;
}

}  // namespace ms::script
