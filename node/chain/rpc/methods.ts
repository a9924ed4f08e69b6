import { MethodNotFoundError, NotificationsUnsupportedError } from './errors.js'
import { method, type RpcContext, type RpcMethod } from './method.js'
import { chainMethods } from './methods-chain.js'
import { feeMethods } from './methods-fees.js'
import { nodeMethods } from './methods-node.js'
import { stateMethods } from './methods-state.js'
import { optional, string, subscriptionId, type Parser } from './params.js'

/**
 * Namespaces that control the node or hold keys. They are never served over RPC, whatever
 * is added to the table later: the node is steered through its own authenticated API.
 */
const PRIVILEGED_NAMESPACES = ['admin_', 'debug_', 'miner_', 'personal_', 'engine_']

/** Subscription options depend on the kind; the hub parses them. */
const any: Parser<unknown> = value => value

const subscriptionMethods: Record<string, RpcMethod> = {
  eth_subscribe: method([string, optional(any, undefined)], ({ subscriptions, subscriber }, kind, options) => {
    if (subscriber == null) throw new NotificationsUnsupportedError()
    return subscriptions.subscribe(subscriber, kind, options)
  }),
  eth_unsubscribe: method([subscriptionId], ({ subscriptions, subscriber }, id) => {
    if (subscriber == null) throw new NotificationsUnsupportedError()
    return subscriptions.unsubscribe(subscriber, id)
  })
}

const METHODS: ReadonlyMap<string, RpcMethod> = new Map(Object.entries({
  ...nodeMethods,
  ...chainMethods,
  ...stateMethods,
  ...feeMethods,
  ...subscriptionMethods
}))

for (const name of METHODS.keys()) {
  if (isPrivileged(name)) throw new Error(`RPC method ${name} is in a namespace that must never be served`)
}

function isPrivileged (name: string): boolean {
  return PRIVILEGED_NAMESPACES.some(prefix => name.startsWith(prefix))
}

export async function callMethod (context: RpcContext, name: string, params: unknown[]): Promise<unknown> {
  const found = isPrivileged(name) ? undefined : METHODS.get(name)
  if (found == null) throw new MethodNotFoundError(name)
  return await found.run(context, params)
}
