import { hexlify, verifyTypedData, type Signer, type TypedDataDomain } from 'ethers'
import type { ContentId } from '../content/cid.js'
import { RECEIPT_TYPES, type ReceiptMessage } from './receipt-typed-data.js'

export interface SignedReceipt {
  message: ReceiptMessage
  signature: string
}

/** The receipt's content id field: the file's SHA-256, the digest inside its CIDv1. */
export function receiptContentId (content: ContentId): string {
  return hexlify(content.digest)
}

export async function signReceipt (leecher: Signer, domain: TypedDataDomain, message: ReceiptMessage): Promise<SignedReceipt> {
  return { message, signature: await leecher.signTypedData(domain, RECEIPT_TYPES, message) }
}

/** The address that signed the receipt for this domain (chain and escrow contract). */
export function receiptSigner (domain: TypedDataDomain, receipt: SignedReceipt): string {
  return verifyTypedData(domain, RECEIPT_TYPES, receipt.message, receipt.signature)
}
