#ifndef CHIRAL_ADDON_H
#define CHIRAL_ADDON_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

napi_value sha256_step(napi_env env, napi_callback_info info);
napi_value write_chunk(napi_env env, napi_callback_info info);
napi_value release_free_memory(napi_env env, napi_callback_info info);
napi_value aligned_buffer(napi_env env, napi_callback_info info);
napi_value aead_open(napi_env env, napi_callback_info info);
napi_value aead_seal(napi_env env, napi_callback_info info);
napi_value name_pool_threads(napi_env env, napi_callback_info info);

/* Shared helpers (addon.c). */
napi_value throw_error(napi_env env, const char *message);
int byte_view(napi_env env, napi_value value, const uint8_t **data, size_t *length);

/* Work on libuv's thread pool that keeps its input bytes alive until its promise settles. */
typedef struct {
  napi_ref data_ref;
  napi_deferred deferred;
  napi_async_work work;
} PendingWork;

napi_value queue_work(napi_env env, PendingWork *pending, napi_value data, const char *name,
                      napi_async_execute_callback execute, napi_async_complete_callback complete, void *job);
void release_work(napi_env env, PendingWork *pending);

#endif
