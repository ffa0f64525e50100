#include "cli/cli.hpp"

int main(int argc, char** argv) { return causerie::run_cli(argc, argv); }
