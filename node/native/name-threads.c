/*
 * Names the threads of libuv's pool "libuv-worker", as newer libuv does by itself (Node 20's does
 * not), so `top -H`, perf and /proc tell the pool's hashing, reads and writes apart from V8's
 * helper threads, which otherwise all share the process's name. Each of `size` jobs names its
 * thread and waits at a barrier for the others: no two can run on one thread, so every thread
 * of a pool of `size` is named once.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/prctl.h>
#include <uv.h>
#include "addon.h"

#define POOL_THREAD_NAME "libuv-worker"

typedef struct {
  uv_barrier_t barrier;
  unsigned int remaining;
} NamingRound;

typedef struct {
  NamingRound *round;
  napi_async_work work;
} NamingJob;

static void execute_naming(napi_env env, void *raw) {
  (void)env;
  NamingJob *job = raw;
  prctl(PR_SET_NAME, POOL_THREAD_NAME, 0, 0, 0);
  uv_barrier_wait(&job->round->barrier);
}

static void complete_naming(napi_env env, napi_status status, void *raw) {
  (void)status;
  NamingJob *job = raw;
  NamingRound *round = job->round;
  napi_delete_async_work(env, job->work);
  free(job);
  if (--round->remaining == 0) {
    uv_barrier_destroy(&round->barrier);
    free(round);
  }
}

napi_value name_pool_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  uint32_t size = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_uint32(env, argv[0], &size) != napi_ok || size == 0 || size > 1024) {
    return throw_error(env, "namePoolThreads(size): size must be the pool's thread count (1-1024)");
  }
  NamingRound *round = malloc(sizeof(NamingRound));
  if (round == NULL || uv_barrier_init(&round->barrier, size) != 0) {
    free(round);
    return throw_error(env, "namePoolThreads: out of memory");
  }
  round->remaining = size;
  napi_value resource_name;
  napi_create_string_utf8(env, "chiral:namePoolThreads", NAPI_AUTO_LENGTH, &resource_name);
  for (uint32_t index = 0; index < size; index++) {
    NamingJob *job = malloc(sizeof(NamingJob));
    if (job == NULL) abort(); /* the jobs already queued would wait at the barrier forever */
    job->round = round;
    napi_create_async_work(env, NULL, resource_name, execute_naming, complete_naming, job, &job->work);
    napi_queue_async_work(env, job->work);
  }
  return NULL;
}
