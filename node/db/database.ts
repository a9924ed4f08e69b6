import { ClassicLevel } from 'classic-level'
import type { AbstractSublevel } from 'abstract-level'
import { join } from 'node:path'
import { DATABASE_DIRNAME } from '../config/constants.js'
import { ChiralError } from '../util/errors.js'

type Root = ClassicLevel<string, unknown>
type Sublevel<V> = AbstractSublevel<Root, string | Buffer | Uint8Array, string, V>

/**
 * The node's state lives in one LevelDB. A write has reached the OS when it resolves, so a
 * kill -9 of the process loses nothing acknowledged. Sublevels keep each concern's keys apart.
 */
export class Database {
  readonly level: Root

  constructor (home: string) {
    this.level = new ClassicLevel(join(home, DATABASE_DIRNAME), { valueEncoding: 'json' })
  }

  async open (): Promise<void> {
    try {
      await this.level.open()
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message
      if (/lock/i.test(cause)) throw new ChiralError('HOME_IN_USE', `another chiral daemon is already using this data directory (${cause})`, 409)
      throw err
    }
  }

  table<V> (name: string, valueEncoding: 'json' | 'view' = 'json'): Table<V> {
    return new Table<V>(this.level.sublevel<string, V>(name, { valueEncoding }))
  }

  async close (): Promise<void> {
    await this.level.close()
  }
}

export class Table<V> {
  constructor (private readonly sublevel: Sublevel<V>) {}

  async get (key: string): Promise<V | undefined> {
    return await this.sublevel.get(key)
  }

  async put (key: string, value: V): Promise<void> {
    await this.sublevel.put(key, value)
  }

  async delete (key: string): Promise<void> {
    await this.sublevel.del(key)
  }

  async values (): Promise<V[]> {
    return await this.sublevel.values().all()
  }

  async valuesWithPrefix (prefix: string): Promise<V[]> {
    return await this.sublevel.values({ gte: prefix, lt: `${prefix}\xff` }).all()
  }

  async keysWithPrefix (prefix: string): Promise<string[]> {
    return await this.sublevel.keys({ gte: prefix, lt: `${prefix}\xff` }).all()
  }

  async deleteWithPrefix (prefix: string): Promise<void> {
    await this.sublevel.clear({ gte: prefix, lt: `${prefix}\xff` })
  }
}
