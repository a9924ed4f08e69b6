/*
 * SHA-256 over a file one chunk at a time, carrying the hash state from chunk to chunk.
 *
 * Node's crypto cannot start a hash from a given state, yet that is what lets a downloader
 * check a chunk that arrives out of order (from the state the manifest gives for the chunk
 * before it) and, in the same pass, check the whole file against its content id: the last
 * chunk's state is the file's SHA-256. The compression function is OpenSSL's, the copy Node
 * itself links and exports, so SHA-NI is used where the CPU has it.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <node_api.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "addon.h"

#define STATE_BYTES 32
#define BLOCK_BYTES 64

typedef struct {
  uint8_t state[STATE_BYTES];
  int from_start;
  const uint8_t *data;
  size_t length;
  uint64_t offset;
  int last;
  uint8_t result[STATE_BYTES];
} Step;

typedef struct {
  Step step;
  PendingWork pending;
} AsyncStep;

static uint32_t read_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void write_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void run_step(Step *step) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  if (!step->from_start) {
    for (int i = 0; i < 8; i++) ctx.h[i] = read_be32(step->state + 4 * i);
    uint64_t bits = step->offset * 8;
    ctx.Nl = (SHA_LONG)bits;
    ctx.Nh = (SHA_LONG)(bits >> 32);
  }
  SHA256_Update(&ctx, step->data, step->length);
  if (step->last) {
    SHA256_Final(step->result, &ctx);
  } else {
    for (int i = 0; i < 8; i++) write_be32(step->result + 4 * i, ctx.h[i]);
  }
}

/*
 * Arguments: (state: Uint8Array(32) | null, data: Uint8Array, offset: number, last: boolean).
 * `state` is the hash state after the first `offset` bytes (null at offset 0); a step that is
 * not the last must cover whole 64-byte blocks, so its result is again a state.
 */
static int parse_step(napi_env env, napi_callback_info info, Step *step, napi_value *data_value) {
  size_t argc = 4;
  napi_value argv[4];
  napi_valuetype type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4) return throw_error(env, "expected (state, data, offset, last)"), 0;
  napi_typeof(env, argv[0], &type);
  step->from_start = type == napi_null;
  if (!step->from_start) {
    const uint8_t *state;
    size_t state_length;
    if (!byte_view(env, argv[0], &state, &state_length) || state_length != STATE_BYTES) return throw_error(env, "state must be 32 bytes or null"), 0;
    memcpy(step->state, state, STATE_BYTES);
  }
  if (!byte_view(env, argv[1], &step->data, &step->length)) return throw_error(env, "data must be a Uint8Array"), 0;
  double offset;
  if (napi_get_value_double(env, argv[2], &offset) != napi_ok || offset < 0 || offset > 9007199254740991.0 || offset != (double)(uint64_t)offset) {
    return throw_error(env, "offset must be a non-negative integer"), 0;
  }
  step->offset = (uint64_t)offset;
  bool last;
  if (napi_get_value_bool(env, argv[3], &last) != napi_ok) return throw_error(env, "last must be a boolean"), 0;
  step->last = last;
  if (step->offset % BLOCK_BYTES != 0) return throw_error(env, "offset must be a multiple of 64"), 0;
  if (step->from_start != (step->offset == 0)) return throw_error(env, "state must be null exactly at offset 0"), 0;
  if (!step->last && step->length % BLOCK_BYTES != 0) return throw_error(env, "a step before the last must cover whole 64-byte blocks"), 0;
  *data_value = argv[1];
  return 1;
}

static napi_value result_buffer(napi_env env, const uint8_t *result) {
  napi_value buffer;
  void *copy;
  napi_create_buffer_copy(env, STATE_BYTES, result, &copy, &buffer);
  return buffer;
}

static void execute_async(napi_env env, void *raw) {
  (void)env;
  run_step(&((AsyncStep *)raw)->step);
}

static void complete_async(napi_env env, napi_status status, void *raw) {
  AsyncStep *job = raw;
  if (status == napi_ok) {
    napi_resolve_deferred(env, job->pending.deferred, result_buffer(env, job->step.result));
  } else {
    napi_value message, error;
    napi_create_string_utf8(env, "sha256 step cancelled", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, job->pending.deferred, error);
  }
  release_work(env, &job->pending);
  free(job);
}

/* The step runs on libuv's thread pool; `data` is kept alive and must not change until it settles. */
napi_value sha256_step(napi_env env, napi_callback_info info) {
  AsyncStep *job = calloc(1, sizeof(AsyncStep));
  if (job == NULL) return throw_error(env, "out of memory");
  napi_value data_value;
  if (!parse_step(env, info, &job->step, &data_value)) {
    free(job);
    return NULL;
  }
  return queue_work(env, &job->pending, data_value, "sha256-chain", execute_async, complete_async, job);
}
