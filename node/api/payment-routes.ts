import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { parseContentId } from '../content/cid.js'
import type { ChiralNode } from '../daemon/chiral-node.js'
import { PaymentsUnavailableError } from '../payments/errors.js'
import { largestAgreeingGroup } from '../transfer/downloads.js'
import { NoSeedersError } from '../util/errors.js'
import { parseWei } from '../util/units.js'
import { ErrorBody } from './schemas.js'

const errors = { 400: Type.Ref(ErrorBody), 401: Type.Ref(ErrorBody), 404: Type.Ref(ErrorBody) }
const QuoteBody = Type.Object({
  cid: Type.String({ minLength: 1, maxLength: 128 }),
  maxPricePerMiB: Type.Optional(Type.String({ pattern: '^[0-9]{1,78}$' }))
}, { additionalProperties: false })

/** Quotes, earnings, claims and refunds: the payment side of the local API. */
export function registerPaymentRoutes (app: FastifyInstance, node: ChiralNode, prefix: string): void {
  app.post<{ Body: { cid: string, maxPricePerMiB?: string } }>(`${prefix}/downloads/quote`, {
    schema: { summary: 'Seeders of a file with their prices, and the most the download can cost', body: QuoteBody, response: errors }
  }, async request => {
    const { text: cid } = parseContentId(request.body.cid)
    const maxPrice = request.body.maxPricePerMiB == null ? undefined : parseWei(request.body.maxPricePerMiB, 'maxPricePerMiB')
    const { seeders, peersAsked } = await node.discovery.findSeeders(cid)
    const sameFile = largestAgreeingGroup(seeders)
    const [first] = sameFile
    if (first === undefined) throw new NoSeedersError(cid, peersAsked)
    return { cid, name: first.name, ...node.payments.leecher.quote(sameFile, first.size, maxPrice) }
  })

  app.get(`${prefix}/earnings`, {
    schema: {
      summary: 'Earnings as a seeder: pending, confirming (claimed, not yet final) and redeemed (final), per file and per peer, with claims and their status'
    }
  }, async () => {
    const view = await node.payments.ledger.view(node.chainService.chain.head.header.number)
    const files = await Promise.all(view.files.map(async file => ({ ...file, name: (await node.store.get(file.cid))?.name ?? file.cid })))
    return { ...view, files }
  })

  app.post(`${prefix}/earnings/claim`, { schema: { summary: 'Redeem every held receipt now' } }, async () => {
    requireEscrow(node)
    const claim = await node.payments.redeemer.redeem(true)
    return { txHashes: claim == null ? [] : [claim.txHash], claim: claim ?? null }
  })

  app.get(`${prefix}/escrows`, { schema: { summary: 'Escrows this node opened as a leecher' } }, async () => {
    return await node.payments.leecher.ownEscrows()
  })

  app.get(`${prefix}/payments/traffic`, { schema: { summary: 'Bytes this node sent and received on payment streams as a leecher' } }, async () => {
    return node.payments.leecher.traffic
  })

  app.post(`${prefix}/escrows/refund`, { schema: { summary: 'Take back what is left in expired escrows' } }, async () => {
    requireEscrow(node)
    return { refunds: await node.payments.leecher.refundExpired() }
  })
}

/** Claims and refunds send transactions: they need an unlocked wallet and an escrow contract. */
function requireEscrow (node: ChiralNode): void {
  if (node.payments.escrow() == null) throw new PaymentsUnavailableError()
}
