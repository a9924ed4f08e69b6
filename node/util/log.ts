import { pino, type Logger } from 'pino'

export type { Logger }

export function createLogger (level: string, destination?: string): Logger {
  return pino({ level, base: undefined }, destination == null ? pino.destination(2) : pino.destination({ dest: destination, mkdir: true, sync: false }))
}

export const silentLogger: Logger = pino({ level: 'silent' })
