/**
 * Typed errors: every failure a user can cause or meet has a stable code, a message that says
 * what to do, and the HTTP status the API answers with.
 */
export class ChiralError extends Error {
  constructor (
    readonly code: string,
    message: string,
    readonly httpStatus = 400
  ) {
    super(message)
    this.name = new.target.name
  }
}

export class InvalidContentIdError extends ChiralError {
  constructor (input: string) {
    super('INVALID_CID', `not a valid content id: "${truncate(input)}" (expected a CIDv1 such as bafkrei...)`)
  }
}

export class FileMissingError extends ChiralError {
  constructor (path: string) {
    super('FILE_NOT_FOUND', `no such file: ${path}`, 404)
  }
}

export class NotAFileError extends ChiralError {
  constructor (path: string) {
    super('NOT_A_FILE', `${path} is a directory or special file; give a regular file`)
  }
}

export class FileChangedError extends ChiralError {
  constructor (path: string, when: string) {
    super('FILE_CHANGED', `${path} changed ${when}; add it again once it is complete`, 409)
  }
}

export class NoSeedersError extends ChiralError {
  constructor (cid: string, readonly peersAsked: number) {
    super('NO_SEEDERS', `no seeders found for ${cid} (asked ${peersAsked} peer${peersAsked === 1 ? '' : 's'})`, 404)
  }
}

export class DiskFullError extends ChiralError {
  constructor (path: string, detail: string) {
    super('DISK_FULL', `disk full writing ${path}: ${detail}`, 507)
  }
}

export class NotSeedingError extends ChiralError {
  constructor (cid: string) {
    super('NOT_SEEDING', `not seeding ${cid}`, 404)
  }
}

export class DownloadNotFoundError extends ChiralError {
  constructor (cid: string) {
    super('DOWNLOAD_NOT_FOUND', `no download of ${cid}`, 404)
  }
}

export class DownloadFailedError extends ChiralError {
  constructor (message: string) {
    super('DOWNLOAD_FAILED', message, 502)
  }
}

export class DaemonNotRunningError extends ChiralError {
  constructor (home: string, detail: string) {
    super('DAEMON_NOT_RUNNING', `the chiral daemon is not running for ${home} (${detail}); start it with: chiral daemon`, 503)
  }
}

export class InvalidInputError extends ChiralError {
  constructor (message: string) {
    super('INVALID_INPUT', message)
  }
}

export class ProtocolError extends ChiralError {
  constructor (message: string) {
    super('PROTOCOL_ERROR', message, 502)
  }
}

function truncate (text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

export function errorMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
