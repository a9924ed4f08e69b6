/*
 * Writes a buffer into a file at a position in small pieces, on libuv's thread pool.
 *
 * The kernel sizes page-cache folios by the write, and on this kind of VM large folios come
 * from memory the host has reclaimed: 1 MiB writes cost ~2 s of system time per GiB against
 * ~0.4 s for 16 KiB ones, which reuse the small pages the network just freed (curl writes 16 KiB
 * at a time too). From JavaScript each piece would be a thread-pool round trip of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>
#include "addon.h"

typedef struct {
  int fd;
  const uint8_t *data;
  size_t length;
  uint64_t position;
  size_t piece;
  int error;
  napi_ref data_ref;
  napi_deferred deferred;
  napi_async_work work;
} WriteJob;

static void execute_write(napi_env env, void *raw) {
  (void)env;
  WriteJob *job = raw;
  size_t done = 0;
  while (done < job->length) {
    size_t want = job->length - done < job->piece ? job->length - done : job->piece;
    ssize_t wrote = pwrite(job->fd, job->data + done, want, (off_t)(job->position + done));
    if (wrote < 0) {
      if (errno == EINTR) continue;
      job->error = errno;
      return;
    }
    if (wrote == 0) {
      job->error = EIO;
      return;
    }
    done += (size_t)wrote;
  }
}

static void complete_write(napi_env env, napi_status status, void *raw) {
  WriteJob *job = raw;
  if (status == napi_ok && job->error == 0) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, job->deferred, undefined);
  } else {
    int uv_code = uv_translate_sys_error(job->error == 0 ? ECANCELED : job->error);
    napi_value code, message, error;
    napi_create_string_utf8(env, uv_err_name(uv_code), NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, uv_strerror(uv_code), NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, code, message, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_reference(env, job->data_ref);
  napi_delete_async_work(env, job->work);
  free(job);
}

/* Arguments: (fd: number, data: Uint8Array, position: number, pieceBytes: number); `data` must not change until it settles. */
napi_value write_pieces(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4) return throw_error(env, "expected (fd, data, position, pieceBytes)");
  int32_t fd;
  double position;
  uint32_t piece;
  const uint8_t *data;
  size_t length;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return throw_error(env, "fd must be a file descriptor");
  if (!byte_view(env, argv[1], &data, &length)) return throw_error(env, "data must be a Uint8Array");
  if (napi_get_value_double(env, argv[2], &position) != napi_ok || position < 0 || position > 9007199254740991.0 || position != (double)(uint64_t)position) {
    return throw_error(env, "position must be a non-negative integer");
  }
  if (napi_get_value_uint32(env, argv[3], &piece) != napi_ok || piece == 0) return throw_error(env, "pieceBytes must be a positive integer");
  WriteJob *job = calloc(1, sizeof(WriteJob));
  if (job == NULL) return throw_error(env, "out of memory");
  job->fd = fd;
  job->data = data;
  job->length = length;
  job->position = (uint64_t)position;
  job->piece = piece;
  napi_value promise, name;
  napi_create_reference(env, argv[1], 1, &job->data_ref);
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, "write-pieces", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute_write, complete_write, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;
}
