#ifndef CHIRAL_ADDON_H
#define CHIRAL_ADDON_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

napi_value sha256_step(napi_env env, napi_callback_info info);
napi_value sha256_step_sync(napi_env env, napi_callback_info info);
napi_value write_chunk(napi_env env, napi_callback_info info);
napi_value release_free_memory(napi_env env, napi_callback_info info);

/* Shared argument helpers (addon.c). */
napi_value throw_error(napi_env env, const char *message);
int byte_view(napi_env env, napi_value value, const uint8_t **data, size_t *length);

#endif
