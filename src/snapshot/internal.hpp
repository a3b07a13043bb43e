// Shared by the snapshot's readers (read.cpp: the full read; incremental.cpp: the re-read of
// the relations a script wrote). Not for other rooms: see snapshot.hpp.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "pg/spi.hpp"
#include "snapshot/snapshot.hpp"

namespace ms::snapshot::detail {

// Every query, in key order, into `out` as take() reads them; the bases of the generated names
// with a number appended (the third column of their rows) go to `bases` when not null.
void read_all(Snapshot& out, std::set<std::string>* bases);

// The queries of relations, columns, constraints, indexes, triggers, rules and policies, then
// the relation keys (OID, key), each restricted to the relations of its one parameter (oid[]).
std::vector<spi::Query>& scoped_queries();
// The query of functions, procedures and aggregates (every one of the user's), as take()'s.
spi::Query& functions_query();
// The relation keys (OID, key) of every relation in the snapshot.
spi::Query& relation_keys();

// One query's rows into `out` (params: its parameters, or null). `rekey`: as the full read, a
// generated name with a number appended takes its base when free; otherwise each row keeps its
// own key. The bases of such names go to `bases` when not null.
void read_into(Snapshot& out, spi::Query& query, const Datum* params, bool rekey,
               std::set<std::string>* bases);

}  // namespace ms::snapshot::detail
