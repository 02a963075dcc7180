/*
 * status_cmd.c - `labstack status [--json]`: ask the supervisor how it is.
 *
 * The STATUS_REPLY document grows with the supervisor (docs/protocol.md), so this
 * prints the fields it knows when they are present and ignores the rest.  Some of its
 * strings come from other users (a sandbox's argv0, a client name): they are printed
 * with control characters replaced, so no one can write escape sequences to the
 * terminal of whoever runs `labstack status`.
 */
#include "status_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "client_opts.h"
#include "labstack/client.h"
#include "labstack/error.h"
#include "labstack/macros.h"

static const char usage_text[] =
    "Usage: labstack status [OPTIONS]\n"
    "\n"
    "Show whether labstack-supervisor is ready, the sandboxes it is running and its queue.\n"
    "\n"
    "Options:\n" CLIENT_OPTS_HELP
    "  --json                 print the supervisor's status document as it came\n"
    "  --help                 show this help\n"
    "\n"
    "Exit status: 0 ready; 1 the supervisor answered but is not ready; 125 it could not be\n"
    "asked (not running, refused, a protocol error); 2 a usage error.\n";

enum {
    OPT_JSON = 0x100,
    OPT_HELP,
};

static const struct option options[] = {
    CLIENT_LONG_OPTIONS,
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {0},
};

/* s with control characters (C0, DEL, UTF-8 encoded C1) as '?', at most max bytes
 * ("..." when cut).  Returns buf. */
static const char *clean(const char *s, char *buf, size_t size, size_t max) {
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    if (max + 1 > size)
        max = size - 1;
    for (; *p && o < max; p++) {
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            buf[o++] = '?';
            p++;
        } else if (*p < 0x20 || *p == 0x7f) {
            buf[o++] = '?';
        } else {
            buf[o++] = (char)*p;
        }
    }
    if (*p && max >= 3) {
        o = max - 3;
        /* Do not end inside a UTF-8 character. */
        while (o > 0 && ((unsigned char)buf[o] & 0xc0) == 0x80)
            o--;
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

/* "3d 04h", "2h 03m", "5m 10s", "42s", "0.8s". */
static const char *duration(uint64_t ms, char *buf, size_t size) {
    uint64_t s = ms / 1000;
    if (s >= 86400)
        snprintf(buf, size, "%llud %02lluh", (unsigned long long)(s / 86400),
                 (unsigned long long)(s % 86400 / 3600));
    else if (s >= 3600)
        snprintf(buf, size, "%lluh %02llum", (unsigned long long)(s / 3600),
                 (unsigned long long)(s % 3600 / 60));
    else if (s >= 60)
        snprintf(buf, size, "%llum %02llus", (unsigned long long)(s / 60),
                 (unsigned long long)(s % 60));
    else if (s >= 10)
        snprintf(buf, size, "%llus", (unsigned long long)s);
    else
        snprintf(buf, size, "%llu.%llus", (unsigned long long)s,
                 (unsigned long long)(ms % 1000 / 100));
    return buf;
}

static bool get_uint(json_t *o, const char *key, uint64_t *ret) {
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *ret = (uint64_t)json_integer_value(v);
    return true;
}

static const char *get_str(json_t *o, const char *key) {
    return json_string_value(json_object_get(o, key));
}

/* "N of M", "N" or NULL. */
static const char *count_of(json_t *o, const char *key, const char *max_key, char *buf,
                            size_t size) {
    uint64_t n, m;
    if (!get_uint(o, key, &n))
        return NULL;
    if (get_uint(o, max_key, &m))
        snprintf(buf, size, "%llu of %llu", (unsigned long long)n, (unsigned long long)m);
    else
        snprintf(buf, size, "%llu", (unsigned long long)n);
    return buf;
}

/* One cell of the table: padded, except the last column, which ends the line. */
static void print_cell(FILE *f, size_t column, size_t width, const char *text) {
    if (column < 4)
        fprintf(f, "%-*s  ", (int)width, text);
    else
        fprintf(f, "%s\n", text);
}

static void print_sandboxes(FILE *f, json_t *list) {
    static const char *const heads[] = {"ID", "POLICY", "CLIENT", "RUNNING", "COMMAND"};
    size_t n = json_array_size(list), width[5];
    char cell[5][128];

    if (n == 0) {
        fputs("sandboxes: none running\n", f);
        return;
    }
    for (size_t c = 0; c < 5; c++)
        width[c] = strlen(heads[c]);
    /* Two passes: widths, then rows. */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            fputc('\n', f);
            for (size_t c = 0; c < 5; c++)
                print_cell(f, c, width[c], heads[c]);
        }
        for (size_t i = 0; i < n; i++) {
            json_t *sb = json_array_get(list, i);
            uint64_t ms;
            const char *v;
            if (!json_is_object(sb))
                continue;
            clean((v = get_str(sb, "id")) ? v : "-", cell[0], sizeof(cell[0]), 40);
            clean((v = get_str(sb, "policy")) ? v : "-", cell[1], sizeof(cell[1]), 32);
            clean((v = get_str(sb, "client")) ? v : "-", cell[2], sizeof(cell[2]), 40);
            if (get_uint(sb, "running_ms", &ms))
                duration(ms, cell[3], sizeof(cell[3]));
            else
                strcpy(cell[3], "-");
            clean((v = get_str(sb, "argv0")) ? v : "-", cell[4], sizeof(cell[4]), 60);
            for (size_t c = 0; c < 5; c++) {
                if (pass == 0 && strlen(cell[c]) > width[c])
                    width[c] = strlen(cell[c]);
                if (pass == 1)
                    print_cell(f, c, width[c], cell[c]);
            }
        }
    }
}

