/*
 * protocol.h - the supervisor protocol: frames and the messages they carry.
 *
 * Shared by the supervisor, the client library and the supervisor's runners; pure
 * (no I/O, no privileges), linked as the `ls_proto` library.  docs/protocol.md is the
 * normative description; this header is its C form.
 *
 * A frame is an 8-byte header followed by `length` payload bytes:
 *
 *   byte 0     version (LS_PROTO_VERSION)
 *   byte 1     type (enum ls_frame_type)
 *   bytes 2-3  flags, big-endian; must be 0 in version 1
 *   bytes 4-7  payload length, big-endian
 *
 * JSON frames carry one UTF-8 JSON object (jansson), at most LS_PROTO_MAX_JSON bytes;
 * data frames carry raw bytes, at most LS_PROTO_MAX_DATA.  Anything else -- another
 * version, an unknown type, flags, a length over the type's maximum, a JSON payload
 * that is not an object or has unknown keys or a field of the wrong type -- is an
 * error that names what was wrong, and the receiver answers with an ERROR frame and
 * closes the connection.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "labstack/result.h"

struct ls_error;

#define LS_PROTO_VERSION      1
#define LS_FRAME_HEADER_SIZE  8
#define LS_PROTO_MAX_JSON     (1u << 20)   /* 1 MiB */
#define LS_PROTO_MAX_DATA     (1u << 16)   /* 64 KiB */
/* RUNNER_SECCOMP (internal): a serialised program holds up to four filters of at most
 * 4096 instructions of 8 bytes each, plus a header. */
#define LS_PROTO_MAX_PROGRAM  (1u << 18)   /* 256 KiB */

enum ls_frame_type {
    /* client -> supervisor */
    LS_FRAME_RUN      = 0x01, /* JSON: struct ls_run_request */
    LS_FRAME_STDIN    = 0x02, /* data: bytes for the command's stdin; empty = EOF */
    LS_FRAME_CANCEL   = 0x03, /* JSON {} : kill the sandbox now */
    LS_FRAME_STATUS   = 0x04, /* JSON {} : ask for LS_FRAME_STATUS_REPLY */

    /* supervisor -> client */
    LS_FRAME_QUEUED   = 0x80, /* JSON {"position": n}: waiting for a free slot */
    LS_FRAME_STARTED  = 0x81, /* JSON {"id": "...", "policy": "...", "policy_version": n,
                                 "policy_hash": "hex"} */
    LS_FRAME_STDOUT   = 0x82, /* data */
    LS_FRAME_STDERR   = 0x83, /* data */
    LS_FRAME_RESULT   = 0x84, /* JSON: the result document (result.h), plus "id" */
    LS_FRAME_ERROR    = 0x85, /* JSON: struct ls_proto_error */
    LS_FRAME_STATUS_REPLY = 0x86, /* JSON: supervisor status (docs/protocol.md) */

    /* supervisor <-> runner (internal, on a socketpair; never on a client socket) */
    LS_FRAME_RUNNER_SPEC    = 0x40, /* JSON: the resolved sandbox spec */
    LS_FRAME_RUNNER_SECCOMP = 0x41, /* data: the compiled seccomp program */
};

/* True for a type this version knows. */
bool ls_frame_type_known(uint8_t type);
/* True for the types whose payload is JSON. */
bool ls_frame_type_is_json(uint8_t type);
/* "run", "stdout", ...; "unknown" for others. */
const char *ls_frame_type_name(uint8_t type);
/* The largest payload a frame of this type may carry: LS_PROTO_MAX_JSON for JSON types,
 * LS_PROTO_MAX_DATA for data types (LS_PROTO_MAX_PROGRAM for RUNNER_SECCOMP), 0 for an
 * unknown type. */
uint32_t ls_frame_max_length(uint8_t type);

struct ls_frame_header {
    uint8_t version;
    uint8_t type;
    uint16_t flags;
    uint32_t length;
};

void ls_frame_header_encode(uint8_t out[LS_FRAME_HEADER_SIZE], uint8_t type, uint32_t length);

/* Decode and validate a header.  Returns 0, or -EPROTO (version, type, flags) or
 * -EMSGSIZE (length over the type's maximum) with err saying which. */
int ls_frame_header_decode(const uint8_t in[LS_FRAME_HEADER_SIZE], struct ls_frame_header *ret,
                           struct ls_error *err);

