// Token checksums. See tokens.hpp.
#include "script/tokens.hpp"

#include "pg/boundary.hpp"
#include "pg/hash.hpp"
#include "script/checksum.hpp"

namespace ms::script {

namespace {

namespace tok = pg::token;

// ---- PostgreSQL leaf call: C-style, trivial locals only, always called through guard() ----

// Appends to `out` one entry per token of `text` (NUL-terminated): a kind letter, the token's
// value as the lexer gives it to the grammar, and a NUL. Values, not spellings: keywords in
// their canonical form, unquoted identifiers folded to lower case, strings after escapes are
// processed. Kinds are letters, not the grammar's token numbers, which change between
// PostgreSQL versions.
void lex_tokens(const char* text, StringInfo out) {
    core_yy_extra_type extra;
    core_YYSTYPE yylval;
    YYLTYPE yylloc = -1;
    core_yyscan_t scanner = scanner_init(text, &extra, &ScanKeywords, ScanKeywordTokens);
    // A function of the text alone, whatever the session's settings: strings read as with
    // standard_conforming_strings on (the default since PostgreSQL 9.1), no warnings.
    extra.standard_conforming_strings = true;
    extra.escape_string_warning = false;
    extra.backslash_quote = BACKSLASH_QUOTE_SAFE_ENCODING;
    for (;;) {
        int token = core_yylex(&yylval, &yylloc, scanner);
        if (token == 0) break;
        char kind = 0;
        const char* value = nullptr;
        char number[32];
        switch (token) {
            case tok::ident:
                kind = 'i';
                value = yylval.str;
                break;
            case tok::uident:
                kind = 'I';
                value = yylval.str;
                break;
            case tok::fconst:
                kind = 'f';
                value = yylval.str;
                break;
            case tok::sconst:
                kind = 's';
                value = yylval.str;
                break;
            case tok::usconst:
                kind = 'S';
                value = yylval.str;
                break;
            case tok::bconst:
                kind = 'b';
                value = yylval.str;
                break;
            case tok::xconst:
                kind = 'x';
                value = yylval.str;
                break;
            case tok::op:
                kind = 'o';
                value = yylval.str;
                break;
            case tok::iconst:
            case tok::param:
                kind = token == tok::iconst ? 'n' : 'p';
                snprintf(number, sizeof number, "%d", yylval.ival);
                value = number;
                break;
            case tok::typecast:
                kind = 'o';
                value = "::";
                break;
            case tok::dot_dot:
                kind = 'o';
                value = "..";
                break;
            case tok::colon_equals:
                kind = 'o';
                value = ":=";
                break;
            case tok::equals_greater:
                kind = 'o';
                value = "=>";
                break;
            case tok::less_equals:
                kind = 'o';
                value = "<=";
                break;
            case tok::greater_equals:
                kind = 'o';
                value = ">=";
                break;
            case tok::not_equals:
                kind = 'o';
                value = "<>";
                break;
            default:
                if (token < 256) {
                    number[0] = static_cast<char>(token);
                    number[1] = '\0';
                    kind = 'c';
                    value = number;
                } else {
                    kind = 'k';  // a keyword: the lexer sets its canonical spelling
                    value = yylval.keyword;
                }
        }
        appendStringInfoChar(out, kind);
        appendStringInfoString(out, value);
        appendStringInfoChar(out, '\0');
    }
    scanner_finish(scanner);
}

void digest_leaf(const char* text, unsigned char* digest) {
    StringInfoData buf;
    initStringInfo(&buf);
    lex_tokens(text, &buf);
    pg::sha256_leaf(buf.data, buf.len, digest);
    pfree(buf.data);
}

// The offset of the first CONCURRENTLY keyword of a statement, or -1.
int concurrently_leaf(const char* text) {
    core_yy_extra_type extra;
    core_YYSTYPE yylval;
    YYLTYPE yylloc = -1;
    core_yyscan_t scanner = scanner_init(text, &extra, &ScanKeywords, ScanKeywordTokens);
    extra.escape_string_warning = false;
    int at = -1;
    for (;;) {
        int token = core_yylex(&yylval, &yylloc, scanner);
        if (token == 0) break;
        if (tok::is_keyword(token) && strcmp(yylval.keyword, "concurrently") == 0) {
            at = yylloc;
            break;
        }
    }
    scanner_finish(scanner);
    return at;
}

// Without a leading byte-order mark, line endings normalized: the lexer reads what remains.
std::string prepared(std::string_view script) {
    if (script.substr(0, 3) == "\xEF\xBB\xBF") script.remove_prefix(3);
    return checksum::normalize_line_endings(script);
}

}  // namespace

std::string token_checksum(std::string_view script) {
    std::string text = prepared(script);
    unsigned char digest[PG_SHA256_DIGEST_LENGTH];
    guard([&] { digest_leaf(text.c_str(), digest); });
    char out[2 * PG_SHA256_DIGEST_LENGTH + 1];
    pg::hex(digest, PG_SHA256_DIGEST_LENGTH, out);
    return out;
}

std::optional<std::string> try_token_checksum(std::string_view script) {
    try {
        return token_checksum(script);
    } catch (const PgError& e) {
        // A script the lexer rejects (a syntax error, a bad escape). guard() has taken the error
        // out of PostgreSQL's error state and the lexer holds nothing but memory of this call's
        // context: nothing else to undo. Anything else (out of memory) is raised.
        int category = ERRCODE_TO_CATEGORY(e.data->sqlerrcode);
        if (category != ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION &&
            category != ERRCODE_DATA_EXCEPTION && category != ERRCODE_FEATURE_NOT_SUPPORTED)
            throw;
        return std::nullopt;
    }
}

std::string without_concurrently(const std::string& statement) {
    int at = guard([&] { return concurrently_leaf(statement.c_str()); });
    if (at < 0) return statement;
    return statement.substr(0, at) + statement.substr(at + strlen("CONCURRENTLY"));
}

Change compare(const std::string& raw, const std::optional<std::string>& tokens,
               const std::string& raw_new, std::string_view script) {
    if (raw == raw_new) return Change::same;
    if (!tokens) return Change::edited;
    std::optional<std::string> now = try_token_checksum(script);
    return now && *now == *tokens ? Change::cosmetic : Change::edited;
}

}  // namespace ms::script
