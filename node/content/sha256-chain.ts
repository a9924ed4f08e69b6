import { native } from '../native/index.js'

/** Steps that are not the last must cover whole SHA-256 blocks: chunk sizes are multiples of this. */
export const SHA256_BLOCK_BYTES = 64

/** SHA-256 carried across a file chunk by chunk; see NativeAddon.sha256Step. */
export const sha256Step = native.sha256Step
