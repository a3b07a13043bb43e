// What every apply, register and rollback does first: refuse to nest inside a migration,
// check that the library matches the installed extension, and take the migrations lock.
#pragma once

namespace ms::migrate {

// The migrate functions change the schema and their own tables; running one from inside a
// migration would interleave two migrations. Refused while an object of this class lives.
class NotNested {
  public:
    explicit NotNested(const char* function);
    ~NotNested();
    NotNested(const NotNested&) = delete;
    NotNested& operator=(const NotNested&) = delete;
};

// Takes the transaction-scoped exclusive advisory lock that serializes every apply, register
// and rollback in the database (pg_advisory_xact_lock(1836411762, 1)), after checking that the
// installed extension is the library's version. Under REPEATABLE READ or SERIALIZABLE, a
// transaction whose snapshot predates migrations another session committed while it waited
// gets a serialization failure (40001): working from that stale view could roll back the wrong
// migration.
void lock();

}  // namespace ms::migrate
