// The store's queries of verify(): the scripts of migrations, and the verdict an apply with
// verify => true keeps. See store.hpp.
#include "migrate/store.hpp"
#include "migrate/store_rows.hpp"

namespace ms::migrate::store {

using namespace detail;

namespace {

#define SCRIPT_COLUMNS                                                        \
    "version, name, coalesce(up_sql, ''), down_sql, coalesce(checksum, ''), " \
    "order_key, state, up_sql IS NOT NULL"

spi::Query q_scripts_of{
    "SELECT " SCRIPT_COLUMNS " FROM migrate.migrations WHERE version = $1", 1, {TEXTOID}, nullptr};
// Newest applied first, as rollback takes them.
spi::Query q_applied_scripts{"SELECT " SCRIPT_COLUMNS
                             " FROM migrate.migrations WHERE applied_seq IS NOT NULL "
                             "ORDER BY " ROLLBACK_ORDER,
                             0,
                             {},
                             nullptr};
spi::Query q_set_verified{
    "UPDATE migrate.migrations SET verified = $2::pg_catalog.jsonb WHERE version = $1",
    2,
    {TEXTOID, TEXTOID},
    nullptr};

std::vector<Scripts> scripts_rows(uint64 n) {
    std::vector<Scripts> out;
    out.reserve(n);
    for (uint64 i = 0; i < n; i++) {
        Scripts s;
        s.migration = migration_at(i);
        s.state = *spi::get_text(i, 7);
        s.has_script = *spi::get_text(i, 8) == "t";
        out.push_back(std::move(s));
    }
    spi::release();
    return out;
}

}  // namespace

std::optional<Scripts> Store::scripts_of(const std::string& version) {
    spi::Params p;
    p.text(version);
    std::vector<Scripts> found = scripts_rows(spi::run(q_scripts_of, p.values(), p.nulls()));
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
}

std::vector<Scripts> Store::applied_scripts() {
    return scripts_rows(spi::run(q_applied_scripts, nullptr, nullptr));
}

void Store::set_verified(const std::string& version, const std::string& verdict_json) {
    spi::Params p;
    p.text(version).text(verdict_json);
    spi::run(q_set_verified, p.values(), p.nulls());
}

}  // namespace ms::migrate::store
