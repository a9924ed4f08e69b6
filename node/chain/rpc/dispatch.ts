import { errorMessage } from '../../util/errors.js'
import { InternalError, InvalidParamsError, InvalidRequestError, ParseError, RpcError } from './errors.js'
import { executionBudget } from './execution.js'
import type { RpcContext } from './method.js'
import { callMethod } from './methods.js'

/** geth's default: larger batches are refused as a whole. */
const MAX_BATCH_SIZE = 100

type RequestId = string | number | null

export interface JsonRpcResponse {
  jsonrpc: '2.0'
  id: RequestId
  result?: unknown
  error?: { code: number, message: string, data?: unknown }
}

/**
 * Answers one request body, single or batch, independent of the transport. Undefined when
 * nothing is to be sent back (only notifications, which JSON-RPC 2.0 does not answer).
 */
export async function handleBody (context: RpcContext, body: string): Promise<JsonRpcResponse | JsonRpcResponse[] | undefined> {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch (err) {
    return errorResponse(null, new ParseError(errorMessage(err)))
  }
  if (!Array.isArray(parsed)) return await handleRequest(context, parsed)
  if (parsed.length === 0) return errorResponse(null, new InvalidRequestError('empty batch'))
  if (parsed.length > MAX_BATCH_SIZE) return errorResponse(null, new InvalidRequestError(`batch too large: ${parsed.length} requests, at most ${MAX_BATCH_SIZE}`))
  const responses: JsonRpcResponse[] = []
  // One EVM time budget for the whole batch, so that a batch of calls takes no more than one.
  context = { ...context, executionBudget: executionBudget() }
  // In order, so that transactions of one sender sent in one batch reach the pool in nonce order.
  for (const request of parsed) {
    const response = await handleRequest(context, request)
    if (response != null) responses.push(response)
  }
  return responses.length === 0 ? undefined : responses
}

async function handleRequest (context: RpcContext, request: unknown): Promise<JsonRpcResponse | undefined> {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return errorResponse(null, new InvalidRequestError('invalid request: expected an object'))
  const { jsonrpc, method, params, id } = request as Record<string, unknown>
  if (!isRequestId(id)) return errorResponse(null, new InvalidRequestError('invalid request: id must be a string, a number or null'))
  const responseId = id ?? null
  if (jsonrpc !== '2.0') return errorResponse(responseId, new InvalidRequestError('invalid request: jsonrpc must be "2.0"'))
  if (typeof method !== 'string') return errorResponse(responseId, new InvalidRequestError('invalid request: method must be a string'))
  const isNotification = !('id' in request)
  try {
    if (params !== undefined && !Array.isArray(params)) throw new InvalidParamsError('non-array args')
    const result = await callMethod(context, method, params ?? [])
    return isNotification ? undefined : { jsonrpc: '2.0', id: responseId, result: result ?? null }
  } catch (err) {
    if (!(err instanceof RpcError)) context.log.warn({ method, err: errorMessage(err) }, 'RPC method failed')
    return isNotification ? undefined : errorResponse(responseId, err instanceof RpcError ? err : new InternalError())
  }
}

function isRequestId (id: unknown): id is RequestId | undefined {
  return id === undefined || id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))
}

export function errorResponse (id: RequestId, error: RpcError): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: { code: error.code, message: error.message, ...(error.data === undefined ? {} : { data: error.data }) } }
}
