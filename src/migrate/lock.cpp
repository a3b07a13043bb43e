// The migrations lock. See lock.hpp.
#include "migrate/lock.hpp"

#include <optional>
#include <string>

#include "migrate/store.hpp"
#include "pg/boundary.hpp"
#include "pg/scope.hpp"

#ifndef MS_EXTENSION_VERSION
#error "MS_EXTENSION_VERSION (default_version of migrations_schema.control) must be defined"
#endif

namespace ms::migrate {

namespace {

int depth = 0;

// pg_advisory_xact_lock(kLockKey1, kLockKey2)
constexpr int32 kLockKey1 = 1836411762;  // 'migr'
constexpr int32 kLockKey2 = 1;

void lock_leaf() {
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, static_cast<uint32>(kLockKey1),
                         static_cast<uint32>(kLockKey2), 2);
    (void)LockAcquire(&tag, ExclusiveLock, false, false);
}

// A library newer than the installed extension (installed, but ALTER EXTENSION ... UPDATE not
// yet run) would write columns the tables do not have yet: refuse with the fix.
void check_installed_version() {
    std::optional<pg::InstalledExtension> ext = pg::installed_extension();
    if (ext && ext->version && *ext->version != MS_EXTENSION_VERSION)
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "extension migrations_schema is installed at version " + *ext->version +
                        " but its library is version " MS_EXTENSION_VERSION,
                    "The library was upgraded; the extension's tables and functions were not.",
                    "ALTER EXTENSION migrations_schema UPDATE;");
}

}  // namespace

NotNested::NotNested(const char* function) {
    if (depth > 0)
        throw Error(ERRCODE_FEATURE_NOT_SUPPORTED,
                    std::string(function) + " cannot be called from inside a migration",
                    "A migration's statements run inside migrate.apply or migrate.rollback; "
                    "nesting another migration call there would interleave two migrations.",
                    "Call it after the current migration, as a separate statement.");
    depth++;
}

NotNested::~NotNested() {
    depth--;
}

void lock() {
    check_installed_version();
    guard([] { lock_leaf(); });
    if (!pg::uses_transaction_snapshot()) return;
    store::Store db;
    bool stale = db.changed_since_snapshot();
    db.close();
    if (stale)
        throw Error(ERRCODE_T_R_SERIALIZATION_FAILURE,
                    "could not serialize access: migrations changed after this transaction "
                    "started",
                    "Another session applied, registered or rolled back migrations after this "
                    "REPEATABLE READ or SERIALIZABLE transaction took its snapshot.",
                    "Retry the transaction, or run migrations under READ COMMITTED (the "
                    "default).");
}

}  // namespace ms::migrate
