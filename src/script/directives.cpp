// `-- migrate:allow` directives. See directives.hpp.
#include "common/pure.hpp"

#include "script/directives.hpp"

#include "script/text.hpp"

namespace ms::script {

std::vector<Directive> allow_directives(std::string_view text, bool standard_strings) {
    constexpr std::string_view kTag = "migrate:allow";
    auto ident_char = [](unsigned char c) {
        return c == '_' || c == '$' || c >= 0x80 || (c >= '0' && c <= '9') ||
               (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    };
    std::vector<Directive> out;
    const size_t n = text.size();
    int line = 1;
    auto skip_to = [&](size_t from, size_t to) {  // counts the newlines in [from, to)
        line = count_lines(text, from, to, line);
        return to;
    };
    size_t i = 0;
    while (i < n) {
        char c = text[i];
        if (c == '\n') {
            line++;
            i++;
        } else if (c == '-' && i + 1 < n && text[i + 1] == '-') {
            size_t end = text.find('\n', i);
            if (end == std::string_view::npos) end = n;
            std::string_view body = text.substr(i + 2, end - i - 2);
            size_t b = body.find_first_not_of(" \t");
            if (b != std::string_view::npos && body.substr(b, kTag.size()) == kTag &&
                (body.size() == b + kTag.size() || body[b + kTag.size()] == ' ' ||
                 body[b + kTag.size()] == '\t' || body[b + kTag.size()] == '\r'))
                out.push_back(Directive{line, rtrim(body.substr(b + kTag.size()))});
            i = end;
        } else if (c == '/' && i + 1 < n && text[i + 1] == '*') {
            int depth = 1;  // block comments nest
            size_t j = i + 2;
            while (j < n && depth > 0) {
                if (text[j] == '/' && j + 1 < n && text[j + 1] == '*') {
                    depth++;
                    j += 2;
                } else if (text[j] == '*' && j + 1 < n && text[j + 1] == '/') {
                    depth--;
                    j += 2;
                } else {
                    j++;
                }
            }
            i = skip_to(i, j);
        } else if (c == '\'' || c == '"') {
            // E'...' (and e'...') strings take backslash escapes; so do all of them when
            // standard_conforming_strings is off.
            bool escapes = c == '\'' && (!standard_strings ||
                                         (i > 0 && (text[i - 1] == 'E' || text[i - 1] == 'e') &&
                                          (i < 2 || !ident_char(text[i - 2]))));
            size_t j = i + 1;
            while (j < n) {
                if (escapes && text[j] == '\\') {
                    j += 2;
                } else if (text[j] == c) {
                    if (j + 1 < n && text[j + 1] == c) {
                        j += 2;  // doubled quote
                    } else {
                        j++;
                        break;
                    }
                } else {
                    j++;
                }
            }
            i = skip_to(i, j > n ? n : j);
        } else if (c == '$' && (i == 0 || !ident_char(text[i - 1]))) {
            // $tag$ ... $tag$ (a tag does not start with a digit: $1 is a parameter)
            size_t j = i + 1;
            while (j < n && text[j] != '$' && ident_char(text[j]) &&
                   !(j == i + 1 && text[j] >= '0' && text[j] <= '9'))
                j++;
            if (j < n && text[j] == '$') {
                std::string_view tag = text.substr(i, j - i + 1);
                size_t close = text.find(tag, j + 1);
                size_t end = close == std::string_view::npos ? n : close + tag.size();
                i = skip_to(i, end);
            } else {
                i++;
            }
        } else if (ident_char(static_cast<unsigned char>(c))) {
            while (i < n && ident_char(static_cast<unsigned char>(text[i]))) i++;
        } else {
            i++;
        }
    }
    return out;
}

}  // namespace ms::script
