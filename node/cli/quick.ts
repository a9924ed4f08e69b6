/**
 * `chiral [--home <dir>] ls|status|peers|earnings [--json]`, the commands run most often to look at
 * a daemon, run from here without the argument parser (commander) and the definitions of every
 * other command, which are a fifth of their run time. Only these exact forms are handled here:
 * any other arguments, help included, go through program.ts, so usage errors and help read as
 * they always did.
 */
import { resolveHome } from '../config/home.js'
import { listFiles, showPeers, showStatus, type JsonOption } from './api-commands.js'
import { ApiClient } from './client.js'
import { exitWithError } from './exit.js'
import { showEarnings } from './payment-commands.js'

type Show = (api: ApiClient, options: JsonOption) => Promise<void>

const QUICK_COMMANDS = new Map<string, Show>([['ls', listFiles], ['status', showStatus], ['peers', showPeers], ['earnings', showEarnings]])

/** The command `argv` (the arguments after the script) asks for, if it is one of these in its plain form. */
export function quickCommand (argv: string[]): { home?: string, show: Show, options: JsonOption } | undefined {
  let rest = argv
  let home: string | undefined
  if (rest[0] === '--home') {
    home = rest[1]
    if (home == null || home.startsWith('-')) return undefined
    rest = rest.slice(2)
  }
  const [name, ...flags] = rest
  const show = name == null ? undefined : QUICK_COMMANDS.get(name)
  if (show == null || flags.some(flag => flag !== '--json') || flags.length > 1) return undefined
  return { home, show, options: flags.length === 1 ? { json: true } : {} }
}

/** Runs the quick command `argv` asks for and returns true, or returns false if it asks for anything else. */
export async function runQuick (argv: string[]): Promise<boolean> {
  const command = quickCommand(argv)
  if (command == null) return false
  try {
    await command.show(new ApiClient(resolveHome(command.home)), command.options)
  } catch (err) {
    exitWithError(err)
  }
  return true
}
