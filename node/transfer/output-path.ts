import { link, lstat, rename, stat, unlink } from 'node:fs/promises'
import { InvalidInputError } from '../util/errors.js'

/** Next to the output while a download runs; renamed (or linked) into place once every chunk has checked. */
export const PARTIAL_SUFFIX = '.chiral-part'
/** A file system's name limit (255 bytes), less room for the partial file's suffix. */
export const MAX_NAME_BYTES = 255 - Buffer.byteLength(PARTIAL_SUFFIX)
/** An extension longer than this is part of the name (it is not kept whole when a name is cut). */
const MAX_EXTENSION_BYTES = 16

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g
/** Control characters (C0, DEL, C1) and the bidirectional controls that make a name read as another. */
const UNSAFE_CHARACTERS = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu

/**
 * A name from the network never chooses a directory nor hides what it is: only its last path
 * component (after `/` or `\`), without control or bidirectional-control characters, trimmed,
 * never `.`, `..` or empty (then `fallback`), at most MAX_NAME_BYTES of UTF-8 (cut before its
 * extension, on a character boundary).
 */
export function safeFileName (name: string, fallback: string): string {
  const component = name.replace(LONE_SURROGATE, '\uFFFD').split(/[/\\]/).pop() ?? ''
  const cleaned = truncateName(component.replace(UNSAFE_CHARACTERS, '').trim(), MAX_NAME_BYTES).trim()
  return cleaned === '' || /^\.+$/.test(cleaned) ? fallback : cleaned
}

/** `notes.txt` -> `notes (1).txt`: the number goes before the extension, within MAX_NAME_BYTES. */
export function numberedName (name: string, number: number): string {
  const { stem, extension } = splitExtension(name)
  const suffix = ` (${number})${extension}`
  return truncateBytes(stem, MAX_NAME_BYTES - Buffer.byteLength(suffix)) + suffix
}

function truncateName (name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name
  const { stem, extension } = splitExtension(name)
  return truncateBytes(stem, maxBytes - Buffer.byteLength(extension)) + extension
}

function splitExtension (name: string): { stem: string, extension: string } {
  const dot = name.lastIndexOf('.')
  if (dot <= 0 || Buffer.byteLength(name.slice(dot)) > MAX_EXTENSION_BYTES) return { stem: name, extension: '' }
  return { stem: name.slice(0, dot), extension: name.slice(dot) }
}

function truncateBytes (text: string, maxBytes: number): string {
  let bytes = 0
  let out = ''
  for (const character of text) {
    bytes += Buffer.byteLength(character)
    if (bytes > maxBytes) break
    out += character
  }
  return out
}

/** Whether anything (a file, a directory, a dangling link) has this name. */
export async function pathExists (path: string): Promise<boolean> {
  return await lstat(path).then(() => true, (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return false
    throw err
  })
}

/**
 * A path the user named as the output: a directory to download into, a new file, or (only with
 * `overwrite`) an existing regular file. Anything else is refused before the download starts.
 */
export async function refuseExistingOutput (path: string, overwrite: boolean): Promise<void> {
  if (!await pathExists(path)) return
  const info = await stat(path).catch(() => undefined)
  if (info?.isDirectory() === true) return
  if (info != null && !info.isFile()) throw new InvalidInputError(`${path} is not a regular file or a directory; give a new file name or a directory`)
  if (!overwrite) throw new OutputExistsError(path)
}

export class OutputExistsError extends InvalidInputError {
  constructor (path: string, detail = '') {
    super(`${path} already exists${detail}; not replacing it without --force (API: "overwrite": true), or give a directory to download into`)
  }
}

/**
 * Moves a finished partial file to `output`. Without `overwrite` it never replaces anything:
 * a hard link fails if the name is taken (checked and made in one step), then the partial
 * name goes; a file system without hard links gets a check and a rename. Resolves false if
 * `output` is taken (the partial file is left as it was).
 */
export async function placeFile (partial: string, output: string, overwrite: boolean): Promise<boolean> {
  if (overwrite) {
    await rename(partial, output)
    return true
  }
  try {
    await link(partial, output)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS' && code !== 'EMLINK' && code !== 'EXDEV') throw err
    if (await pathExists(output)) return false
    await rename(partial, output)
    return true
  }
  await unlink(partial)
  return true
}
