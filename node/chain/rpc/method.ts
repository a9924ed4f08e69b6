import type { Logger } from '../../util/log.js'
import type { RpcBackend } from './backend.js'
import type { ExecutionBudget } from './execution.js'
import { InvalidParamsError } from './errors.js'
import type { Parser } from './params.js'
import type { SubscriptionHub, Subscriber } from './subscriptions.js'

/** What a method runs with; `subscriber` is set only on connections that can be pushed to. */
export interface RpcContext {
  backend: RpcBackend
  log: Logger
  clientVersion: string
  subscriptions: SubscriptionHub
  subscriber?: Subscriber
  /** EVM time left for this request body (a batch shares it); each call gets a fresh one without. */
  executionBudget?: ExecutionBudget
}

type Parsed<P extends readonly Parser<unknown>[]> = { [K in keyof P]: P[K] extends Parser<infer T> ? T : never }

export interface RpcMethod {
  run: (context: RpcContext, params: unknown[]) => Promise<unknown>
}

/** A method with its positional parameters: too many, or any that fail to parse, are -32602. */
export function method<const P extends readonly Parser<unknown>[]> (parsers: P, handler: (context: RpcContext, ...args: Parsed<P>) => unknown): RpcMethod {
  return {
    async run (context, params) {
      if (params.length > parsers.length) throw new InvalidParamsError(`too many arguments, want at most ${parsers.length}`)
      const args = parsers.map((parse, i) => parse(params[i], `${i}`)) as Parsed<P>
      return await handler(context, ...args)
    }
  }
}
