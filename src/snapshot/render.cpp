// The snapshot as DDL-like text: migrate.schema(). See snapshot.hpp.
//
// Objects in a fixed order of kinds (extensions, schemas, types, sequences, tables with their
// columns, constraints, indexes, triggers, rules and policies, views, functions, ...), by key
// within a kind. A property with no DDL form here is a comment line under its statement, so
// the text holds everything the snapshot compares.
#include <algorithm>
#include <set>

#include "snapshot/snapshot.hpp"

namespace ms::snapshot {

namespace {

// Kinds of top-level objects, in the order they are written.
const char* const kKinds[] = {"extension",
                              "schema",
                              "collation",
                              "type",
                              "domain",
                              "sequence",
                              "table",
                              "foreign table",
                              "view",
                              "materialized view",
                              "function",
                              "aggregate",
                              "procedure",
                              "operator",
                              "text search dictionary",
                              "text search configuration",
                              "statistics",
                              "publication",
                              "default privileges"};
// Kinds of objects that belong to another, in the order they follow it.
const char* const kChildren[] = {"constraint", "index", "trigger", "rule", "policy"};

// Whether `key` starts with `kind` followed by a space.
bool has_kind(const std::string& key, const char* kind) {
    size_t n = std::char_traits<char>::length(kind);
    return key.size() > n && key.compare(0, n, kind) == 0 && key[n] == ' ';
}

// The kind of a key (the longest known kind it starts with) and the name after it.
std::pair<std::string, std::string> split_key(const std::string& key) {
    std::string kind;
    for (const char* k : kKinds)
        if (has_kind(key, k) && std::char_traits<char>::length(k) > kind.size()) kind = k;
    for (const char* k : kChildren)
        if (has_kind(key, k)) kind = k;
    if (has_kind(key, "column")) kind = "column";
    return {kind, kind.empty() ? key : key.substr(kind.size() + 1)};
}

// The last part of a qualified name ("public.users_pkey" -> "users_pkey"), quotes respected.
std::string last_part(const std::string& qualified) {
    size_t start = 0;
    bool quoted = false;
    for (size_t i = 0; i < qualified.size(); i++) {
        if (qualified[i] == '"') quoted = !quoted;
        if (qualified[i] == '.' && !quoted) start = i + 1;
    }
    return qualified.substr(start);
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
    return s;
}

std::string literal(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += '\'';
        out += c;
    }
    return out + "'";
}

// Properties the statement does not show, as comment lines.
class Props {
  public:
    explicit Props(const Object& o) : o_(o) {}
    const std::string* take(const std::string& p) {
        auto it = o_.props.find(p);
        if (it == o_.props.end()) return nullptr;
        used_.insert(p);
        return &it->second;
    }
    std::string rest(const std::string& indent) const {
        std::string out;
        for (const auto& [p, v] : o_.props)
            if (!used_.count(p)) out += indent + "-- " + p + ": " + v + "\n";
        return out;
    }

