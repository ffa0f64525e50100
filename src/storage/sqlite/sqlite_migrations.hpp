// The SQLite schema, as numbered migrations per component ("core", and one per module that stores data:
// "pubsub", "muc", …). Each component's version is kept in schema_versions, so modules evolve their
// tables independently. Never edit a released migration: add the next number.
#pragma once

#include <vector>

namespace causerie::storage::sqlite {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

struct SchemaComponent {
  const char* component;
  std::vector<Migration> migrations;
};

// Every component, in the order they are migrated. To add one: a function in its own file, listed here.
const std::vector<SchemaComponent>& schema_components();

SchemaComponent core_schema();
SchemaComponent muc_schema();  // sqlite_muc_schema.cpp
SchemaComponent pubsub_schema();  // sqlite_pubsub_schema.cpp
SchemaComponent blocking_schema();  // sqlite_blocking_schema.cpp
SchemaComponent archive_schema();  // sqlite_archive_schema.cpp
SchemaComponent invite_schema();  // sqlite_invite_schema.cpp
SchemaComponent fast_schema();  // sqlite_fast_schema.cpp
SchemaComponent admin_schema();  // sqlite_admin_schema.cpp
SchemaComponent feed_schema();  // sqlite_feed_schema.cpp
SchemaComponent post_index_schema();  // sqlite_post_index_schema.cpp
SchemaComponent webpush_schema();  // sqlite_webpush_schema.cpp
SchemaComponent preview_schema();  // sqlite_preview_schema.cpp

}  // namespace causerie::storage::sqlite
