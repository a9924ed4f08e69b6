/** An error the node's API answered with: its HTTP status and stable error code. */
export class ApiError extends Error {
  constructor (readonly status: number, readonly code: string, message: string) {
    super(message)
    this.name = 'ApiError'
  }

  /** The route itself does not exist on this node (an older node, or a feature not yet there). */
  get routeMissing (): boolean {
    return this.status === 404 && this.code === 'NOT_FOUND'
  }
}

export type ApiMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE'

export async function apiRequest<T> (token: string, method: ApiMethod, path: string, body?: unknown): Promise<T> {
  let response: Response
  try {
    response = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
  } catch {
    throw new ApiError(0, 'NODE_UNREACHABLE', 'cannot reach the node: is the daemon still running?')
  }
  return await parseResponse<T>(response)
}

/** Streams a browser File to the node, which stores it under <home>/uploads and seeds it. */
export async function uploadFile<T> (token: string, file: File, pricePerMiB: string): Promise<T> {
  const query = new URLSearchParams({ name: file.name, pricePerMiB })
  const response = await fetch(`/api/files/upload?${query.toString()}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: file
  }).catch(() => { throw new ApiError(0, 'NODE_UNREACHABLE', 'cannot reach the node: is the daemon still running?') })
  return await parseResponse<T>(response)
}

async function parseResponse<T> (response: Response): Promise<T> {
  const text = await response.text()
  let parsed: unknown
  try { parsed = text === '' ? undefined : JSON.parse(text) } catch { parsed = undefined }
  if (!response.ok) {
    const error = parsed as { error?: string, message?: string } | undefined
    throw new ApiError(response.status, error?.error ?? 'HTTP_ERROR', error?.message ?? `the node answered HTTP ${response.status}`)
  }
  return parsed as T
}
