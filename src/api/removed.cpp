// Functions of earlier versions that the extension no longer has. The install scripts of those
// versions stay in sql/ (they start the update chain) and still create them, and CREATE
// FUNCTION needs the symbol; an update removes the function. Calling one says it is gone.
#include "api/args.hpp"

namespace ms::api {
namespace {

Datum sql_removed_selftest(Call&) {
    throw Error(ERRCODE_FEATURE_NOT_SUPPORTED,
                "migrate.selftest() is not part of migrations_schema since version 0.4.0",
                "It proved the C++ error boundary for the test suite, which builds it as a "
                "module of its own.",
                "ALTER EXTENSION migrations_schema UPDATE;");
}

}  // namespace
}  // namespace ms::api

MS_FUNCTION(migrate_selftest, ms::api::sql_removed_selftest)
