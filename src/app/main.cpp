#include "cli/cli.hpp"

// jemalloc tuning, read by jemalloc at startup: give freed pages back within a second, from a background
// thread, so an idle server's resident memory follows its sessions down (issue 3: memory per session).
extern "C" {
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
}

int main(int argc, char** argv) { return causerie::run_cli(argc, argv); }
