import type { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import { ChiralError, DaemonNotRunningError } from '../util/errors.js'
import type { PasswordPurpose } from '../wallet/password.js'
import { formatChi } from '../wallet/units.js'
import type { WalletService } from '../wallet/wallet-service.js'
import type { ApiClient } from './client.js'

const MNEMONIC_ENV = 'CHIRAL_WALLET_MNEMONIC'

interface WalletView { address: string | null, unlocked: boolean, balance: string, balanceChi: string }
interface MiningView { mining: boolean, threads: number, hashrate: number, coinbase: string, blocksMined: number }

/** The password (from the environment or a prompt), loaded only by the commands that need one. */
async function getPassword (purpose: PasswordPurpose): Promise<string> {
  const password = await import('../wallet/password.js')
  return await password.getPassword(purpose)
}

/** The keystore, loaded only by the commands that use it: it brings ethers, which API-only commands do without. */
async function localWallet (home: string): Promise<WalletService> {
  const { WalletService } = await import('../wallet/wallet-service.js')
  return new WalletService(home)
}

/** `chiral wallet ...` and `chiral mine ...`: through the daemon's API when it runs, else on the keystore. */
export function registerChainCommands (program: Command, home: () => string, client: () => ApiClient): void {
  const wallet = program.command('wallet').description('the node wallet (CHI)')

  wallet.command('new')
    .description('create a wallet; prints its recovery phrase once (password from CHIRAL_WALLET_PASSWORD or a prompt)')
    .option('--words <n>', '12 or 24 words', '12')
    .option('--force', 'replace an existing wallet (kept in keystore/replaced)')
    .action(async (options: { words: string, force?: boolean }) => {
      const words = Number(options.words)
      if (words !== 12 && words !== 24) throw new ChiralError('INVALID_INPUT', '--words must be 12 or 24')
      const password = await getPassword('create')
      const created = await viaDaemonOrLocal(client,
        async api => await api.request<{ address: string, mnemonic: string }>('POST', '/api/wallet', { password, words, force: options.force }),
        async () => await (await localWallet(home())).create({ password, words, force: options.force }))
      process.stdout.write(`address ${created.address}\n\nRecovery phrase (write it down; it is shown only this once):\n${created.mnemonic}\n`)
    })

  wallet.command('import')
    .description(`import a recovery phrase (from ${MNEMONIC_ENV}, --mnemonic-file, or stdin)`)
    .option('--mnemonic-file <path>', 'file holding the phrase')
    .option('--force', 'replace an existing wallet (kept in keystore/replaced)')
    .action(async (options: { mnemonicFile?: string, force?: boolean }) => {
      const mnemonic = await readMnemonic(options.mnemonicFile)
      const password = await getPassword('create')
      const imported = await viaDaemonOrLocal(client,
        async api => await api.request<{ address: string }>('POST', '/api/wallet', { password, mnemonic, force: options.force }),
        async () => await (await localWallet(home())).import({ mnemonic, password, force: options.force }))
      process.stdout.write(`imported ${imported.address}\n`)
    })

  wallet.command('address')
    .description('print the wallet address')
    .action(async () => {
      const keystore = await localWallet(home())
      process.stdout.write(`${await keystore.address()}\n`)
    })

  wallet.command('export-mnemonic')
    .description('print the recovery phrase (asks for the password)')
    .action(async () => {
      const password = await getPassword('unlock')
      const keystore = await localWallet(home())
      const { mnemonic } = await keystore.exportMnemonic(password)
      process.stdout.write(`${mnemonic}\n`)
    })

  wallet.command('balance')
    .description('balance of the wallet on the chain')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const view = await client().request<WalletView>('GET', '/api/wallet')
      if (options.json === true) process.stdout.write(JSON.stringify(view, null, 2) + '\n')
      else process.stdout.write(`${view.balanceChi} CHI (${view.balance} wei) at ${view.address ?? 'no wallet'}\n`)
    })

  wallet.command('send <to> <amount>')
    .description('send CHI (amount in CHI, e.g. 1.5) from the node wallet')
    .action(async (to: string, amount: string) => {
      const sent = await client().request<{ hash: string }>('POST', '/api/wallet/send', { to, amount })
      process.stdout.write(`sent ${amount} CHI to ${to}\n${sent.hash}\n`)
    })

  wallet.command('history')
    .description('transfers to and from the wallet, newest first')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const entries = await client().request<Array<{ hash: string, blockNumber: string, direction: string, from: string, to: string | null, value: string }>>('GET', '/api/wallet/history')
      if (options.json === true) {
        process.stdout.write(JSON.stringify(entries, null, 2) + '\n')
        return
      }
      if (entries.length === 0) process.stdout.write('no transfers yet\n')
      for (const entry of entries) {
        const other = entry.direction === 'in' ? `from ${entry.from}` : `to ${entry.to ?? '(contract creation)'}`
        process.stdout.write(`#${entry.blockNumber}  ${entry.direction.padEnd(4)} ${formatChi(BigInt(entry.value))} CHI ${other}  ${entry.hash}\n`)
      }
    })

  const mine = program.command('mine').description('Ethash mining on this node')
  const printMining = (view: MiningView): void => {
    process.stdout.write(`${view.mining ? 'mining' : 'not mining'} on ${view.threads} thread(s), ${view.hashrate} H/s, ${view.blocksMined} block(s) found, rewards to ${view.coinbase}\n`)
  }
  mine.command('start').description('start mining').option('--threads <n>', 'threads to mine on')
    .action(async (options: { threads?: string }) => {
      const threads = options.threads == null ? undefined : Number(options.threads)
      if (threads != null && (!Number.isInteger(threads) || threads < 1)) throw new ChiralError('INVALID_INPUT', '--threads must be a whole number of at least 1')
      printMining(await client().request<MiningView>('POST', '/api/mining/start', { threads }))
    })
  mine.command('stop').description('stop mining').action(async () => { printMining(await client().request<MiningView>('POST', '/api/mining/stop', {})) })
  mine.command('status').description('mining state').option('--json', 'print JSON').action(async (options: { json?: boolean }) => {
    const view = await client().request<MiningView>('GET', '/api/mining')
    if (options.json === true) process.stdout.write(JSON.stringify(view, null, 2) + '\n')
    else printMining(view)
  })
}

async function viaDaemonOrLocal<T> (client: () => ApiClient, remote: (api: ApiClient) => Promise<T>, local: () => Promise<T>): Promise<T> {
  let api: ApiClient
  try {
    api = client()
  } catch (err) {
    if (err instanceof DaemonNotRunningError) return await local()
    throw err
  }
  try {
    return await remote(api)
  } catch (err) {
    if (err instanceof DaemonNotRunningError) return await local()
    throw err
  }
}

async function readMnemonic (file?: string): Promise<string> {
  if (file != null) return (await readFile(file, 'utf8')).trim()
  const fromEnv = process.env[MNEMONIC_ENV]
  if (fromEnv != null && fromEnv.trim() !== '') return fromEnv.trim()
  if (process.stdin.isTTY === true) process.stderr.write('Recovery phrase: ')
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  const phrase = Buffer.concat(chunks).toString('utf8').trim()
  if (phrase === '') throw new ChiralError('INVALID_INPUT', `no recovery phrase given (use ${MNEMONIC_ENV}, --mnemonic-file or stdin)`)
  return phrase
}
