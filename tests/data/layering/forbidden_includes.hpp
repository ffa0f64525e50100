// Fixture for tests/layering/check_core_includes.cmake (test layering.check_catches_forbidden_includes):
// the check must report exactly the six lines marked "forbidden" and none marked "allowed".
// This file is never compiled.
#pragma once

#include <string>                              // allowed
#include "core/xml/element.hpp"                // allowed
#include "storage/account_store.hpp"           // allowed: a storage interface
#include "storage/storage_service.hpp"         // allowed: the storage lanes
#include "http/http_server.hpp"                // forbidden: a transport
#include "net/worker_pool.hpp"                 // forbidden: a transport
#include "storage/sqlite/sqlite_storage.hpp"   // forbidden: a storage backend
#  include "modules/all_modules.hpp"           // forbidden: a module
#include <boost/asio/io_context.hpp>           // forbidden: Asio
#include <sqlite3.h>                           // forbidden: a backend's library
