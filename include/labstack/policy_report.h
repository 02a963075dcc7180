/*
 * policy_report.h - policies explained to the people who review them.
 *
 * Both functions work on *effective* policies (extends and imports resolved, as
 * ls_policy_load returns them) and produce plain text for a terminal or a code
 * review: what `labstack policy explain` and `labstack policy diff` print.
 */
#pragma once

struct ls_policy;

/*
 * The effective policy in words: name, version, hash, description, clients, limits
 * (default and max in human units), filesystem, network, environment and seccomp --
 * the default and unknown-number errno, the allowed syscalls grouped by area (file
 * I/O, memory, processes, signals, time, sockets/network, IPC, other), the refused
 * ones with their errno, and every argument rule spelled out ("socket: EAFNOSUPPORT
 * when arg0 > 16").  Returns a NUL-terminated string the caller frees, or NULL when
 * out of memory.
 */
char *ls_policy_explain(const struct ls_policy *p);

/*
 * What `new` allows or refuses that `old` did not, one finding per line, each
 * starting with "+ allows" (loosened), "- no longer allows" (tightened) or
 * "~ changed" (neither, or both): syscalls newly allowed or refused, changed
 * argument rules and errno values, limits raised or lowered (default and max),
 * binds, workspace, clients, environment and network.  Two header lines name the
 * policies; when nothing differs the text says so.  Caller frees; NULL when out of
 * memory.
 */
char *ls_policy_diff(const struct ls_policy *old, const struct ls_policy *new);
