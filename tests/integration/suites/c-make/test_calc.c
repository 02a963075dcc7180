#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "calc.h"

static int failures;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (cond) {                                                        \
            printf("ok    %s\n", #cond);                                   \
        } else {                                                           \
            printf("FAIL  %s\n", #cond);                                   \
            failures++;                                                    \
        }                                                                  \
    } while (0)

int main(void) {
    CHECK(calc_gcd(12, 18) == 6);
    CHECK(calc_gcd(-4, 6) == 2);
    CHECK(calc_is_prime(97));
    CHECK(!calc_is_prime(91));
    /* A test that forks, as many suites do. */
    pid_t pid = fork();
    if (pid == 0)
        _exit(calc_is_prime(7) ? 0 : 1);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    printf("%d failures\n", failures);
    return failures ? 1 : 0;
}
