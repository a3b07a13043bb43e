// O801 foreign-key-without-on-delete (convention, opt-in: lint_opt_in fk_on_delete).
//
// Trigger: a foreign key the script adds (any form) with no ON DELETE clause (NO ACTION by
// default): what happens to referencing rows when a referenced row goes should be a decision,
// written down.
// Catalog: none.
#include "lint/rules/rules.hpp"

#include "lint/settings.hpp"

namespace ms::lint::checks {

void foreign_key_without_on_delete(Context& ctx, const ForeignKey& fk) {
    if (!settings::opted_in(RuleId::foreign_key_without_on_delete) ||
        fk.constraint->fk_del_action != FKCONSTR_ACTION_NOACTION)
        return;
    ctx.add(RuleId::foreign_key_without_on_delete, Severity::warning,
            "foreign key on " + rel_name(fk.table) + " does not say what happens on delete",
            "ON DELETE CASCADE, SET NULL or RESTRICT, explicitly");
}

}  // namespace ms::lint::checks
