/*
 * notify.c - answer and count the calls a sandbox's seccomp program refuses.
 *
 * The command runs under the notify form of its program: the same filter as the plain
 * one, but every ERRNO verdict is SECCOMP_RET_USER_NOTIF, so the kernel parks each
 * refused call and queues a notification on the filter's listener, which the parent
 * holds (init.c says how it gets there).  For each one we evaluate the *plain* program
 * on the very struct seccomp_data the kernel filtered (ls_seccomp_program_eval, in
 * user space), answer with exactly its errno -- never with
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE, so no refused call ever runs -- and count it by
 * syscall number.  The program behaves as the plain filter would, only slower per
 * refused call (docs/sandbox.md has the numbers).
 *
 * Why this is safe: the listener can only answer calls the filter already refused; an
 * answer is an error code, and when evaluation fails for any reason the answer is
 * EPERM (fail closed).  Nothing from the notification is used as a pointer, a path or
 * an index into memory: the syscall number only selects a counter after a bounds
 * check.
 */
#include "notify.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "labstack/macros.h"
#include "labstack/seccomp.h"

#define ERRNO_MAX 4095

/* Linux 6.6: wake the other side on the current CPU (supervisor and target alternate
 * like a synchronous call).  Not in the 6.1 headers. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

int notify_start(struct notify *n, int fd, const struct ls_seccomp_program *prog) {
    struct seccomp_notif_sizes sizes;

    if (n->fd >= 0) { /* one listener per run: a second one is not ours to answer */
        close(fd);
        return -EEXIST;
    }
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    /* The kernel's structures may be larger than the ones we were compiled with. */
    n->req_size = sizes.seccomp_notif > sizeof(struct seccomp_notif) ? sizes.seccomp_notif
                                                                     : sizeof(struct seccomp_notif);
    n->resp_size = sizes.seccomp_notif_resp > sizeof(struct seccomp_notif_resp)
                       ? sizes.seccomp_notif_resp
                       : sizeof(struct seccomp_notif_resp);
    n->req = calloc(1, n->req_size);
    n->resp = calloc(1, n->resp_size);
    if (!n->by_nr)
        n->by_nr = calloc(NOTIFY_NR_SPACE, sizeof(*n->by_nr));
    if (!n->req || !n->resp || !n->by_nr) {
        close(fd);
        notify_stop(n);
        return -ENOMEM;
    }
    /* A refused call is a round trip: it wakes us, our answer wakes it.  Where the
     * kernel can, do both wake-ups on the CPU that is running already: in a VM with idle
     * vCPUs this cuts the cost of a refused call several times (docs/sandbox.md).  Older
     * kernels say EINVAL; nothing else changes. */
    (void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
    n->fd = fd;
    n->prog = prog;
    return 0;
}

bool notify_active(const struct notify *n) {
    return n->fd >= 0;
}

static void count(struct notify *n, int nr) {
    n->total++;
    if (nr >= 0 && nr < NOTIFY_NR_SPACE) {
        n->by_nr[nr]++;
        return;
    }
    for (unsigned i = 0; i < n->n_other; i++)
        if (n->other[i].nr == nr) {
            n->other[i].count++;
            return;
        }
    if (n->n_other < NOTIFY_OTHER) {
        n->other[n->n_other].nr = nr;
        n->other[n->n_other++].count = 1;
    }
}

/* The errno the plain program gives this call. */
static int answer_errno(const struct notify *n, const struct seccomp_data *sd) {
    uint32_t verdict;
    if (ls_seccomp_program_eval(n->prog, sd, &verdict) < 0 ||
        (verdict & SECCOMP_RET_ACTION_FULL) != SECCOMP_RET_ERRNO)
        return EPERM; /* cannot happen (notify = plain with ERRNO -> USER_NOTIF): refuse */
    verdict &= SECCOMP_RET_DATA;
    return verdict > ERRNO_MAX ? ERRNO_MAX : (int)verdict; /* as the kernel caps it */
}

int notify_handle(struct notify *n) {
    struct seccomp_notif *req = n->req;
    struct seccomp_notif_resp *resp = n->resp;

    if (n->fd < 0)
        return 0;
    /* The buffer must be zeroed: the kernel refuses a dirty one (EINVAL). */
    memset(req, 0, n->req_size);
    if (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
        /* ENOENT: the call was interrupted (its process is dying) between the wake-up
         * and now; nothing to answer. */
        return errno == ENOENT || errno == EINTR ? 0 : -errno;
    memset(resp, 0, n->resp_size);
    resp->id = req->id;
    resp->error = -answer_errno(n, &req->data);
    resp->val = 0;
    resp->flags = 0; /* never SECCOMP_USER_NOTIF_FLAG_CONTINUE */
    count(n, req->data.nr);
    if (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT)
        return -errno; /* ENOENT: the process died before our answer */
    return 0;
}

void notify_stop(struct notify *n) {
    n->fd = safe_close(n->fd);
    free(n->req);
    free(n->resp);
    n->req = n->resp = NULL;
}

void notify_done(struct notify *n) {
    notify_stop(n);
    free(n->by_nr);
    n->by_nr = NULL;
}

struct entry {
    int nr;
    uint64_t count;
};

static int by_count(const void *a, const void *b) {
    const struct entry *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->nr < y->nr ? -1 : x->nr > y->nr;
}

void notify_fill_result(const struct notify *n, struct ls_denied_syscalls *ret) {
    struct entry top[LS_DENIED_MAX + 1];
    size_t k = 0;

    ret->total = n->total;
    ret->n = 0;
    /* Keep the LS_DENIED_MAX largest: insert each into a sorted array one larger. */
    for (int pass = 0; pass < 2; pass++) {
        size_t lim = pass == 0 ? (n->by_nr ? NOTIFY_NR_SPACE : 0) : n->n_other;
        for (size_t i = 0; i < lim; i++) {
            struct entry e = pass == 0 ? (struct entry){(int)i, n->by_nr[i]}
                                       : (struct entry){n->other[i].nr, n->other[i].count};
            if (e.count == 0)
                continue;
            top[k++] = e;
            qsort(top, k, sizeof(top[0]), by_count);
            if (k > LS_DENIED_MAX)
                k = LS_DENIED_MAX;
        }
    }
    for (size_t i = 0; i < k; i++) {
        struct ls_denied_syscall *d = &ret->by_syscall[ret->n++];
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, top[i].nr);
        if (name && strlen(name) < sizeof(d->name))
            ls_strlcpy(d->name, name, sizeof(d->name));
        else
            snprintf(d->name, sizeof(d->name), "syscall_%u", (unsigned)top[i].nr);
        free(name);
        d->count = top[i].count;
    }
}
