import { createRequire } from 'node:module'

/**
 * The node's native addon (C sources beside this file, built into dist/ by
 * scripts/build-native.mjs). Async functions run on libuv's thread pool and keep their byte
 * arguments alive until they settle; callers must not change those bytes meanwhile.
 */
export interface NativeAddon {
  /**
   * One step of a SHA-256 carried across a file: starts from the state after the first `offset`
   * bytes (null at 0) and returns the state after `bytes`, or the file's SHA-256 when `last`.
   * A step that is not the last covers whole 64-byte blocks.
   */
  sha256Step: (state: Uint8Array | null, bytes: Uint8Array, offset: number, last: boolean) => Promise<Buffer>
  /**
   * Writes `bytes` at `position`: the block-aligned part through `directFd` (the same file opened
   * with O_DIRECT, or -1), the rest through `fd`; rejects with the errno's code (ENOSPC, ...).
   */
  writeChunk: (fd: number, directFd: number, bytes: Uint8Array, position: number) => Promise<void>
  /** malloc_trim(0): returns the heap's free pages to the kernel; true if any were. */
  releaseFreeMemory: () => boolean
  /** An ArrayBuffer of `size` bytes at a page-aligned address (direct I/O writes it without a copy). */
  alignedBuffer: (size: number) => ArrayBuffer
  /**
   * ChaCha20-Poly1305 (RFC 8439) decryption of the ciphertext `pieces` (in order) into `out`, of
   * their total length, which may be the memory they lie in; false if `tag` does not authenticate
   * them (`out` then holds garbage).
   */
  aeadOpen: (key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, pieces: Uint8Array[], tag: Uint8Array, out: Uint8Array) => boolean
  /** ChaCha20-Poly1305 encryption of the plaintext `pieces` (in order) into `out`: the ciphertext, then the 16-byte tag. */
  aeadSeal: (key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, pieces: Uint8Array[], out: Uint8Array) => void
  /** Names each of the `size` threads of libuv's pool "libuv-worker" (done at once, in the background). */
  namePoolThreads: (size: number) => void
}

export const native = createRequire(import.meta.url)('./chiral_native.node') as NativeAddon
