import type { BatchDBOp, DB, DBObject, EncodingOpts } from '@ethereumjs/util'
import type { AbstractSublevel } from 'abstract-level'
import type { ClassicLevel } from 'classic-level'

type Key = Uint8Array | string | number
type Value = Uint8Array | string | DBObject
type Store = AbstractSublevel<ClassicLevel<string, unknown>, string | Buffer | Uint8Array, Key, Value>

/** Maps the encodings the ethereumjs libraries ask for onto LevelDB's. */
function encodings (opts: EncodingOpts = {}): { keyEncoding: 'view' | 'utf8', valueEncoding: 'view' | 'utf8' | 'json' } {
  return {
    keyEncoding: opts.keyEncoding === 'view' ? 'view' : 'utf8',
    valueEncoding: opts.valueEncoding === 'string' ? 'utf8' : opts.valueEncoding === 'json' ? 'json' : 'view'
  }
}

function normalizeKey (key: Key): Uint8Array | string {
  return typeof key === 'number' ? String(key) : key
}

/**
 * The ethereumjs `DB` interface on a sublevel of the node's LevelDB, so blocks and state share
 * the node's one database. LevelDB returns undefined for missing keys, which is what `DB` wants.
 */
export class LevelChainDB implements DB<Key, Value> {
  constructor (private readonly store: Store) {}

  /** A database on the sublevel `name`; encodings are chosen per call, as the libraries ask. */
  static onSublevel (level: ClassicLevel<string, unknown>, name: string): LevelChainDB {
    return new LevelChainDB(level.sublevel<Key, Value>(name, { keyEncoding: 'utf8', valueEncoding: 'view' }))
  }

  /** The same database typed for the libraries that declare narrower key and value types. */
  as<K extends Key, V extends Value> (): DB<K, V> {
    return this as unknown as DB<K, V>
  }

  async get (key: Key, opts?: EncodingOpts): Promise<Value | undefined> {
    const value = await this.store.get(normalizeKey(key), encodings(opts))
    return value ?? undefined
  }

  async put (key: Key, value: Value, opts?: EncodingOpts): Promise<void> {
    await this.store.put(normalizeKey(key), value, encodings(opts))
  }

  async del (key: Key, opts?: EncodingOpts): Promise<void> {
    await this.store.del(normalizeKey(key), encodings(opts))
  }

  async batch (operations: Array<BatchDBOp<Key, Value>>): Promise<void> {
    await this.store.batch(operations.map(op => op.type === 'put'
      ? { type: 'put' as const, key: normalizeKey(op.key), value: op.value, ...encodings(op.opts) }
      : { type: 'del' as const, key: normalizeKey(op.key), ...encodings(op.opts) }))
  }

  shallowCopy (): DB<Key, Value> {
    return new LevelChainDB(this.store)
  }

  async open (): Promise<void> {
    await this.store.open()
  }
}
