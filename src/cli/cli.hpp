// The `causerie` command line (CLI11): run, user add/del/passwd/list/import, export, import, check, version. Every error is
// one clear line on stderr and a non-zero exit code.
#pragma once

namespace causerie {

int run_cli(int argc, char** argv);

}  // namespace causerie
