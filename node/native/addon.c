/* The node's native helpers: the few hot loops Node's own APIs cannot express cheaply. */
#include "addon.h"

napi_value throw_error(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

int byte_view(napi_env env, napi_value value, const uint8_t **data, size_t *length) {
  napi_typedarray_type type;
  void *base;
  size_t count;
  if (napi_get_typedarray_info(env, value, &type, &count, &base, NULL, NULL) != napi_ok || type != napi_uint8_array) return 0;
  *data = base;
  *length = count;
  return 1;
}

napi_value queue_work(napi_env env, PendingWork *pending, napi_value data, const char *name,
                      napi_async_execute_callback execute, napi_async_complete_callback complete, void *job) {
  napi_value promise, resource_name;
  napi_create_reference(env, data, 1, &pending->data_ref);
  napi_create_promise(env, &pending->deferred, &promise);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name);
  napi_create_async_work(env, NULL, resource_name, execute, complete, job, &pending->work);
  napi_queue_async_work(env, pending->work);
  return promise;
}

void release_work(napi_env env, PendingWork *pending) {
  napi_delete_reference(env, pending->data_ref);
  napi_delete_async_work(env, pending->work);
}

static void export_function(napi_env env, napi_value exports, const char *name, napi_callback callback) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

NAPI_MODULE_INIT() {
  export_function(env, exports, "sha256Step", sha256_step);
  export_function(env, exports, "writeChunk", write_chunk);
  export_function(env, exports, "releaseFreeMemory", release_free_memory);
  export_function(env, exports, "alignedBuffer", aligned_buffer);
  export_function(env, exports, "aeadOpen", aead_open);
  export_function(env, exports, "aeadSeal", aead_seal);
  export_function(env, exports, "namePoolThreads", name_pool_threads);
  return exports;
}