/*
 * An incremental frame reader for non-blocking sockets: append what read() returned,
 * then take complete frames off the front.  The buffer never holds more than one
 * frame's worth beyond the header (a header announcing a too-large frame fails at
 * once, before its payload is read).
 */
struct ls_frame_reader {
    uint8_t *buf;
    size_t len, cap;
    size_t consumed;   /* bytes of buf already handed out */
};

void ls_frame_reader_init(struct ls_frame_reader *r);
void ls_frame_reader_free(struct ls_frame_reader *r);
/* The most bytes a reader holds that were fed but not yet taken by
 * ls_frame_reader_next: one largest frame plus one generous read.  A caller that feeds
 * what each read() returned and drains with ls_frame_reader_next until it returns 0
 * never reaches it. */
#define LS_FRAME_READER_MAX (2 * (LS_FRAME_HEADER_SIZE + LS_PROTO_MAX_JSON))

/* Append bytes.  0 or -ENOMEM; -ENOBUFS when more than LS_FRAME_READER_MAX bytes would
 * be pending (the caller stopped taking frames off; nothing was appended). */
int ls_frame_reader_feed(struct ls_frame_reader *r, const void *data, size_t len);
/* Next complete frame: returns 1 and sets *ret_hdr and *ret_payload (valid until the
 * next feed/next call), 0 when more bytes are needed, or a negative errno from header
 * validation (err filled). */
int ls_frame_reader_next(struct ls_frame_reader *r, struct ls_frame_header *ret_hdr,
                         const uint8_t **ret_payload, struct ls_error *err);

/* ---- messages -------------------------------------------------------------- */

/* Bounds every parser below enforces (docs/protocol.md, "Limits"). */
#define LS_PROTO_MAX_ARGC     4096          /* argv entries */
#define LS_PROTO_MAX_ARG      (128u << 10)  /* one argv entry, one "NAME=value" */
#define LS_PROTO_MAX_ENV      1024          /* env entries */
#define LS_PROTO_MAX_PATH     4095          /* cwd, workspace path (PATH_MAX with its NUL) */
#define LS_PROTO_MAX_TEXT     128           /* task_id, label, sandbox ids */
#define LS_PROTO_MAX_POLICY_NAME 64
#define LS_PROTO_MAX_HASH     128           /* hex digits of a policy hash */

/* Limits a request asks for, in base units; 0 = the policy's default.  Requests may
 * only tighten (the supervisor refuses values over the policy's maximum). */
struct ls_request_limits {
    uint64_t memory_bytes;
    uint64_t cpu_millis;      /* thousandths of a CPU */
    uint64_t pids;
    uint64_t wall_time_ms;
    uint64_t cpu_time_ms;
    uint64_t output_bytes;    /* per stream */
    uint64_t tmp_bytes;
    uint64_t file_size_bytes;
    uint64_t open_files;
};

enum ls_stdin_mode {
    LS_STDIN_NONE = 0,        /* /dev/null */
    LS_STDIN_STREAM,          /* STDIN frames follow the RUN frame, an empty one ends it */
};

/* A run request (LS_FRAME_RUN).  JSON form:
 *   {"policy": "qa-default", "argv": ["make", "test"], "env": {"CI": "1"},
 *    "cwd": "/work", "limits": {"memory_bytes": 536870912, ...},
 *    "stdin": "none"|"stream", "workspace": {"path": "/abs/dir"},
 *    "task_id": "...", "label": "..."}
 * Only argv is required. */
struct ls_run_request {
    char *policy;             /* NULL: the supervisor's default policy */
    char **argv;              /* NULL-terminated, argc >= 1 */
    size_t argc;
    char **env;               /* "NAME=value", NULL-terminated; names are [A-Za-z_][A-Za-z0-9_]* */
    size_t n_env;
    char *cwd;                /* absolute path inside the sandbox; NULL: /work */
    char *workspace_path;     /* absolute host path (local clients only); NULL: none */
    char *task_id;            /* free text for the audit trail, <= 128 bytes, printable */
    char *label;              /* ditto */
    enum ls_stdin_mode stdin_mode;
    struct ls_request_limits limits;
};

/* Parse and validate a RUN payload.  0, or -EINVAL with err naming the field
 * ("argv[2]: expected a string"). */
int ls_run_request_parse(const void *json, size_t len, struct ls_run_request **ret,
                         struct ls_error *err);
