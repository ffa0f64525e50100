# Part of `make install`: the example configuration becomes etc/causerie/causerie.toml, unless a
# configuration is already there (an upgrade never overwrites the admin's file).
set(dir "$ENV{DESTDIR}${CAUSERIE_CONF_DIR}")
if(EXISTS "${dir}/causerie.toml")
  message(STATUS "Kept: ${dir}/causerie.toml")
else()
  file(MAKE_DIRECTORY "${dir}")
  configure_file("${CAUSERIE_EXAMPLE}" "${dir}/causerie.toml" COPYONLY)
  message(STATUS "Installing: ${dir}/causerie.toml")
endif()
