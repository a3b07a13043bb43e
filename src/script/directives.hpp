// `-- migrate:allow rule[, rule ...] [-- reason]` line comments of a script. Pure C++: a scan
// that knows where comments cannot start (string literals, quoted identifiers, dollar-quoted
// bodies, nested block comments), not a tokenizer of SQL.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ms::script {

// A `-- migrate:allow ...` comment: its line and the text after "migrate:allow".
struct Directive {
    int line;
    std::string body;
};

// The directives of a script, in order. `standard_strings`: the server's
// standard_conforming_strings (off: every '...' string takes backslash escapes).
std::vector<Directive> allow_directives(std::string_view text, bool standard_strings);

}  // namespace ms::script
