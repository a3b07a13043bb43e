// Small text helpers. See text.hpp.
#include "common/pure.hpp"

#include "script/text.hpp"

namespace ms::script {

int count_lines(std::string_view text, size_t from, size_t to, int line) {
    for (size_t i = from; i < to; i++)
        if (text[i] == '\n') line++;
    return line;
}

std::string rtrim(std::string_view s) {
    size_t end = s.size();
    while (end > 0 &&
           (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\n' || s[end - 1] == '\r'))
        end--;
    return std::string(s.substr(0, end));
}

std::string shorten(std::string_view line) {
    constexpr size_t kMax = 120;
    size_t nl = line.find('\n');
    std::string_view first = line.substr(0, nl);
    if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
    if (first.size() <= kMax && nl == std::string_view::npos) return std::string(first);
    size_t cut = first.size() <= kMax ? first.size() : kMax;
    // Do not cut inside a multibyte character.
    while (cut > 0 && cut < first.size() && (static_cast<unsigned char>(first[cut]) & 0xC0) == 0x80)
        cut--;
    return std::string(first.substr(0, cut)) + " ...";
}

}  // namespace ms::script
