// pg_migrate: Alembic projects, read through Alembic's own offline mode (--sql).
#pragma once

#include <string>
#include <vector>

#include "client/folder.hpp"

namespace pgm {

// The revisions of the project in `dir` (alembic.ini there), in the order of their chain,
// each with its upgrade and downgrade SQL.
Folder read_alembic(const std::string& dir);

// `alembic revision -m NAME`: the new revision's file.
std::vector<std::string> new_alembic_revision(const std::string& dir, const std::string& name);

}  // namespace pgm
