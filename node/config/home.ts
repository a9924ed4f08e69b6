import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { DEFAULT_HOME_DIRNAME } from './constants.js'

/**
 * The data directory: `--home`, else `$CHIRAL_HOME`, else `~/.chiral`. Kept apart from config.ts
 * (whose schema library is ~250 modules) so that CLI commands that only talk to the daemon can
 * find it without loading the config.
 */
export function resolveHome (explicit?: string): string {
  return resolve(explicit ?? process.env.CHIRAL_HOME ?? join(homedir(), DEFAULT_HOME_DIRNAME))
}
