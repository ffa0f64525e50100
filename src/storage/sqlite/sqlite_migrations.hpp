// The SQLite schema as a list of numbered migrations, applied in order by open_sqlite().
#pragma once

#include <vector>

namespace causerie::storage::sqlite {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

const std::vector<Migration>& migrations();

}  // namespace causerie::storage::sqlite
