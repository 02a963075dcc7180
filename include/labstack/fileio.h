/*
 * fileio.h - reading and replacing whole files, the careful way.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Read the regular file at path (at most max bytes) into a NUL-terminated buffer the
 * caller frees.  0, or -errno: -EFBIG when larger than max, -EISDIR for a directory,
 * -EINVAL for anything else that is not a regular file (a FIFO never blocks us). */
int ls_read_file(const char *path, size_t max, char **ret, size_t *ret_len);

/* write() all of buf, retrying on EINTR and short writes.  0 or -errno. */
int ls_write_all(int fd, const void *buf, size_t len);

/* Replace path with data atomically: a temp file in the same directory, fchmod(mode),
 * fsync, rename -- a reader sees the old content or the new one, never half.  The temp
 * file is removed on failure.  0 or -errno. */
int ls_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
