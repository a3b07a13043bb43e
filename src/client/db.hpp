// pg_migrate: the connection (libpq). Every decision is the extension's: this only sends SQL
// and brings back rows and errors.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

struct pg_conn;
struct pg_result;

namespace pgm {

// An error the server raised: its fields.
struct DbError : std::runtime_error {
    DbError(const std::string& sqlstate, const std::string& message, std::string detail,
            std::string hint, std::string context)
        : std::runtime_error(message),
          sqlstate(sqlstate),
          detail(std::move(detail)),
          hint(std::move(hint)),
          context(std::move(context)) {}
    std::string sqlstate, detail, hint, context;
};

// No connection, or a database the client cannot work with: exit status 3.
struct ConnectionError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

using Param = std::optional<std::string>;

class Rows {
  public:
    explicit Rows(pg_result* r);
    int size() const;
    std::optional<std::string> get(int row, int col) const;
    std::string text(int row, int col) const { return get(row, col).value_or(""); }

  private:
    std::shared_ptr<pg_result> r_;
};

class Db {
  public:
    // conninfo: a connection string or URI; empty: libpq's environment (PGHOST, ...).
    Db(const std::string& conninfo, bool quiet);
    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    // `tick`, when given, is called every 200 ms while the server works (progress).
    Rows query(const std::string& sql, const std::vector<Param>& params = {},
               const std::function<void()>& tick = {});
    void exec(const std::string& sql) { query(sql); }
    // `function` called once per row of `columns` (text arrays side by side), in their order:
    // SELECT function(f.c1, ..., f.cN) FROM ROWS FROM (unnest($1::text[]), ...) WITH ORDINALITY,
    // one statement for many calls.
    Rows call_each(const std::string& function, const std::vector<std::vector<Param>>& columns);
    std::string describe() const;  // database and server, for messages

  private:
    bool quiet_;  // --quiet: no server notices (the notice receiver's argument)
    pg_conn* conn_;
};

// A text[] literal of the values (NULL elements for nullopt).
std::string text_array(const std::vector<Param>& values);

}  // namespace pgm
