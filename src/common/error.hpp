// The extension's own error: an SQLSTATE with message, detail and hint, thrown as a C++
// exception and raised as a PostgreSQL ERROR at the boundary (src/pg/boundary.hpp). Pure C++:
// pure files throw it too.
#pragma once

#include <exception>
#include <string>
#include <utility>

namespace ms {

// An SQLSTATE in PostgreSQL's packed form (MAKE_SQLSTATE): sqlstate("22023") equals
// ERRCODE_INVALID_PARAMETER_VALUE (checked at compile time in src/pg/boundary.cpp).
constexpr int sqlstate(const char (&code)[6]) {
    int packed = 0;
    for (int i = 0; i < 5; i++) packed += ((code[i] - '0') & 0x3F) << (6 * i);
    return packed;
}

class Error : public std::exception {
  public:
    Error(int code, std::string msg, std::string det = {}, std::string hnt = {})
        : sqlstate(code), message(std::move(msg)), detail(std::move(det)), hint(std::move(hnt)) {}
    const char* what() const noexcept override { return message.c_str(); }
    int sqlstate;
    std::string message, detail, hint;
};

}  // namespace ms
