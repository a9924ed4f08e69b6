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

static void export_function(napi_env env, napi_value exports, const char *name, napi_callback callback) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

NAPI_MODULE_INIT() {
  export_function(env, exports, "sha256Step", sha256_step);
  export_function(env, exports, "sha256StepSync", sha256_step_sync);
  export_function(env, exports, "writeChunk", write_chunk);
  export_function(env, exports, "releaseFreeMemory", release_free_memory);
  return exports;
}