int status_cmd_print(FILE *f, const char *doc) {
    json_t *o = json_loads(doc, 0, NULL);
    char buf[128], num[64];
    const char *v;
    uint64_t u;
    json_t *ready, *list;
    int ret = 0;

    if (!json_is_object(o)) {
        json_decref(o);
        return -EINVAL;
    }
    /* Line 1: who, how long, and whether it is ready. */
    fputs("labstack-supervisor", f);
    if ((v = get_str(o, "version")))
        fprintf(f, " %s", clean(v, buf, sizeof(buf), 40));
    if (get_uint(o, "protocol", &u))
        fprintf(f, ", protocol %llu", (unsigned long long)u);
    if (get_uint(o, "uptime_s", &u)) {
        fprintf(f, ", up %s", duration(u * 1000, num, sizeof(num)));
    }
    ready = json_object_get(o, "ready");
    if (json_is_boolean(ready)) {
        fprintf(f, ": %s", json_is_true(ready) ? "ready" : "NOT READY");
        if (!json_is_true(ready) && (v = get_str(o, "not_ready_reason")))
            fprintf(f, " (%s)", clean(v, buf, sizeof(buf), 100));
        ret = json_is_true(ready) ? 0 : 1;
    }
    fputc('\n', f);

    if ((v = count_of(o, "running", "max_concurrent", num, sizeof(num))))
        fprintf(f, "running:   %s\n", v);
    if ((v = count_of(o, "queued", "queue_max", num, sizeof(num))))
        fprintf(f, "queued:    %s\n", v);
    list = json_object_get(o, "policies");
    if (json_is_array(list)) {
        bool first = true;
        fputs("policies: ", f);
        for (size_t i = 0; i < json_array_size(list); i++) {
            const char *name = json_string_value(json_array_get(list, i));
            if (name) {
                fprintf(f, "%s%s", first ? " " : ", ", clean(name, buf, sizeof(buf), 64));
                first = false;
            }
        }
        fputs(first ? " none\n" : "\n", f);
    }
    list = json_object_get(o, "sandboxes");
    if (json_is_array(list))
        print_sandboxes(f, list);
    json_decref(o);
    return ret;
}

int status_cmd_main(int argc, char **argv) {
    struct ls_client_opts opts = {0};
    struct ls_error err = {0};
    struct ls_client *c = NULL;
    _cleanup_free_ char *doc = NULL;
    bool json = false;
    int ch, r;

    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "+:", options, NULL)) != -1) {
        const char *flag = argv[optind - 1];
        if (client_opts_set(&opts, ch, optarg))
            continue;
        switch (ch) {
        case OPT_JSON:
            json = true;
            break;
        case OPT_HELP:
            fputs(usage_text, stdout);
            return 0;
        case ':':
            fprintf(stderr, "labstack status: %s needs an argument\n", flag);
            return 2;
        default:
            fprintf(stderr, "labstack status: unknown option %s\n", flag);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "labstack status: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if (client_opts_check(&opts, &err) < 0) {
        fprintf(stderr, "labstack status: %s\n", err.msg);
        return 2;
    }
    r = ls_client_connect(&opts, &c, &err);
    if (r >= 0)
        r = ls_client_status(c, &doc, &err);
    ls_client_free(c);
    if (r < 0) {
        fprintf(stderr, "labstack: %s\n", err.msg);
        return 125;
    }
    if (json) {
        json_t *o = json_loads(doc, 0, NULL);
        json_t *ready = json_object_get(o, "ready");
        printf("%s\n", doc);
        r = json_is_false(ready) ? 1 : 0;
        json_decref(o);
        return r;
    }
    r = status_cmd_print(stdout, doc);
    if (r < 0) {
        fprintf(stderr, "labstack: the status reply is not a JSON object\n");
        return 125;
    }
    return r;
}
