/**
 * JSON-RPC errors with the codes and texts Ethereum clients use, so wallets and libraries
 * (ethers, viem, web3) classify them as they would an answer from geth.
 */
export class RpcError extends Error {
  constructor (readonly code: number, message: string, readonly data?: unknown) {
    super(message)
    this.name = new.target.name
  }
}

/** The body is not JSON. */
export class ParseError extends RpcError {
  constructor (detail: string) {
    super(-32700, `parse error: ${detail}`)
  }
}

/** JSON, but not a JSON-RPC 2.0 request (or a batch or body over the limits). */
export class InvalidRequestError extends RpcError {
  constructor (message: string) {
    super(-32600, message)
  }
}

export class MethodNotFoundError extends RpcError {
  constructor (method: string) {
    super(-32601, `the method ${method} does not exist/is not available`)
  }
}

export class InvalidParamsError extends RpcError {
  constructor (message: string) {
    super(-32602, message)
  }
}

/** A failure of ours; details go to the log, not to the caller. */
export class InternalError extends RpcError {
  constructor () {
    super(-32603, 'internal error')
  }
}

/**
 * geth's catch-all server error: pool rejections ("nonce too low", ...), unknown blocks,
 * failed executions. Libraries match on the message text, so it is passed through unchanged.
 */
export class ServerError extends RpcError {
  constructor (message: string) {
    super(-32000, message)
  }
}

/** eth_subscribe over a transport that cannot push (HTTP). */
export class NotificationsUnsupportedError extends RpcError {
  constructor () {
    super(-32001, 'notifications not supported')
  }
}

/** A call or gas estimate that hit REVERT; `data` is the revert payload, as geth returns it. */
export class ExecutionRevertedError extends RpcError {
  constructor (reason: string | undefined, revertData: string) {
    super(3, reason == null ? 'execution reverted' : `execution reverted: ${reason}`, revertData)
  }
}