  private:
    const Object& o_;
    std::set<std::string> used_;
};

// OWNER, COMMENT and privileges of a top-level object.
std::string trailer(const std::string& kind, const std::string& name, Props& p) {
    std::string out, what = upper(kind);
    if (const std::string* v = p.take("owner"))
        out += "ALTER " + what + " " + name + " OWNER TO " + *v + ";\n";
    if (const std::string* v = p.take("comment"))
        out += "COMMENT ON " + what + " " + name + " IS " + literal(*v) + ";\n";
    if (const std::string* v = p.take("privileges"))
        out += "-- privileges (not the default): " + *v + "\n";
    return out;
}

std::string column_line(const std::string& name, const Object& o) {
    Props p(o);
    p.take("position");
    std::string out = "    " + name;
    if (const std::string* v = p.take("type")) out += " " + *v;
    if (const std::string* v = p.take("collation")) out += " COLLATE " + *v;
    if (const std::string* v = p.take("generated"))
        out += " GENERATED ALWAYS AS (" + *v + ") STORED";
    if (const std::string* v = p.take("identity"))
        out += " GENERATED " + upper(*v) + " AS IDENTITY";
    if (const std::string* v = p.take("default")) out += " DEFAULT " + *v;
    if (p.take("not null")) out += " NOT NULL";
    std::string rest = p.rest("        ");
    return out + (rest.empty() ? "" : "\n" + rest.substr(0, rest.size() - 1));
}

std::string function_text(const std::string& kind, const std::string& name, Props& p) {
    std::string out = "CREATE " + upper(kind) + " " + name.substr(0, name.find('(')) + "(";
    if (const std::string* v = p.take("arguments")) out += *v;
    out += ")";
    if (const std::string* v = p.take("returns")) out += " RETURNS " + *v;
    if (const std::string* v = p.take("language")) out += " LANGUAGE " + *v;
    for (const char* k : {"volatility", "strict", "leakproof"})
        if (const std::string* v = p.take(k)) out += " " + upper(*v);
    if (p.take("security")) out += " SECURITY DEFINER";
    if (const std::string* v = p.take("parallel")) out += " PARALLEL " + upper(*v);
    if (const std::string* v = p.take("cost")) out += " COST " + *v;
    if (const std::string* v = p.take("rows")) out += " ROWS " + *v;
    if (const std::string* v = p.take("settings")) out += " SET " + *v;
    if (const std::string* v = p.take("body")) {
        std::string tag = "$$";
        for (int i = 0; v->find(tag) != std::string::npos; i++)
            tag = "$b" + std::to_string(i) + "$";
        out += "\n    AS " + tag + *v + tag;
    }
    return out + ";\n";
}

std::string top_statement(const std::string& kind, const std::string& name, const Object& o,
                          Props& p, const std::string& columns) {
    if (kind == "table" || kind == "foreign table") {
        std::string out = "CREATE ";
        if (const std::string* v = p.take("persistence")) out += upper(*v) + " ";
        out += upper(kind) + " " + name + " (\n" + columns + ")";
        if (const std::string* v = p.take("partition of")) out += " PARTITION OF " + *v;
        if (const std::string* v = p.take("partition by")) out += " PARTITION BY " + *v;
        if (const std::string* v = p.take("inherits")) out += " INHERITS (" + *v + ")";
        if (const std::string* v = p.take("options")) out += " WITH (" + *v + ")";
        if (const std::string* v = p.take("server")) out += " SERVER " + *v;
        if (const std::string* v = p.take("foreign options")) out += " OPTIONS (" + *v + ")";
        out += ";\n";
        if (p.take("row level security"))
            out += "ALTER TABLE " + name + " ENABLE ROW LEVEL SECURITY;\n";
        if (p.take("force row level security"))
            out += "ALTER TABLE " + name + " FORCE ROW LEVEL SECURITY;\n";
        return out;
    }
    if (kind == "view" || kind == "materialized view") {
        const std::string* v = p.take("definition");
        std::string def = v ? *v : "";
        if (p.take("populated") && !def.empty() && def.back() == ';')
            def = def.substr(0, def.size() - 1) + "\n  WITH NO DATA;";
        return "CREATE " + upper(kind) + " " + name + " AS\n" + def + "\n";
    }
    if (kind == "aggregate") {
        const std::string* args = p.take("arguments");
        const std::string* v = p.take("aggregate");
        return "CREATE AGGREGATE " + name.substr(0, name.find('(')) + "(" + (args ? *args : "") +
               ") (" + (v ? *v : "") + ");\n";
    }
    if (kind == "function" || kind == "procedure") return function_text(kind, name, p);
    if (kind == "sequence") {
        std::string out = "CREATE SEQUENCE " + name;
        for (const char* k : {"as", "start", "increment", "minvalue", "maxvalue", "cache"})
            if (const std::string* v = p.take(k)) out += " " + upper(k) + " " + *v;
        if (p.take("cycle")) out += " CYCLE";
        if (const std::string* v = p.take("owned by")) out += " OWNED BY " + *v;
        // An identity column's sequence: its column makes it.
        if (const std::string* v = p.take("identity of"))
            return "-- " + out + "; (the identity of " + *v + ")\n";
        return out + ";\n";
    }
    if (kind == "type") {
        const std::string* k = p.take("kind");
        if (k == nullptr) return "CREATE TYPE " + name + " AS (\n" + columns + ");\n";
        if (*k == "enum") {
            const std::string* v = p.take("values");
            return "CREATE TYPE " + name + " AS ENUM (" + (v ? *v : "") + ");\n";
        }
        if (*k == "range") {
            const std::string* v = p.take("subtype");
            return "CREATE TYPE " + name + " AS RANGE (SUBTYPE = " + (v ? *v : "") + ");\n";
        }
        return "CREATE TYPE " + name + ";\n";
    }
    if (kind == "domain") {
        std::string out = "CREATE DOMAIN " + name;
        if (const std::string* v = p.take("as")) out += " AS " + *v;
        if (const std::string* v = p.take("collation")) out += " COLLATE " + *v;
        if (const std::string* v = p.take("default")) out += " DEFAULT " + *v;
        if (p.take("not null")) out += " NOT NULL";
        return out + ";\n";
    }
    if (kind == "extension") {
        std::string out = "CREATE EXTENSION " + name;
        if (const std::string* v = p.take("schema")) out += " SCHEMA " + *v;
        if (const std::string* v = p.take("version")) out += " VERSION " + literal(*v);
        return out + ";\n";
    }
    if (kind == "schema") return "CREATE SCHEMA " + name + ";\n";
    if (kind == "statistics") {
        const std::string* v = p.take("definition");
        return (v ? *v : "CREATE STATISTICS " + name) + ";\n";
    }
    (void)o;
    return "-- " + kind + " " + name + "\n";
}

std::string child_statement(const std::string& kind, const std::string& name,
                            const std::string& parent_kind, const std::string& parent, Props& p) {
    std::string out;
    if (kind == "constraint") {
        p.take("validated");
        p.take("deferrable");  // both in the definition
        const std::string* v = p.take("definition");
        out = "ALTER " + upper(parent_kind) + " " + parent + " ADD CONSTRAINT " +
              name.substr(parent.size() + 1) + " " + (v ? *v : "") + ";\n";
    } else if (kind == "index") {
        const std::string* v = p.take("definition");
        bool unique = p.take("unique") != nullptr;
        if (p.take("constraint")) return p.rest("    ");  // its constraint makes it
        out = std::string("CREATE ") + (unique ? "UNIQUE " : "") + "INDEX " + last_part(name) +
              " " + (v ? *v : "") + ";\n";
    } else if (kind == "policy") {
        out = "CREATE POLICY " + name.substr(parent.size() + 1) + " ON " + parent;
        for (const char* k : {"as", "for", "to"})
            if (const std::string* v = p.take(k)) out += " " + upper(k) + " " + upper(*v);
        if (const std::string* v = p.take("using")) out += " USING (" + *v + ")";
        if (const std::string* v = p.take("with check")) out += " WITH CHECK (" + *v + ")";
        out += ";\n";
    } else {
        const std::string* v = p.take("definition");
        out = (v ? *v : "-- " + kind + " " + name) + ";\n";
    }
    if (const std::string* v = p.take("comment"))
        out += "COMMENT ON " + upper(kind) + " " + name + " IS " + literal(*v) + ";\n";
    return out + p.rest("    ");
}

}  // namespace