/* Serialise (for clients); caller frees; NULL on ENOMEM. */
char *ls_run_request_to_json(const struct ls_run_request *req);
struct ls_run_request *ls_run_request_free(struct ls_run_request *req);

/* Error codes of LS_FRAME_ERROR. */
enum ls_proto_code {
    LS_PROTO_BAD_REQUEST = 1, /* malformed frame or message */
    LS_PROTO_UNSUPPORTED,     /* protocol version or frame type not supported */
    LS_PROTO_TOO_LARGE,       /* frame over the size limit */
    LS_PROTO_FORBIDDEN,       /* identity may not use the policy or the request's option */
    LS_PROTO_UNKNOWN_POLICY,
    LS_PROTO_LIMIT,           /* a limit above the policy's maximum, an env var not allowed */
    LS_PROTO_BUSY,            /* queue full; retry_after_ms says when to try again */
    LS_PROTO_SHUTTING_DOWN,
    LS_PROTO_INTERNAL,        /* the supervisor could not run the sandbox */
    LS_PROTO_CODE__MAX
};

struct ls_proto_error {
    enum ls_proto_code code;
    char message[256];
    uint64_t retry_after_ms;  /* BUSY only, else 0 */
};

/* "bad_request", "forbidden", ...; NULL for an unknown code. */
const char *ls_proto_code_name(enum ls_proto_code code);
/* JSON {"code": "busy", "message": "...", "retry_after_ms": 500}; caller frees. */
char *ls_proto_error_to_json(enum ls_proto_code code, const char *message, uint64_t retry_after_ms);
int ls_proto_error_parse(const void *json, size_t len, struct ls_proto_error *ret,
                         struct ls_error *err);

/* Encode a whole frame (header + payload) into a new buffer; caller frees.  NULL on
 * ENOMEM or when len is over the type's maximum. */
uint8_t *ls_frame_encode(uint8_t type, const void *payload, size_t len, size_t *ret_size);

/* ---- the other messages ------------------------------------------------------ *
 * Each parser takes one frame's payload, enforces the same rules as
 * ls_run_request_parse (a JSON object, no unknown keys, every field type- and
 * range-checked) and returns 0 or -EINVAL with err naming the field.  Each *_to_json
 * returns a compact document the caller frees, NULL on ENOMEM (errno EINVAL for
 * arguments that break the rules). */

/* A policy name: [A-Za-z0-9._-]{1,64}, not starting with '.'. */
bool ls_proto_policy_name_valid(const char *name);

/* CANCEL and STATUS: the empty object {}. */
int ls_proto_empty_parse(const void *json, size_t len, struct ls_error *err);

/* QUEUED: {"position": n}, n >= 1 (1 = next to start). */
char *ls_proto_queued_to_json(uint64_t position);
int ls_proto_queued_parse(const void *json, size_t len, uint64_t *ret_position,
                          struct ls_error *err);

/* STARTED: {"id": "...", "policy": "...", "policy_version": n, "policy_hash": "hex"}.
 * id: 1..LS_PROTO_MAX_TEXT printable ASCII; hash: 1..LS_PROTO_MAX_HASH lowercase hex. */
struct ls_proto_started {
    char id[LS_PROTO_MAX_TEXT + 1];
    char policy[LS_PROTO_MAX_POLICY_NAME + 1];
    uint64_t policy_version;
    char policy_hash[LS_PROTO_MAX_HASH + 1];
};
char *ls_proto_started_to_json(const struct ls_proto_started *s);
int ls_proto_started_parse(const void *json, size_t len, struct ls_proto_started *ret,
                           struct ls_error *err);

/* RESULT: {"id": "...", "policy": "...", "result": {the result.h document}}.  id and
 * policy follow the STARTED rules; the result is read with ls_result_from_json. */
struct ls_proto_result {
    char id[LS_PROTO_MAX_TEXT + 1];
    char policy[LS_PROTO_MAX_POLICY_NAME + 1];
    struct ls_result result;
};
char *ls_proto_result_to_json(const char *id, const char *policy, const struct ls_result *res);
int ls_proto_result_parse(const void *json, size_t len, struct ls_proto_result *ret,
                          struct ls_error *err);

/* STATUS_REPLY is a document that grows with the supervisor (docs/protocol.md lists its
 * fields); readers take what they know and ignore the rest.  This checks only that it
 * is one JSON object. */
int ls_proto_status_reply_check(const void *json, size_t len, struct ls_error *err);
