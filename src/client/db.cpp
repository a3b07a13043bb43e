// pg_migrate: the connection (libpq). See db.hpp.
#include "client/db.hpp"

#include <cerrno>
#include <cstdio>
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

namespace pgm {

namespace {

// Server notices (NOTICE, WARNING) on standard error, unless --quiet.
void on_notice(void* quiet, const PGresult* r) {
    if (*static_cast<bool*>(quiet)) return;
    const char* severity = PQresultErrorField(r, PG_DIAG_SEVERITY);
    const char* message = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char* detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    // over a progress line, when one is shown
    std::fprintf(stderr, "%s%s: %s\n", ::isatty(STDERR_FILENO) ? "\r\033[K" : "",
                 severity ? severity : "NOTICE", message ? message : "");
    if (detail) std::fprintf(stderr, "  %s\n", detail);
}

std::string field(const PGresult* r, int code) {
    const char* v = PQresultErrorField(r, code);
    return v ? v : "";
}

}  // namespace

Rows::Rows(pg_result* r) : r_(r, PQclear) {}
int Rows::size() const {
    return PQntuples(r_.get());
}
std::optional<std::string> Rows::get(int row, int col) const {
    if (PQgetisnull(r_.get(), row, col)) return std::nullopt;
    return std::string(PQgetvalue(r_.get(), row, col),
                       static_cast<size_t>(PQgetlength(r_.get(), row, col)));
}

Db::Db(const std::string& conninfo, bool quiet) : quiet_(quiet) {
    const char* keys[] = {"dbname", "fallback_application_name", "client_encoding", nullptr};
    const char* values[] = {conninfo.c_str(), "pg_migrate", "UTF8", nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
        std::string m = conn_ ? PQerrorMessage(conn_) : "out of memory";
        while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
        size_t nl = m.find('\n');  // the cause; then libpq's hint on a line of its own
        if (nl != std::string::npos) m = m.substr(0, nl);
        if (conn_) PQfinish(conn_);
        throw ConnectionError("cannot connect: " + m);
    }
    PQsetNoticeReceiver(conn_, on_notice, &quiet_);
}

Db::~Db() {
    PQfinish(conn_);
}

std::string Db::describe() const {
    return std::string("database ") + PQdb(conn_);
}

Rows Db::query(const std::string& sql, const std::vector<Param>& params,
               const std::function<void()>& tick) {
    std::vector<const char*> values;
    std::vector<int> lengths;
    for (const auto& p : params) {
        values.push_back(p ? p->c_str() : nullptr);
        lengths.push_back(p ? static_cast<int>(p->size()) : 0);
    }
    PGresult* r = nullptr;
    if (!tick) {
        r = PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                         values.data(), lengths.data(), nullptr, 0);
    } else if (PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                                 values.data(), lengths.data(), nullptr, 0)) {
        // the same, with `tick` called every 200 ms while the server works (progress)
        while (PQisBusy(conn_)) {
            pollfd pfd{PQsocket(conn_), POLLIN, 0};
            int ready = ::poll(&pfd, 1, 200);
            if (ready == 0) tick();
            if (ready < 0 && errno != EINTR) break;
            if (ready > 0 && !PQconsumeInput(conn_)) break;
        }
        // the last result is the query's (one statement: one result)
        for (PGresult* next; (next = PQgetResult(conn_)) != nullptr;) {
            if (r) PQclear(r);
            r = next;
        }
    }
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Rows(r);
    if (!r || PQstatus(conn_) != CONNECTION_OK) {
        std::string m = PQerrorMessage(conn_);
        while (!m.empty() && m.back() == '\n') m.pop_back();
        PQclear(r);
        throw ConnectionError("connection lost: " + m);
    }
    DbError e(field(r, PG_DIAG_SQLSTATE), field(r, PG_DIAG_MESSAGE_PRIMARY),
              field(r, PG_DIAG_MESSAGE_DETAIL), field(r, PG_DIAG_MESSAGE_HINT),
              field(r, PG_DIAG_CONTEXT));
    PQclear(r);
    throw e;
}

Rows Db::call_each(const std::string& function, const std::vector<std::vector<Param>>& columns) {
    std::string args, unnests, names;
    std::vector<Param> arrays;
    for (size_t i = 0; i < columns.size(); i++) {
        std::string c = "c" + std::to_string(i + 1);
        args += (i ? ", f." : "f.") + c;
        unnests += (i ? ", " : "") + std::string("pg_catalog.unnest($") + std::to_string(i + 1) +
                   "::text[])";
        names += c + ", ";
        arrays.push_back(text_array(columns[i]));
    }
    return query("SELECT " + function + "(" + args + ") FROM ROWS FROM (" + unnests +
                     ") WITH ORDINALITY AS f(" + names + "i) ORDER BY f.i",
                 arrays);
}

std::string text_array(const std::vector<Param>& values) {
    std::string a = "{";
    for (size_t i = 0; i < values.size(); i++) {
        if (i) a += ',';
        if (!values[i]) {
            a += "NULL";
            continue;
        }
        a += '"';
        for (char c : *values[i]) {
            if (c == '"' || c == '\\') a += '\\';
            a += c;
        }
        a += '"';
    }
    return a + "}";
}

}  // namespace pgm
