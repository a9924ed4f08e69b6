/*
 * Hands freed heap memory back to the kernel. A transfer frees many short-lived 64 KiB network
 * buffers; glibc keeps the freed space in its arenas, where it counts as the process's memory
 * until it is reused, which after a download may be never. malloc_trim(0) returns the free pages
 * inside the arenas too (madvise), not just the top of the heap.
 */
#include <malloc.h>
#include "addon.h"

napi_value release_free_memory(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value released;
  napi_get_boolean(env, malloc_trim(0) == 1, &released);
  return released;
}