std::string render(const Snapshot& s) {
    // One pass over the snapshot, each key split once: the top-level objects by kind (in key
    // order within a kind), the columns of each parent by position, its other children by key.
    struct Named {
        const std::string* key;
        std::string kind, name;
    };
    constexpr size_t kKindCount = sizeof(kKinds) / sizeof(kKinds[0]);
    std::vector<std::vector<Named>> tops(kKindCount);
    std::map<std::string, std::vector<std::pair<int, const std::string*>>> columns;
    std::map<std::string, std::vector<Named>> children;
    for (const auto& [key, o] : s) {
        auto [kind, name] = split_key(key);
        if (o.parent.empty()) {
            for (size_t i = 0; i < kKindCount; i++)
                if (kind == kKinds[i]) tops[i].push_back({&key, kind, name});
        } else if (kind == "column") {
            auto pos = o.props.find("position");
            columns[o.parent].push_back({pos == o.props.end() ? 0 : std::stoi(pos->second), &key});
        } else {
            children[o.parent].push_back({&key, kind, name});
        }
    }
    const std::vector<std::pair<int, const std::string*>> no_columns;
    const std::vector<Named> no_children;
    std::string out;
    for (const auto& list : tops)
        for (const Named& top : list) {
            const std::string& key = *top.key;
            const std::string &kind = top.kind, &name = top.name;
            auto c = columns.find(key);
            auto& cols_of = c == columns.end() ? no_columns : c->second;
            std::vector<std::pair<int, std::string>> sorted;
            for (const auto& [pos, ckey] : cols_of) sorted.push_back({pos, *ckey});
            std::sort(sorted.begin(), sorted.end());
            std::string cols;
            for (size_t i = 0; i < sorted.size(); i++) {
                const std::string& ckey = sorted[i].second;
                cols += column_line(ckey.substr(7 + name.size() + 1), s.at(ckey)) +
                        (i + 1 < sorted.size() ? ",\n" : "\n");
            }
            const Object& o = s.at(key);
            Props p(o);
            out += "\n" + top_statement(kind, name, o, p, cols);
            out += trailer(kind, name, p);
            out += p.rest("");
            auto ch = children.find(key);
            auto& kids = ch == children.end() ? no_children : ch->second;
            for (const char* child : kChildren)
                for (const Named& kid : kids) {
                    if (kid.kind != child) continue;
                    Props cp(s.at(*kid.key));
                    out += child_statement(kid.kind, kid.name, kind, name, cp);
                }
        }
    return out.empty() ? out : out.substr(1);
}

}  // namespace ms::snapshot
