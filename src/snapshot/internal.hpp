// Shared by the snapshot's readers (read.cpp: the full read; incremental.cpp: the re-read of
// the relations a script wrote). Not for other rooms: see snapshot.hpp.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "pg/spi.hpp"
#include "snapshot/snapshot.hpp"

namespace ms::snapshot::detail {

// Every object into `out` as take() reads them (the C++ readers, then every query in key
// order); the bases of the generated names with a number appended go to `bases` when not null.
void read_all(Snapshot& out, std::set<std::string>* bases);

// The objects of some relations, as the full read reads them but each keeping its own key (the
// bases of generated names with a number appended go to `bases`): `relations` maps each to the
// kinds to read, as bits: 1 the relation itself, 2 its columns, 4 constraints, 8 indexes, 16
// triggers, 32 rules, 64 policies. `keys` gets the key of each relation still in the snapshot.
void read_relations(Snapshot& out, const std::map<Oid, unsigned>& relations,
                    std::set<std::string>* bases, std::map<std::uint32_t, std::string>& keys);
// The query of functions, procedures and aggregates (every one of the user's), as take()'s.
spi::Query& functions_query();
// The relation keys (OID, key) of every relation in the snapshot.
spi::Query& relation_keys();

// The columns of every relation the snapshot shows, or of those of `scope` it shows, into `out`
// (columns.cpp: C++, not SQL). Needs the search_path pinned, as the queries.
class Lookups;
void read_columns(Snapshot& out, const std::vector<Oid>* scope, Lookups& lookups);
// The constraints and the indexes (objects.cpp) of every relation and domain the snapshot shows,
// or of the relations of `scope`. `rekey` and `bases` as read_into().
void read_constraints(Snapshot& out, const std::vector<Oid>* scope, bool rekey,
                      std::set<std::string>* bases, Lookups& lookups);
void read_indexes(Snapshot& out, const std::vector<Oid>* scope, bool rekey,
                  std::set<std::string>* bases, Lookups& lookups);

// One query's rows into `out` (params: its parameters, or null). `rekey`: as the full read, a
// generated name with a number appended takes its base when free; otherwise each row keeps its
// own key. The bases of such names go to `bases` when not null.
void read_into(Snapshot& out, spi::Query& query, const Datum* params, bool rekey,
               std::set<std::string>* bases);

}  // namespace ms::snapshot::detail
