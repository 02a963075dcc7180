/*
 * runner.c - labstack-runner: runs one sandbox for the supervisor.
 *
 * The supervisor keeps a few runners started ahead of time (a warm pool of processes
 * that have already loaded and opened the sandbox host) and hands each one run:
 *
 *   fd 3: a SOCK_STREAM socketpair with the supervisor, speaking the protocol's frames:
 *     in:  RUNNER_SPEC (JSON, runspec.h; an fd for stdin rides on its first byte with
 *          SCM_RIGHTS when the run streams stdin), RUNNER_SECCOMP (the compiled
 *          program), and later CANCEL -- or nothing: the socket closing cancels too;
 *     out: STDOUT/STDERR chunks as they come, then RESULT (the result document) or
 *          ERROR when no sandbox could be started.
 *
 * Why a process per sandbox: ls_sandbox_run blocks and ties the sandbox's life to the
 * calling thread (PR_SET_PDEATHSIG), and clone() from a multi-threaded process would
 * leak fds across concurrent setups.  A single-threaded runner has none of those
 * problems, and the supervisor's event loop never waits for a setup.  When the
 * supervisor dies, the socket closes, the sandbox is cancelled and cleaned up by this
 * process, and it exits.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "labstack/error.h"
#include "labstack/macros.h"
#include "labstack/parse.h"
#include "labstack/protocol.h"
#include "labstack/result.h"
#include "labstack/sandbox.h"
#include "labstack/seccomp.h"
#include "log.h"
#include "runspec.h"

#define CTL_FD 3

static int stdin_fd = -EBADF;

/* Receive exactly len bytes, keeping an fd that arrives with SCM_RIGHTS as stdin.
 * Returns 0, -EPIPE at EOF, or -errno. */
static int recv_exact(void *buf, size_t len) {
    size_t got = 0;

    while (got < len) {
        union {
            struct cmsghdr h;
            char buf[CMSG_SPACE(sizeof(int))];
        } cbuf;
        struct iovec iov = {.iov_base = (char *)buf + got, .iov_len = len - got};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &cbuf,
                             .msg_controllen = sizeof(cbuf)};
        ssize_t n = recvmsg(CTL_FD, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EPIPE;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
                c->cmsg_len == CMSG_LEN(sizeof(int))) {
                int fd;
                memcpy(&fd, CMSG_DATA(c), sizeof(fd));
                if (stdin_fd >= 0)
                    close(fd);   /* only one is expected; never keep a second */
                else
                    stdin_fd = fd;
            }
        if (msg.msg_flags & MSG_CTRUNC)
            return -EPROTO;
        got += (size_t)n;
    }
    return 0;
}

/* Read one frame without reading past it (what follows -- a CANCEL, or the socket
 * closing -- must stay for the sandbox's watch loop to see). */
static int recv_frame(struct ls_frame_header *hdr, uint8_t **ret_payload, struct ls_error *err) {
    uint8_t raw[LS_FRAME_HEADER_SIZE];
    int r;

    if ((r = recv_exact(raw, sizeof(raw))) < 0)
        return ls_error_set(err, -r, "runner", "read frame header");
    if ((r = ls_frame_header_decode(raw, hdr, err)) < 0)
        return r;
    uint8_t *payload = malloc(hdr->length + 1);
    if (!payload)
        return ls_error_set(err, ENOMEM, "runner", "frame of %u bytes", hdr->length);
    if ((r = recv_exact(payload, hdr->length)) < 0) {
        free(payload);
        return ls_error_set(err, -r, "runner", "read frame payload");
    }
    payload[hdr->length] = 0;
    *ret_payload = payload;
    return 0;
}

