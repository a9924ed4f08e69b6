import type { Common } from '@ethereumjs/common'
import { Account, bigIntToBytes, bytesToHex, createAddressFromString, hexToBytes, setLengthLeft, type PrefixedHexString } from '@ethereumjs/util'
import { createVM } from '@ethereumjs/vm'

export interface PredeployedAccount {
  address: PrefixedHexString
  balance: string
  code: PrefixedHexString
  storage: Record<PrefixedHexString, PrefixedHexString>
}

/**
 * Runs a contract's creation code on an empty state of `common`'s chain, as `creator`'s first
 * transaction would, and returns the account it leaves: runtime code with its immutables and the
 * storage its constructor wrote. Placed in genesis at that address, the contract behaves exactly
 * as if it had been deployed there on this chain.
 */
export async function predeployContract (common: Common, creator: PrefixedHexString, creationCode: PrefixedHexString): Promise<PredeployedAccount> {
  const vm = await createVM({ common: common.copy() })
  const caller = createAddressFromString(creator)
  await vm.stateManager.putAccount(caller, new Account())
  // The state trie keeps only hashed slot keys, so the slots the constructor writes are taken from
  // its SSTOREs; their final values are read back below.
  const writtenSlots = new Set<bigint>()
  vm.evm.events?.on('step', (step: { opcode: { name: string }, stack: bigint[] }, resolve?: () => void) => {
    if (step.opcode.name === 'SSTORE') writtenSlots.add(step.stack[step.stack.length - 1] ?? 0n)
    resolve?.()
  })
  const result = await vm.evm.runCall({ caller, origin: caller, data: hexToBytes(creationCode), gasLimit: 30_000_000n })
  if (result.execResult.exceptionError !== undefined) {
    throw new Error(`contract creation failed: ${result.execResult.exceptionError.error}`)
  }
  const address = result.createdAddress
  if (address === undefined) throw new Error('contract creation returned no address')
  const storage: Record<PrefixedHexString, PrefixedHexString> = {}
  for (const slot of writtenSlots) {
    const key = setLengthLeft(bigIntToBytes(slot), 32)
    const value = await vm.stateManager.getStorage(address, key)
    if (value.length > 0) storage[bytesToHex(key)] = bytesToHex(setLengthLeft(value, 32))
  }
  return {
    address: address.toString(),
    balance: '0',
    code: bytesToHex(await vm.stateManager.getCode(address)),
    storage
  }
}
