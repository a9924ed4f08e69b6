/*
 * Page-aligned buffers. Direct I/O needs the buffer's address aligned to the block size, and
 * Node's allocator gives large buffers an address 16 bytes past a page boundary, so without
 * this every chunk written would first be copied into an aligned bounce buffer.
 */
#include <stdlib.h>
#include "addon.h"

#define PAGE_ALIGN 4096

static void free_aligned(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

/* Arguments: (size: number); returns an ArrayBuffer of `size` bytes at a page-aligned address. */
napi_value aligned_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  double requested;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      napi_get_value_double(env, argv[0], &requested) != napi_ok || requested < 1 || requested > 1073741824.0 ||
      requested != (double)(size_t)requested) {
    return throw_error(env, "size must be an integer from 1 to 2^30");
  }
  size_t size = (size_t)requested;
  void *memory = NULL;
  if (posix_memalign(&memory, PAGE_ALIGN, size) != 0) return throw_error(env, "out of memory");
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, memory, size, free_aligned, NULL, &buffer) != napi_ok) {
    free(memory);
    return throw_error(env, "could not wrap the aligned memory");
  }
  return buffer;
}
