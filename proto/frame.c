/*
 * frame.c - the protocol's framing: 8-byte headers, whole-frame encoding and the
 * incremental reader that non-blocking sockets feed.
 *
 * Every byte here may come from an unprivileged or remote peer, so a header is
 * validated as soon as its 8 bytes are present: version, a type this version knows,
 * zero flags, and a length within the type's maximum.  A peer announcing a 1 GB frame
 * is refused on its header; nothing is allocated for the announced length.  The
 * reader's buffer grows with the bytes actually received and never holds more than
 * LS_FRAME_READER_MAX of them.
 */
#include "labstack/protocol.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "labstack/error.h"

/* What a type is called and what it carries; a zero name marks an unknown type. */
struct frame_type_info {
    const char *name;
    bool json;
};

static const struct frame_type_info frame_types[256] = {
    [LS_FRAME_RUN] = {"run", true},
    [LS_FRAME_STDIN] = {"stdin", false},
    [LS_FRAME_CANCEL] = {"cancel", true},
    [LS_FRAME_STATUS] = {"status", true},
    [LS_FRAME_QUEUED] = {"queued", true},
    [LS_FRAME_STARTED] = {"started", true},
    [LS_FRAME_STDOUT] = {"stdout", false},
    [LS_FRAME_STDERR] = {"stderr", false},
    [LS_FRAME_RESULT] = {"result", true},
    [LS_FRAME_ERROR] = {"error", true},
    [LS_FRAME_STATUS_REPLY] = {"status_reply", true},
    [LS_FRAME_RUNNER_SPEC] = {"runner_spec", true},
    [LS_FRAME_RUNNER_SECCOMP] = {"runner_seccomp", false},
};

bool ls_frame_type_known(uint8_t type) {
    return frame_types[type].name != NULL;
}

bool ls_frame_type_is_json(uint8_t type) {
    return frame_types[type].name && frame_types[type].json;
}

const char *ls_frame_type_name(uint8_t type) {
    return frame_types[type].name ? frame_types[type].name : "unknown";
}

uint32_t ls_frame_max_length(uint8_t type) {
    if (!ls_frame_type_known(type))
        return 0;
    if (type == LS_FRAME_RUNNER_SECCOMP)
        return LS_PROTO_MAX_PROGRAM;
    return ls_frame_type_is_json(type) ? LS_PROTO_MAX_JSON : LS_PROTO_MAX_DATA;
}

static void put_be16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void ls_frame_header_encode(uint8_t out[LS_FRAME_HEADER_SIZE], uint8_t type, uint32_t length) {
    out[0] = LS_PROTO_VERSION;
    out[1] = type;
    put_be16(out + 2, 0);
    put_be32(out + 4, length);
}

int ls_frame_header_decode(const uint8_t in[LS_FRAME_HEADER_SIZE], struct ls_frame_header *ret,
                           struct ls_error *err) {
    struct ls_frame_header h = {
        .version = in[0],
        .type = in[1],
        .flags = (uint16_t)((unsigned)in[2] << 8 | in[3]),
        .length = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | in[7],
    };

    if (h.version != LS_PROTO_VERSION) {
        ls_error_set(err, 0, "protocol", "unsupported protocol version %u (this side speaks %u)",
                     h.version, LS_PROTO_VERSION);
        return -EPROTO;
    }
    if (!ls_frame_type_known(h.type)) {
        ls_error_set(err, 0, "protocol", "unknown frame type 0x%02x", h.type);
        return -EPROTO;
    }
    if (h.flags != 0) {
        ls_error_set(err, 0, "protocol", "%s frame: flags 0x%04x set (must be 0 in version %u)",
                     ls_frame_type_name(h.type), h.flags, LS_PROTO_VERSION);
        return -EPROTO;
    }
    if (h.length > ls_frame_max_length(h.type)) {
        ls_error_set(err, 0, "protocol", "%s frame of %u bytes is over the limit of %u",
                     ls_frame_type_name(h.type), h.length, ls_frame_max_length(h.type));
        return -EMSGSIZE;
    }
    *ret = h;
    return 0;
}

uint8_t *ls_frame_encode(uint8_t type, const void *payload, size_t len, size_t *ret_size) {
    if (!ls_frame_type_known(type) || len > ls_frame_max_length(type)) {
        errno = EINVAL;
        return NULL;
    }
    uint8_t *buf = malloc(LS_FRAME_HEADER_SIZE + len);
    if (!buf)
        return NULL;
    ls_frame_header_encode(buf, type, (uint32_t)len);
    if (len)
        memcpy(buf + LS_FRAME_HEADER_SIZE, payload, len);
    *ret_size = LS_FRAME_HEADER_SIZE + len;
    return buf;
}

/* ---- the incremental reader ------------------------------------------------- *
 *
 * buf[0, consumed) was handed out (the payload pointer of the last frame may still
 * point into it, so it is kept until the next call); buf[consumed, len) is pending.
 * Compaction moves the pending bytes to the front only when they are no more than the
 * consumed bytes in front of them, so every byte is moved at most once per byte
 * consumed before it: amortised O(1) per byte.
 */

/* A buffer this large that has been drained is given back, so an idle connection
 * that once carried a big frame does not keep a megabyte. */
#define READER_KEEP_CAP (64u << 10)
#define READER_MIN_CAP 4096u

void ls_frame_reader_init(struct ls_frame_reader *r) {
    *r = (struct ls_frame_reader){0};
}

void ls_frame_reader_free(struct ls_frame_reader *r) {
    free(r->buf);
    ls_frame_reader_init(r);
}

int ls_frame_reader_feed(struct ls_frame_reader *r, const void *data, size_t len) {
    size_t pending = r->len - r->consumed;

    if (len == 0)
        return 0;
    if (len > LS_FRAME_READER_MAX - pending)
        return -ENOBUFS;
    if (pending == 0) {
        r->len = r->consumed = 0;
        if (r->cap > READER_KEEP_CAP && len <= READER_KEEP_CAP) {
            free(r->buf);
            r->buf = NULL;
            r->cap = 0;
        }
    } else if (r->consumed > 0 && (pending <= r->consumed || r->cap - r->len < len)) {
        memmove(r->buf, r->buf + r->consumed, pending);
        r->len = pending;
        r->consumed = 0;
    }
    if (r->cap - r->len < len) {
        size_t need = r->len + len, cap = r->cap ? r->cap : READER_MIN_CAP;
        while (cap < need)
            cap *= 2;
        if (cap > LS_FRAME_READER_MAX)
            cap = LS_FRAME_READER_MAX;
        uint8_t *nb = realloc(r->buf, cap);
        if (!nb)
            return -ENOMEM;
        r->buf = nb;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data, len);
    r->len += len;
    return 0;
}

int ls_frame_reader_next(struct ls_frame_reader *r, struct ls_frame_header *ret_hdr,
                         const uint8_t **ret_payload, struct ls_error *err) {
    size_t pending = r->len - r->consumed;
    struct ls_frame_header h;
    int ret;

    if (pending < LS_FRAME_HEADER_SIZE)
        return 0;
    /* The header is checked before its payload has arrived: a bad or oversized one
     * fails here, however many bytes it announces. */
    ret = ls_frame_header_decode(r->buf + r->consumed, &h, err);
    if (ret < 0)
        return ret;
    if (pending - LS_FRAME_HEADER_SIZE < h.length)
        return 0;
    *ret_hdr = h;
    *ret_payload = r->buf + r->consumed + LS_FRAME_HEADER_SIZE;
    r->consumed += LS_FRAME_HEADER_SIZE + h.length;
    return 1;
}
