/*
 * ChaCha20-Poly1305 (RFC 8439) for the libp2p noise channel, writing into a buffer the caller
 * chooses. Node's Cipher API returns a fresh buffer per message, and a transfer is ~16,000
 * noise messages of 64 KiB per GiB: that allocation, and the cipher object made per message,
 * were a third of the downloader's garbage. Here a message is opened where its bytes already
 * lie (the received buffer) and sealed straight into the buffer that goes out. OpenSSL's
 * implementation, the one Node links, does the work, synchronously: a message takes tens of
 * microseconds, less than a trip to the thread pool.
 */
#include <node_api.h>
#include <openssl/evp.h>
#include <stdint.h>
#include "addon.h"

#define KEY_BYTES 32
#define NONCE_BYTES 12
#define TAG_BYTES 16

typedef struct {
  const uint8_t *key;
  const uint8_t *nonce;
  const uint8_t *ad;
  size_t ad_length;
} AeadParams;

/* Reads exactly `expected` arguments into argv, the first three being key, nonce and ad; 0 after throwing. */
static int parse_params(napi_env env, napi_callback_info info, size_t expected, napi_value *argv, const char *usage, AeadParams *params) {
  size_t argc = expected;
  size_t length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != expected) {
    throw_error(env, usage);
    return 0;
  }
  if (!byte_view(env, argv[0], &params->key, &length) || length != KEY_BYTES) {
    throw_error(env, "key must be 32 bytes");
    return 0;
  }
  if (!byte_view(env, argv[1], &params->nonce, &length) || length != NONCE_BYTES) {
    throw_error(env, "nonce must be 12 bytes");
    return 0;
  }
  if (!byte_view(env, argv[2], &params->ad, &params->ad_length)) {
    throw_error(env, "ad must be a Uint8Array");
    return 0;
  }
  return 1;
}

static EVP_CIPHER_CTX *start(const AeadParams *params, int encrypt) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int outl;
  if (ctx == NULL ||
      EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), NULL, params->key, params->nonce, encrypt) != 1 ||
      (params->ad_length > 0 && EVP_CipherUpdate(ctx, NULL, &outl, params->ad, (int)params->ad_length) != 1)) {
    EVP_CIPHER_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

/*
 * Runs the started cipher over `pieces` (an array of Uint8Arrays, in order) into `out`, which they
 * must fill exactly. Returns 1 when done, 0 if the cipher failed, -1 after throwing `mismatch`
 * (or a type error) for pieces that do not fit.
 */
static int cipher_pieces(napi_env env, EVP_CIPHER_CTX *ctx, napi_value pieces, uint8_t *out, size_t length, const char *mismatch) {
  uint32_t count;
  if (napi_get_array_length(env, pieces, &count) != napi_ok) {
    throw_error(env, "pieces must be an array");
    return -1;
  }
  size_t written = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value piece_value;
    const uint8_t *piece;
    size_t piece_length;
    int outl;
    if (napi_get_element(env, pieces, i, &piece_value) != napi_ok || !byte_view(env, piece_value, &piece, &piece_length) || piece_length > length - written) {
      throw_error(env, mismatch);
      return -1;
    }
    if (EVP_CipherUpdate(ctx, out + written, &outl, piece, (int)piece_length) != 1) return 0;
    written += (size_t)outl;
  }
  if (written != length) {
    throw_error(env, mismatch);
    return -1;
  }
  return 1;
}

/*
 * Arguments: (key, nonce, ad, pieces: Uint8Array[], tag: Uint8Array(16), out: Uint8Array); the
 * pieces are the ciphertext in order, and `out` (their total length) may be the very memory they
 * lie in. Returns false, leaving `out` undefined, if the tag does not authenticate them.
 */
napi_value aead_open(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  AeadParams params;
  if (!parse_params(env, info, 6, argv, "expected (key, nonce, ad, pieces, tag, out)", &params)) return NULL;
  const uint8_t *tag, *out;
  size_t tag_length, length;
  if (!byte_view(env, argv[4], &tag, &tag_length) || tag_length != TAG_BYTES) return throw_error(env, "tag must be 16 bytes");
  if (!byte_view(env, argv[5], &out, &length) || length > INT32_MAX) return throw_error(env, "out must be a Uint8Array");
  EVP_CIPHER_CTX *ctx = start(&params, 0);
  if (ctx == NULL) return throw_error(env, "could not start ChaCha20-Poly1305");
  int done = cipher_pieces(env, ctx, argv[3], (uint8_t *)out, length, "pieces must be Uint8Arrays exactly as long as out in total");
  int final_length;
  int ok = done == 1 && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_BYTES, (void *)tag) == 1 &&
           EVP_DecryptFinal_ex(ctx, (uint8_t *)out + length, &final_length) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (done < 0) return NULL;
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

/*
 * Arguments: (key, nonce, ad, pieces: Uint8Array[], out); writes the ciphertext of the pieces (the
 * plaintext, in order) and then the 16-byte tag into `out`, 16 bytes longer than the pieces.
 */
napi_value aead_seal(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  AeadParams params;
  if (!parse_params(env, info, 5, argv, "expected (key, nonce, ad, pieces, out)", &params)) return NULL;
  const uint8_t *out;
  size_t out_length;
  if (!byte_view(env, argv[4], &out, &out_length) || out_length < TAG_BYTES || out_length > INT32_MAX) return throw_error(env, "out must be a Uint8Array of at least 16 bytes");
  size_t length = out_length - TAG_BYTES;
  EVP_CIPHER_CTX *ctx = start(&params, 1);
  if (ctx == NULL) return throw_error(env, "could not start ChaCha20-Poly1305");
  int done = cipher_pieces(env, ctx, argv[3], (uint8_t *)out, length, "pieces must be Uint8Arrays 16 bytes shorter in total than out");
  int final_length;
  int ok = done == 1 && EVP_EncryptFinal_ex(ctx, (uint8_t *)out + length, &final_length) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_BYTES, (uint8_t *)out + length) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (done < 0) return NULL;
  if (!ok) return throw_error(env, "ChaCha20-Poly1305 failed");
  return NULL;
}
