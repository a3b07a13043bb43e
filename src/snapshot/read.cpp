// Reading the snapshot from the catalogs. See snapshot.hpp.
//
// Columns, constraints and indexes, the most numerous objects, are read in C++ (columns.cpp,
// objects.cpp: the catalogs scanned directly, PostgreSQL's deparsers called without SQL; a
// new session no longer plans and runs their queries, and no plan depends on the catalogs'
// statistics). Every other kind has one query here. Each returns the object's key, the key of
// its parent (or NULL), the key it takes when its name is one PostgreSQL generated with a
// number appended (or NULL), then one column per property, named as the property (NULL:
// absent). Both run as the caller with search_path pinned to pg_catalog, so regclass, regtype,
// format_type and the pg_get_*def functions qualify every name of the user's schemas.
#include "snapshot/snapshot.hpp"

#include "pg/scope.hpp"
#include "pg/spi.hpp"
#include "snapshot/internal.hpp"
#include "snapshot/reader.hpp"

namespace ms::snapshot {

namespace {

#define USER_NSP(n) MS_USER_NAMESPACE(n)

// Not a member of an extension (its extension stands for it). All three columns of pg_depend's
// index: a probe per object rather than a hash of the whole catalog for each query (OFFSET 0
// keeps it a probe: as an anti-join, the planner hashed every row of pg_depend for a catalog).
#define NOT_IN_EXTENSION(catalog, oid)                                \
    "NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = '" catalog \
    "'::regclass AND "                                                \
    "d.objid = " oid " AND d.objsubid = 0 AND d.deptype = 'e' OFFSET 0)"

// The comment of an object (obj_description and col_description are SQL functions: one query
// per row): an index probe per object. As a join, the plan prepared on a small schema kept a
// nested loop over all of pg_description for each object as the schema grew.
#define COMMENT(catalog, oid, subid)                                       \
    "(SELECT dc.description FROM pg_description dc WHERE dc.objoid = " oid \
    " AND dc.classoid = '" catalog "'::regclass AND dc.objsubid = " subid ")"

// The tablespace of a relation, when not the database's default.
#define TABLESPACE(oid)                                              \
    "CASE WHEN " oid                                                 \
    " <> 0 THEN (SELECT quote_ident(t.spcname) FROM pg_tablespace t" \
    " WHERE t.oid = " oid ") END"

// An object created after initdb (oid >= FirstNormalObjectId): every object of the user's
// namespaces has one (only the schema public itself is older). Lets the queries of objects
// that PostgreSQL ships by the thousand (functions, types, operators, collations) read the
// user's rows by index instead of scanning the whole catalog. (Objects made in single-user mode
// right after initdb could be older; migrations are not run that way.)
#define USER_OID(oid) oid " >= 16384"

// An object of the user's (created after initdb, in a user namespace `n`, not a member of an
// extension), for the kinds PostgreSQL ships by the thousand.
#define USER_OBJECT(catalog, oid) \
    USER_OID(oid) " AND " USER_NSP("n") " AND " NOT_IN_EXTENSION(catalog, oid)

// Privileges, sorted; absent when they are PostgreSQL's default for the owner, whether never
// granted (NULL) or granted and revoked again (the default, explicit).
#define SORTED_ACL(acl) \
    "(SELECT string_agg(a::text, ' ' ORDER BY a::text) FROM unnest(" acl ") AS a)"
#define ACL_DEFAULT(kind, owner) "acldefault(" kind ", " owner ")"
#define PRIVS(acl, kind, owner) \
    "CASE WHEN " acl            \
    " IS NOT NULL THEN nullif(" SORTED_ACL(acl) ", " SORTED_ACL(ACL_DEFAULT(kind, owner)) ") END"
#define PRIVILEGES(acl, kind, owner) PRIVS(acl, "'" kind "'::\"char\"", owner) " AS privileges"

const char* const kSchemas =
    "SELECT 'schema ' || quote_ident(n.nspname), NULL, NULL,"
    " pg_get_userbyid(n.nspowner) AS owner, " PRIVILEGES("n.nspacl", "n", "n.nspowner") ","
    " " COMMENT("pg_namespace", "n.oid", "0") " AS comment"
    " FROM pg_namespace n"
    " WHERE " USER_NSP("n") " AND " NOT_IN_EXTENSION("pg_namespace", "n.oid");

// The column a sequence c belongs to, by a dependency of type `deptype`: 'a' (serial, OWNED BY)
// or 'i' (an identity column's sequence).
#define SEQUENCE_OF(deptype)                                                                   \
    "(SELECT a.attrelid::regclass::text || '.' || quote_ident(a.attname) FROM pg_depend d"     \
    " JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"             \
    " WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid"                              \
    " AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype = '" deptype \
    "' LIMIT 1)"

// The key of a relation c, and which relations are in the snapshot (namespace alias n).
#define RELATION_KEY                                                                               \
    "CASE c.relkind WHEN 'r' THEN 'table ' WHEN 'p' THEN 'table ' WHEN 'v' THEN 'view '"           \
    " WHEN 'm' THEN 'materialized view ' WHEN 'S' THEN 'sequence ' WHEN 'f' THEN 'foreign table '" \
    " ELSE 'type ' END || c.oid::regclass::text"
#define RELATION_FILTER \
    "c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND " USER_NSP("n") " AND " NOT_IN_EXTENSION( \
        "pg_class", "c.oid") " AND (c.relkind <> 'c' OR " NOT_IN_EXTENSION("pg_type", "c.reltype") ")"

const char* const kRelations =
    "SELECT " RELATION_KEY ", NULL, NULL,"
    " pg_get_userbyid(c.relowner) AS owner,"
    " CASE WHEN c.relkind <> 'c' THEN " PRIVS("c.relacl",
                                              "(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::\"char\"",
                                              "c.relowner") " END AS privileges,"
    " " COMMENT("pg_class", "c.oid", "0") " AS comment,"
    " CASE c.relpersistence WHEN 'u' THEN 'unlogged' END AS persistence,"
    " CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS \"partition by\","
    " CASE WHEN c.relispartition THEN ih.parents || ' ' || pg_get_expr(c.relpartbound, c.oid)"
    "   END AS \"partition of\","
    " CASE WHEN NOT c.relispartition THEN ih.parents END AS inherits,"
    " CASE WHEN c.relrowsecurity THEN 'enabled' END AS \"row level security\","
    " CASE WHEN c.relforcerowsecurity THEN 'forced' END AS \"force row level security\","
    " CASE WHEN c.reloptions IS NOT NULL THEN nullif(array_to_string(ARRAY(SELECT o"
    "   FROM unnest(c.reloptions) AS o ORDER BY o), ', '), '') END AS options,"
    " CASE WHEN c.relkind IN ('r', 'p') AND c.relreplident <> 'd' THEN CASE c.relreplident"
    "   WHEN 'n' THEN 'nothing' WHEN 'f' THEN 'full' ELSE 'index' END END"
    "   AS \"replica identity\","
    " CASE WHEN c.relkind IN ('r', 'm') THEN (SELECT am.amname FROM pg_am am"
    "   WHERE am.oid = c.relam AND am.amname <> 'heap') END AS \"access method\","
    " " TABLESPACE("c.reltablespace") " AS tablespace,"
    " CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END AS definition,"
    " CASE WHEN c.relkind = 'm' AND NOT c.relispopulated THEN 'no' END AS populated,"
    " CASE WHEN c.relkind = 'f' THEN (SELECT quote_ident(fs.srvname) FROM pg_foreign_table ft"
    "   JOIN pg_foreign_server fs ON fs.oid = ft.ftserver WHERE ft.ftrelid = c.oid) END"
    "   AS server,"
    " CASE WHEN c.relkind = 'f' THEN (SELECT nullif(array_to_string(ARRAY(SELECT o"
    "   FROM unnest(ft.ftoptions) AS o ORDER BY o), ', '), '') FROM pg_foreign_table ft"
    "   WHERE ft.ftrelid = c.oid) END AS \"foreign options\","
    " format_type(s.seqtypid, NULL) AS \"as\", s.seqstart::text AS start,"
    " s.seqincrement::text AS increment, s.seqmin::text AS minvalue,"
    " s.seqmax::text AS maxvalue, s.seqcache::text AS cache,"
    " CASE WHEN s.seqcycle THEN 'cycle' END AS cycle,"
    // A sequence owned by a column (serial, OWNED BY) or the one of an identity column.
    " CASE WHEN c.relkind = 'S' THEN " SEQUENCE_OF("a") " END AS \"owned by\","
    " CASE WHEN c.relkind = 'S' THEN " SEQUENCE_OF("i") " END AS \"identity of\""
    // What applies to few relations (access method, foreign table, sequence owner) is read by
    // sub-selects run only for them, not joined to every relation.
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " LEFT JOIN pg_sequence s ON s.seqrelid = c.oid"
    // The parents of every child, in one pass over pg_inherits (a partition has one).
    " LEFT JOIN (SELECT i.inhrelid, string_agg(i.inhparent::regclass::text, ', '"
    "   ORDER BY i.inhseqno) AS parents FROM pg_inherits i GROUP BY i.inhrelid) ih"
    "   ON ih.inhrelid = c.oid"
    " WHERE " RELATION_FILTER;

// Relation OID -> key, for the incremental snapshot (incremental.cpp).
const char* const kRelationKeys = "SELECT c.oid, " RELATION_KEY
                                  " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                                  " WHERE " RELATION_FILTER;

const char* const kTriggers =
    "SELECT 'trigger ' || g.tgrelid::regclass::text || '.' || quote_ident(g.tgname),"
    " CASE r.relkind WHEN 'v' THEN 'view ' WHEN 'f' THEN 'foreign table ' ELSE 'table ' END ||"
    "   g.tgrelid::regclass::text, NULL,"
    " pg_get_triggerdef(g.oid) AS definition,"
    " CASE g.tgenabled WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always'"
    "   END AS enabled,"
    " " COMMENT("pg_trigger", "g.oid", "0") " AS comment"
    " FROM pg_trigger g JOIN pg_class r ON r.oid = g.tgrelid"
    " JOIN pg_namespace n ON n.oid = r.relnamespace"
    " WHERE NOT g.tgisinternal AND g.tgparentid = 0 AND " USER_NSP("n") " AND "
    NOT_IN_EXTENSION("pg_class", "r.oid");

const char* const kRules =
    "SELECT 'rule ' || w.ev_class::regclass::text || '.' || quote_ident(w.rulename),"
    " CASE r.relkind WHEN 'v' THEN 'view ' ELSE 'table ' END || w.ev_class::regclass::text,"
    " NULL, pg_get_ruledef(w.oid) AS definition,"
    " " COMMENT("pg_rewrite", "w.oid", "0") " AS comment"
    " FROM pg_rewrite w JOIN pg_class r ON r.oid = w.ev_class"
    " JOIN pg_namespace n ON n.oid = r.relnamespace"
    " WHERE w.rulename <> '_RETURN' AND " USER_NSP(
        "n") " AND " NOT_IN_EXTENSION("pg_class", "r.oid");

const char* const kPolicies =
    "SELECT 'policy ' || p.polrelid::regclass::text || '.' || quote_ident(p.polname),"
    " 'table ' || p.polrelid::regclass::text, NULL,"
    " CASE WHEN p.polpermissive THEN 'permissive' ELSE 'restrictive' END AS \"as\","
    " CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert' WHEN 'w' THEN 'update'"
    "   WHEN 'd' THEN 'delete' ELSE 'all' END AS \"for\","
    " (SELECT string_agg(CASE WHEN o = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(o)) END,"
    "   ', ' ORDER BY 1) FROM unnest(p.polroles) AS o) AS \"to\","
    " pg_get_expr(p.polqual, p.polrelid) AS \"using\","
    " pg_get_expr(p.polwithcheck, p.polrelid) AS \"with check\","
    " " COMMENT("pg_policy", "p.oid", "0") " AS comment"
    " FROM pg_policy p JOIN pg_class r ON r.oid = p.polrelid"
    " JOIN pg_namespace n ON n.oid = r.relnamespace"
    " WHERE " USER_NSP("n") " AND " NOT_IN_EXTENSION("pg_class", "r.oid");

const char* const kFunctions =
    "SELECT CASE p.prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN 'aggregate '"
    " ELSE 'function ' END || p.oid::regprocedure::text, NULL, NULL,"
    " pg_get_userbyid(p.proowner) AS owner, " PRIVILEGES("p.proacl", "f", "p.proowner") ","
    " " COMMENT("pg_proc", "p.oid", "0") " AS comment,"
    " pg_get_function_arguments(p.oid) AS arguments,"
    " CASE WHEN p.prokind <> 'p' THEN pg_get_function_result(p.oid) END AS returns,"
    " l.lanname AS language,"
    " CASE WHEN p.prokind <> 'p' THEN CASE p.provolatile WHEN 'i' THEN 'immutable'"
    "   WHEN 's' THEN 'stable' ELSE 'volatile' END END AS volatility,"
    " CASE WHEN p.prosecdef THEN 'definer' END AS security,"
    " CASE WHEN p.proisstrict THEN 'strict' END AS strict,"
    " CASE WHEN p.proleakproof THEN 'leakproof' END AS leakproof,"
    " CASE WHEN p.prokind <> 'p' THEN CASE p.proparallel WHEN 's' THEN 'safe'"
    "   WHEN 'r' THEN 'restricted' ELSE 'unsafe' END END AS parallel,"
    " CASE WHEN p.prokind <> 'p' THEN p.procost::text END AS cost,"
    " CASE WHEN p.proretset THEN p.prorows::text END AS rows,"
    " CASE WHEN p.proconfig IS NOT NULL THEN nullif(array_to_string(ARRAY(SELECT s"
    "   FROM unnest(p.proconfig) AS s ORDER BY s), ', '), '') END AS settings,"
    " CASE WHEN ag.aggfnoid IS NOT NULL THEN concat_ws(', ',"
    "   'sfunc = ' || ag.aggtransfn::regproc::text,"
    "   'stype = ' || format_type(ag.aggtranstype, NULL),"
    "   'finalfunc = ' || nullif(ag.aggfinalfn, 0)::regproc::text,"
    "   'combinefunc = ' || nullif(ag.aggcombinefn, 0)::regproc::text,"
    "   'serialfunc = ' || nullif(ag.aggserialfn, 0)::regproc::text,"
    "   'deserialfunc = ' || nullif(ag.aggdeserialfn, 0)::regproc::text,"
    "   'msfunc = ' || nullif(ag.aggmtransfn, 0)::regproc::text,"
    "   'minvfunc = ' || nullif(ag.aggminvtransfn, 0)::regproc::text,"
    "   'mstype = ' || format_type(nullif(ag.aggmtranstype, 0), NULL),"
    "   'initcond = ' || quote_literal(ag.agginitval),"
    "   'minitcond = ' || quote_literal(ag.aggminitval),"
    "   'sortop = ' || nullif(ag.aggsortop, 0)::regoperator::text,"
    "   'kind = ' || nullif(ag.aggkind, 'n')::text) END AS aggregate,"
    " CASE WHEN p.prokind = 'a' THEN NULL WHEN p.prosqlbody IS NOT NULL"
    "   THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END AS body"
    " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
    " JOIN pg_language l ON l.oid = p.prolang"
    " LEFT JOIN pg_aggregate ag ON ag.aggfnoid = p.oid"
    " WHERE " USER_OBJECT("pg_proc", "p.oid");

const char* const kTypes =
    "SELECT CASE t.typtype WHEN 'd' THEN 'domain ' ELSE 'type ' END || t.oid::regtype::text,"
    " NULL, NULL,"
    " pg_get_userbyid(t.typowner) AS owner, " PRIVILEGES("t.typacl", "T", "t.typowner") ","
    " " COMMENT("pg_type", "t.oid", "0") " AS comment,"
    " CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'r' THEN 'range' WHEN 'b' THEN 'base'"
    "   WHEN 'p' THEN 'shell' END"
    "   AS kind,"
    " CASE WHEN t.typtype = 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ', '"
    "   ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) END AS \"values\","
    " CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS \"as\","
    " CASE WHEN t.typtype = 'd' AND t.typnotnull THEN 'not null' END AS \"not null\","
    " CASE WHEN t.typtype = 'd' THEN t.typdefault END AS default,"
    " CASE WHEN t.typtype = 'd' AND t.typcollation <> (SELECT b.typcollation FROM pg_type b"
    "   WHERE b.oid = t.typbasetype) THEN (SELECT quote_ident(cn.nspname) || '.' ||"
    "   quote_ident(co.collname) FROM pg_collation co JOIN pg_namespace cn"
    "   ON cn.oid = co.collnamespace WHERE co.oid = t.typcollation) END AS collation,"
    " (SELECT format_type(g.rngsubtype, NULL) FROM pg_range g WHERE g.rngtypid = t.oid)"
    "   AS subtype"
    " FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
    " WHERE (t.typtype IN ('e', 'd', 'r', 'b') OR (t.typtype = 'p' AND NOT t.typisdefined))"
    " AND " USER_OBJECT("pg_type", "t.oid")
    // Not the array type of another type (whose typelem names that type).
    " AND NOT EXISTS (SELECT FROM pg_type e WHERE e.oid = t.typelem AND e.typarray = t.oid"
    " OFFSET 0)";

const char* const kExtensions =
    "SELECT 'extension ' || quote_ident(e.extname), NULL, NULL, e.extversion AS version,"
    " quote_ident(n.nspname) AS schema, " COMMENT("pg_extension", "e.oid", "0") " AS comment"
    " FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'migrations_schema'";

const char* const kStatistics =
    "SELECT 'statistics ' || quote_ident(n.nspname) || '.' || quote_ident(s.stxname), NULL,"
    " NULL, pg_get_statisticsobjdef(s.oid) AS definition,"
    " pg_get_userbyid(s.stxowner) AS owner,"
    " " COMMENT("pg_statistic_ext", "s.oid", "0") " AS comment"
    " FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE " USER_NSP("n");

const char* const kDefaultPrivileges =
    "SELECT 'default privileges ' || quote_ident(pg_get_userbyid(d.defaclrole)) ||"
    " coalesce(' in ' || quote_ident(n.nspname), '') || ' on ' || CASE d.defaclobjtype"
    " WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'"
    " WHEN 'T' THEN 'types' ELSE 'schemas' END, NULL, NULL,"
    " (SELECT string_agg(a::text, ' ' ORDER BY a::text) FROM unnest(d.defaclacl) AS a)"
    "   AS privileges"
    " FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace";

const char* const kCollations =
    "SELECT 'collation ' || quote_ident(n.nspname) || '.' || quote_ident(co.collname), NULL, NULL,"
    " pg_get_userbyid(co.collowner) AS owner,"
    " CASE co.collprovider WHEN 'i' THEN 'icu' WHEN 'c' THEN 'libc' WHEN 'b' THEN 'builtin'"
    "   ELSE 'default' END AS provider,"
    " co.collcollate AS lc_collate, co.collctype AS lc_ctype,"
    " co." MS_PG_COLLATION_LOCALE " AS locale,"
    " CASE WHEN NOT co.collisdeterministic THEN 'false' END AS deterministic,"
    " " COMMENT("pg_collation", "co.oid", "0") " AS comment"
    " FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace WHERE " USER_OBJECT("pg_collation", "co.oid");

const char* const kOperators =
    "SELECT 'operator ' || o.oid::regoperator::text, NULL, NULL,"
    " pg_get_userbyid(o.oprowner) AS owner, o.oprcode::regproc::text AS function,"
    " nullif(o.oprcom, 0)::regoperator::text AS commutator,"
    " nullif(o.oprnegate, 0)::regoperator::text AS negator,"
    " nullif(o.oprrest, 0)::regproc::text AS restrict,"
    " nullif(o.oprjoin, 0)::regproc::text AS \"join\","
    " CASE WHEN o.oprcanhash THEN 'hashes' END AS hashes,"
    " CASE WHEN o.oprcanmerge THEN 'merges' END AS merges,"
    " " COMMENT("pg_operator", "o.oid", "0") " AS comment"
    " FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE " USER_OBJECT("pg_operator", "o.oid");

const char* const kTextSearch =
    "SELECT 'text search configuration ' || c.oid::regconfig::text, NULL, NULL,"
    " pg_get_userbyid(c.cfgowner) AS owner,"
    " (SELECT quote_ident(pn.nspname) || '.' || quote_ident(p.prsname) FROM pg_ts_parser p"
    "   JOIN pg_namespace pn ON pn.oid = p.prsnamespace WHERE p.oid = c.cfgparser) AS parser,"
    " (SELECT string_agg(m.maptokentype || ':' || m.mapdict::regdictionary::text, ', '"
    "   ORDER BY m.maptokentype, m.mapseqno) FROM pg_ts_config_map m WHERE m.mapcfg = c.oid)"
    "   AS mapping,"
    " NULL AS template, NULL AS options, " COMMENT("pg_ts_config", "c.oid", "0") " AS comment"
    " FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace"
    " WHERE " USER_OBJECT("pg_ts_config", "c.oid")
    " UNION ALL "
    "SELECT 'text search dictionary ' || td.oid::regdictionary::text, NULL, NULL,"
    " pg_get_userbyid(td.dictowner), NULL, NULL, t.tmplname::text, td.dictinitoption,"
    " " COMMENT("pg_ts_dict", "td.oid", "0")
    " FROM pg_ts_dict td JOIN pg_namespace n ON n.oid = td.dictnamespace"
    " JOIN pg_ts_template t ON t.oid = td.dicttemplate"
    " WHERE " USER_OBJECT("pg_ts_dict", "td.oid");

const char* const kPublications =
    "SELECT 'publication ' || quote_ident(p.pubname), NULL, NULL,"
    " pg_get_userbyid(p.pubowner) AS owner,"
    " CASE WHEN p.puballtables THEN 'all tables' END AS \"for\","
    " concat_ws(', ', CASE WHEN p.pubinsert THEN 'insert' END,"
    "   CASE WHEN p.pubupdate THEN 'update' END, CASE WHEN p.pubdelete THEN 'delete' END,"
    "   CASE WHEN p.pubtruncate THEN 'truncate' END) AS publish,"
    " CASE WHEN p.pubviaroot THEN 'true' END AS publish_via_partition_root,"
    " (SELECT string_agg(r.prrelid::regclass::text || coalesce(' (' || (SELECT"
    "   string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a"
    "   WHERE a.attrelid = r.prrelid AND a.attnum = ANY(r.prattrs)) || ')', '') ||"
    "   coalesce(' WHERE (' || pg_get_expr(r.prqual, r.prrelid) || ')', ''), ', ' ORDER BY 1)"
    "   FROM pg_publication_rel r WHERE r.prpubid = p.oid) AS tables,"
    " (SELECT string_agg(quote_ident(s.nspname), ', ' ORDER BY 1) FROM"
    "   pg_publication_namespace pn JOIN pg_namespace s ON s.oid = pn.pnnspid"
    "   WHERE pn.pnpubid = p.oid) AS schemas,"
    " " COMMENT("pg_publication", "p.oid", "0") " AS comment"
    " FROM pg_publication p" ;

// (Columns, constraints and indexes are read in C++: columns.cpp, objects.cpp.)
const char* const kQueries[] = {kSchemas,    kRelations,         kTriggers,   kRules,
                                kPolicies,   kFunctions,         kTypes,      kExtensions,
                                kStatistics, kDefaultPrivileges, kCollations, kOperators,
                                kTextSearch, kPublications};

// Up to this many columns a query (read_into).
constexpr int kMaxColumns = 32;

// The text of every column of row `row` of SPI_tuptable (NULL: nullptr), in one call.
void row_leaf(uint64 row, int columns, char** values) {
    for (int c = 0; c < columns; c++)
        values[c] = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, c + 1);
}

// The queries, prepared once per backend (planning them again for each snapshot cost more than
// running them on a small schema), in key order.
std::vector<spi::Query>& queries() {
    static std::vector<std::string> texts;
    static std::vector<spi::Query> prepared;
    if (prepared.empty()) {
        for (const char* q : kQueries) texts.push_back(std::string(q) + " ORDER BY 1");
        for (const auto& text : texts) prepared.push_back(spi::Query{text.c_str(), 0, {}, nullptr});
    }
    return prepared;
}

// SPI_getvalue's copies, once they are in the snapshot (a call takes many snapshots).
void free_row_leaf(int columns, char** values) {
    for (int c = 0; c < columns; c++)
        if (values[c] != nullptr) pfree(values[c]);
}

// The queries of the objects of relations (relations, triggers, rules, policies; columns,
// constraints and indexes are read in C++) restricted to the relations of $1 (oid[]): the filter
// goes in before the anchor, the query's first WHERE on relations.
struct Scoped {
    const char* query;
    const char* anchor;
    const char* filter;
};
const Scoped kScoped[] = {
    {kRelations, " WHERE c.relkind IN", " WHERE c.oid = ANY($1) AND"},
    {kTriggers, " WHERE NOT g.tgisinternal", " WHERE g.tgrelid = ANY($1) AND"},
    {kRules, " WHERE w.rulename", " WHERE w.ev_class = ANY($1) AND"},
    {kPolicies, " WHERE (n.nspname", " WHERE p.polrelid = ANY($1) AND"},
    {kRelationKeys, " WHERE c.relkind IN", " WHERE c.oid = ANY($1) AND"}};

std::string scoped_text(const Scoped& q) {
    std::string text = q.query;
    size_t at = text.find(q.anchor);
    if (at == std::string::npos) throw std::logic_error("snapshot: no anchor for a scoped query");
    text.replace(at, std::string(" WHERE").size(), q.filter);
    return text + " ORDER BY 1";
}

Datum oid_array_leaf(const Oid* oids, int n) {
    Datum* d = (Datum*)palloc(sizeof(Datum) * (n > 0 ? n : 1));
    for (int i = 0; i < n; i++) d[i] = ObjectIdGetDatum(oids[i]);
    return PointerGetDatum(construct_array(d, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
}

std::vector<spi::Query>& scoped_queries() {
    static std::vector<std::string> texts;
    static std::vector<spi::Query> prepared;
    if (prepared.empty()) {
        for (const Scoped& q : kScoped) texts.push_back(scoped_text(q));
        for (const auto& text : texts)
            prepared.push_back(spi::Query{text.c_str(), 1, {OIDARRAYOID}, nullptr, true});
    }
    return prepared;
}

}  // namespace

namespace detail {

void read_relations(Snapshot& out, const std::map<Oid, unsigned>& relations,
                    std::set<std::string>* bases, std::map<std::uint32_t, std::string>& keys) {
    std::vector<spi::Query>& queries = scoped_queries();
    // Kinds 1 to 3 (columns, constraints, indexes) in C++, the others with their query. The
    // C++ readers' lookups are set up for the first of those this patch reads, if any.
    std::optional<Lookups> lookups;
    for (unsigned kind = 0, q = 0; kind < 7; kind++) {
        std::vector<Oid> some;
        for (const auto& [oid, kinds] : relations)
            if (kinds & (1u << kind)) some.push_back(oid);
        spi::Query* query = kind >= 1 && kind <= 3 ? nullptr : &queries[q++];
        if (some.empty()) continue;
        if (query == nullptr && !lookups) lookups.emplace(false);
        if (kind == 1) read_columns(out, &some, *lookups);
        if (kind == 2) read_constraints(out, &some, false, bases, *lookups);
        if (kind == 3) read_indexes(out, &some, false, bases, *lookups);
        if (query == nullptr) continue;
        Datum param = guard([&] { return oid_array_leaf(some.data(), (int)some.size()); });
        read_into(out, *query, &param, false, bases);
    }
    if (lookups) lookups->finish();
    std::vector<Oid> oids;
    for (const auto& [oid, kinds] : relations) oids.push_back(oid);
    Datum param = guard([&] { return oid_array_leaf(oids.data(), (int)oids.size()); });
    uint64 n = spi::run(queries.back(), &param, nullptr);
    for (uint64 r = 0; r < n; r++) keys[(std::uint32_t)spi::get_int64(r, 1)] = *spi::get_text(r, 2);
    spi::release();
}

spi::Query& functions_query() {
    for (size_t i = 0; i < sizeof kQueries / sizeof kQueries[0]; i++)
        if (kQueries[i] == kFunctions) return queries()[i];
    throw std::logic_error("snapshot: kFunctions is not among the queries");
}

spi::Query& relation_keys() {
    static std::string text = std::string(kRelationKeys) + " ORDER BY 1";
    static spi::Query q{text.c_str(), 0, {}, nullptr};
    return q;
}

// Rows in key order: of two generated names, the one without a number keeps its own key
// (`rekey`; otherwise every row keeps its own). The bases of such names go to `bases`.
void read_into(Snapshot& out, spi::Query& query, const Datum* params, bool rekey,
               std::set<std::string>* bases) {
    uint64 n = spi::run(query, params, nullptr);
    int columns = spi::column_count();
    if (columns > kMaxColumns) throw std::logic_error("snapshot query with too many columns");
    std::vector<std::string> names;
    for (int c = 4; c <= columns; c++) names.push_back(spi::column_name(c));
    char* values[kMaxColumns];
    for (uint64 r = 0; r < n; r++) {
        guard([&] { row_leaf(r, columns, values); });
        std::string key = values[0];
        if (values[2] != nullptr && bases != nullptr) bases->insert(values[2]);
        // A generated name with a number appended takes its base name, unless that is taken.
        if (rekey && values[2] != nullptr && out.find(values[2]) == out.end()) key = values[2];
        Object& o = out[key];
        if (values[1] != nullptr) o.parent = values[1];
        for (int c = 3; c < columns; c++)
            if (values[c] != nullptr) o.props.emplace(names[c - 3], values[c]);
        guard([&] { free_row_leaf(columns, values); });
    }
    spi::release();
}

void read_all(Snapshot& out, std::set<std::string>* bases) {
    {
        Lookups lookups(true);
        read_columns(out, nullptr, lookups);
        read_constraints(out, nullptr, true, bases, lookups);
        read_indexes(out, nullptr, true, bases, lookups);
        lookups.finish();
    }
    for (auto& q : queries()) read_into(out, q, nullptr, true, bases);
}

}  // namespace detail

Snapshot take() {
    Snapshot s;
    pg::PinnedSearchPath pinned;
    pinned.enter();
    detail::read_all(s, nullptr);
    pinned.leave();
    return s;
}

}  // namespace ms::snapshot
