/*
 * caps.c - capabilities: all five sets empty, and no way to get one back.
 *
 * Capabilities held inside the sandbox's user namespace only count there, but they
 * would still open kernel surface (mount, netlink configuration, raw sockets), so
 * the sandbox keeps none.  Order matters:
 *   1. securebits NOROOT and NO_CAP_AMBIENT_RAISE, locked: execve of anything as uid 0
 *      grants no capability, and the ambient set can never be raised again;
 *   2. bounding set emptied (needs CAP_SETPCAP, so before step 4): no file capability
 *      can ever be gained by exec;
 *   3. ambient cleared;
 *   4. inheritable, permitted, effective set to empty with capset (libcap).
 * PR_SET_NO_NEW_PRIVS, set by the caller after this, makes the state permanent
 * across execve of setuid or file-capability binaries.
 */
#include "caps.h"

#include <errno.h>
#include <linux/securebits.h>
#include <sys/prctl.h>

#include "labstack/error.h"

cap_t caps_prepare(void) {
    cap_t c = cap_init(); /* all three sets clear */
    return c;
}

int caps_drop_all(cap_t empty, struct ls_error *err) {
    unsigned bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
                    SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
                    SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;

    if (cap_set_secbits(bits) < 0)
        return ls_error_set_safe(err, errno, "capabilities", "set securebits", NULL);
    for (cap_value_t c = 0; c <= CAP_LAST_CAP || c < cap_max_bits(); c++) {
        if (cap_drop_bound(c) < 0 && errno != EINVAL)
            return ls_error_set_safe(err, errno, "capabilities", "drop from the bounding set", NULL);
    }
    if (cap_reset_ambient() < 0)
        return ls_error_set_safe(err, errno, "capabilities", "clear the ambient set", NULL);
    if (cap_set_proc(empty) < 0)
        return ls_error_set_safe(err, errno, "capabilities", "clear permitted/effective/inheritable",
                                 NULL);
    return 0;
}
