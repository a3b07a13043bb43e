// SQL functions of the audit: its event triggers, the load check of migrate.ddl_audit,
// verify_audit(), purge_audit() and audit_preloaded(). Their cores are in src/audit/.
#include "audit/audit.hpp"

MS_FUNCTION(migrate_audit_ddl_command_end, ms::audit::on_ddl_command_end)
MS_FUNCTION(migrate_audit_sql_drop, ms::audit::on_sql_drop)
MS_FUNCTION(migrate_audit_table_rewrite, ms::audit::on_table_rewrite)
MS_FUNCTION(migrate_audit_load_check, ms::audit::load_check)
MS_FUNCTION(migrate_verify_audit, ms::audit::verify)
MS_FUNCTION(migrate_purge_audit, ms::audit::purge)
MS_FUNCTION(migrate_audit_preloaded, ms::audit::preloaded)