static int send_frame(uint8_t type, const void *payload, size_t len) {
    uint8_t hdr[LS_FRAME_HEADER_SIZE];
    struct iovec iov[2] = {{.iov_base = hdr, .iov_len = sizeof(hdr)},
                           {.iov_base = (void *)payload, .iov_len = len}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};

    ls_frame_header_encode(hdr, type, (uint32_t)len);
    while (msg.msg_iovlen > 0) {
        ssize_t n = sendmsg(CTL_FD, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        while (n > 0 && msg.msg_iovlen > 0) {
            size_t take = (size_t)n < msg.msg_iov[0].iov_len ? (size_t)n : msg.msg_iov[0].iov_len;
            msg.msg_iov[0].iov_base = (char *)msg.msg_iov[0].iov_base + take;
            msg.msg_iov[0].iov_len -= take;
            n -= (ssize_t)take;
            if (msg.msg_iov[0].iov_len == 0) {
                msg.msg_iov++;
                msg.msg_iovlen--;
            }
        }
    }
    return 0;
}

/* ls_output_fn: forward output to the supervisor in data frames.  A failed send means
 * the supervisor is gone: cancel the run. */
static int forward_output(void *userdata, int stream, const char *buf, size_t len) {
    (void)userdata;
    while (len > 0) {
        size_t chunk = len < LS_PROTO_MAX_DATA ? len : LS_PROTO_MAX_DATA;
        if (send_frame(stream == 2 ? LS_FRAME_STDERR : LS_FRAME_STDOUT, buf, chunk) < 0)
            return -1;
        buf += chunk;
        len -= chunk;
    }
    return 0;
}

static void send_error(const char *message) {
    char *json = ls_proto_error_to_json(LS_PROTO_INTERNAL, message, 0);
    if (json)
        (void)send_frame(LS_FRAME_ERROR, json, strlen(json));
    free(json);
}

static int send_result(const struct ls_result *res) {
    _cleanup_free_ char *json = ls_result_to_json(res);
    if (!json)
        return -ENOMEM;
    return send_frame(LS_FRAME_RESULT, json, strlen(json));
}

static const struct option options[] = {
    {"idmap-base", required_argument, NULL, 'b'},
    {"idmap-count", required_argument, NULL, 'c'},
    {"log-level", required_argument, NULL, 'l'},
    {},
};

int main(int argc, char **argv) {
    struct ls_host_config host_cfg = {0};
    host_cfg.no_sweep = true;
    struct ls_sandbox_host *host = NULL;
    struct ls_seccomp_program *prog = NULL;
    struct runspec *rs = NULL;
    struct ls_frame_header hdr;
    struct ls_result res = {0};
    struct ls_error err = {0};
    struct stat st;
    uint64_t v;
    int c, r, rc = 1;

    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (ls_parse_uint(optarg, UINT32_MAX - 1, &v) < 0 || v == 0)
                goto usage;
            host_cfg.idmap.base = (uid_t)v;
            break;
        case 'c':
            if (ls_parse_uint(optarg, 1u << 24, &v) < 0 || v == 0)
                goto usage;
            host_cfg.idmap.count = (unsigned)v;
            break;
        case 'l':
            if (log_set_level_name(optarg) < 0)
                goto usage;
            break;
        default:
            goto usage;
        }
    }
    if (optind != argc)
        goto usage;
    if (fstat(CTL_FD, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        fprintf(stderr, "labstack-runner: fd 3 must be the supervisor's socket; this program is "
                        "started by labstack-supervisor\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    r = ls_sandbox_host_open(&host_cfg, &host, &err);
    if (r < 0) {
        log_msg(LOG_LEVEL_ERROR, "runner.failed", "open sandbox host: %s", err.msg);
        send_error(err.msg);
        return 1;
    }

    /* The spec, then the program.  A CANCEL (or EOF) before them: nothing to run. */
    for (;;) {
        uint8_t *payload = NULL;
        r = recv_frame(&hdr, &payload, &err);
        if (r == -EPIPE || (r < 0 && err.code == EPIPE)) {
            rc = 0;   /* the supervisor let an idle runner go */
            goto out;
        }
        if (r < 0) {
            log_msg(LOG_LEVEL_ERROR, "runner.failed", "%s", err.msg);
            send_error(err.msg);
            goto out;
        }
        if (hdr.type == LS_FRAME_RUNNER_SPEC && !rs) {
            r = runspec_from_json(payload, hdr.length, &rs, &err);
        } else if (hdr.type == LS_FRAME_RUNNER_SECCOMP && rs && !prog) {
            r = ls_seccomp_program_deserialize(payload, hdr.length, &prog, &err);
        } else if (hdr.type == LS_FRAME_CANCEL) {
            free(payload);
            res.reason = LS_REASON_CANCELLED;
            res.exit_code = -1;
            rc = send_result(&res) < 0;
            goto out;
        } else {
            r = ls_error_set(&err, EPROTO, "runner", "unexpected %s frame", ls_frame_type_name(hdr.type));
        }
        free(payload);
        if (r < 0) {
            log_msg(LOG_LEVEL_ERROR, "runner.failed", "%s", err.msg);
            send_error(err.msg);
            goto out;
        }
        if (rs && prog)
            break;
    }
    if (rs->stdin_stream && stdin_fd < 0) {
        send_error("runner: the spec streams stdin but no fd came with it");
        goto out;
    }

    rs->spec.seccomp = prog;
    rs->spec.stdin_fd = rs->stdin_stream ? stdin_fd : -1;
    rs->spec.on_output = forward_output;
    rs->spec.cancel_fd = CTL_FD;
    r = ls_sandbox_run(host, &rs->spec, &res, &err);
    if (r < 0 && res.reason == LS_REASON_NONE) {
        log_event(LOG_LEVEL_ERROR, "runner.failed",
                  json_pack("{s:s, s:s}", "id", rs->id, "msg", err.msg));
        send_error(err.msg);
        goto out;
    }
    if (r < 0)   /* a result, but the cgroup could not be removed: report both */
        log_event(LOG_LEVEL_WARN, "runner.cleanup_failed",
                  json_pack("{s:s, s:s}", "id", rs->id, "msg", err.msg));
    rc = send_result(&res) < 0;
out:
    stdin_fd = safe_close(stdin_fd);
    runspec_free(rs);
    ls_seccomp_program_free(prog);
    ls_sandbox_host_free(host);
    return rc;
usage:
    fprintf(stderr, "usage: labstack-runner [--idmap-base UID] [--idmap-count N] [--log-level L]\n"
                    "(started by labstack-supervisor with its socket on fd 3)\n");
    return 2;
}
