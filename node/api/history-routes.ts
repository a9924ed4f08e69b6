import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { ChiralNode } from '../daemon/chiral-node.js'
import { ErrorBody } from './schemas.js'

const errors = { 401: Type.Ref(ErrorBody) }

export const HistorySample = Type.Object({
  at: Type.Integer({ description: 'end of the sampled interval, ms since the epoch' }),
  upload: Type.Integer({ description: 'bytes per second served to peers over the interval' }),
  download: Type.Integer({ description: 'bytes per second received from peers over the interval' }),
  hashrate: Type.Integer({ description: "this node's miner, hashes per second" })
})

export const History = Type.Object({
  intervalMs: Type.Integer({ description: 'time between samples' }),
  capacity: Type.Integer({ description: 'the most samples kept; older ones are dropped' }),
  samples: Type.Array(HistorySample, { description: 'oldest first' })
})

/** The recent bandwidth and hashrate the daemon keeps, so the dashboard's charts start full. */
export function registerHistoryRoutes (app: FastifyInstance, node: ChiralNode, prefix: string): void {
  app.get(`${prefix}/history`, {
    schema: { summary: 'Recent upload, download and hashrate samples (the last hour at the default interval)', response: { 200: History, ...errors } }
  }, async () => ({ intervalMs: node.history.intervalMs, capacity: node.history.ring.capacity, samples: node.history.list() }))
}
