// A hot standby (a server in recovery) answers reads and writes nothing of its own: the
// functions of the extension that write (apply, register, rollback, purge_audit, ...) refuse
// there at once, before they read or lock anything, naming the primary to call instead.
#pragma once

#include <string>

#include "pg/boundary.hpp"

namespace ms::pg {

// Whether this server is in recovery (a hot standby, or a server replaying WAL).
bool on_standby();

// On a standby: raises SQLSTATE 25006 (read_only_sql_transaction), "<function> cannot run on a
// standby", the detail saying what it does (`what`: "writes the migration history"), the hint
// naming the primary the standby streams from (host and port of its WAL receiver; never the
// rest of primary_conninfo). Elsewhere: nothing.
void refuse_on_standby(const std::string& function, const std::string& what);

}  // namespace ms::pg
