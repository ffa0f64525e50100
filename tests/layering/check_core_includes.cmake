# Layering check (ARCHITECTURE.md, layout): src/core is the server's transport- and backend-independent
# core; transports (src/http, src/net), the wiring (src/app, src/cli), the modules and the storage
# backends (src/storage/<backend>/) plug into it, never the reverse. The storage interfaces and the
# StorageService lanes (src/storage/*.hpp) may be seen by the core.
#
# cmake -DDIR=<tree> -P check_core_includes.cmake: fails, listing each one, when a C++ file under DIR
# includes one of those, or Asio, Beast or SQLite directly.
if(DIR)
  get_filename_component(DIR "${DIR}" ABSOLUTE)
else()
  message(FATAL_ERROR "usage: cmake -DDIR=<directory> -P check_core_includes.cmake")
endif()
set(forbidden
  "#[ \t]*include[ \t]*[\"<](http|net|app|cli|modules)/"
  "#[ \t]*include[ \t]*[\"<]storage/[^/\">]+/"
  "#[ \t]*include[ \t]*<(boost/asio|boost/beast|sqlite3)")
file(GLOB_RECURSE files LIST_DIRECTORIES false "${DIR}/*.hpp" "${DIR}/*.cpp" "${DIR}/*.h")
set(found 0)
foreach(f IN LISTS files)
  file(STRINGS "${f}" includes REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS includes)
    foreach(re IN LISTS forbidden)
      if(line MATCHES "${re}")
        file(RELATIVE_PATH rel "${DIR}" "${f}")
        message("${rel}: ${line}")
        math(EXPR found "${found} + 1")
        break()
      endif()
    endforeach()
  endforeach()
endforeach()
list(LENGTH files count)
if(count EQUAL 0)
  message(FATAL_ERROR "no C++ files under ${DIR}")
endif()
if(found GREATER 0)
  message("forbidden includes: ${found} in ${count} files")
  message(FATAL_ERROR "src/core must not include transports, modules or storage backends (ARCHITECTURE.md, layout)")
endif()
message("${count} files under ${DIR}: no forbidden include")
