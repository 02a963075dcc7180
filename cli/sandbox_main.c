/* labstack-sandbox: `labstack sandbox ...`, the direct root-only entry point. */
#include "sandbox_cmd.h"

int main(int argc, char **argv) {
    return sandbox_cmd_main(argc, argv);
}
