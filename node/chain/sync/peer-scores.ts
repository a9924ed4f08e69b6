/** Score lost for a block that fails validation; a peer at BAN_SCORE or below is banned. */
export const INVALID_BLOCK_PENALTY = 50
export const INVALID_TX_PENALTY = 2
export const PROTOCOL_VIOLATION_PENALTY = 25
const BAN_SCORE = -100
const BAN_DURATION_MS = 10 * 60 * 1000

/** Misbehaviour per peer; a banned peer is disconnected and refused for a while. */
export class PeerScores {
  private readonly scores = new Map<string, number>()
  private readonly bannedUntil = new Map<string, number>()

  constructor (private readonly onBan: (peer: string) => void) {}

  penalize (peer: string, points: number): void {
    const score = (this.scores.get(peer) ?? 0) - points
    this.scores.set(peer, score)
    if (score <= BAN_SCORE && !this.isBanned(peer)) {
      this.bannedUntil.set(peer, Date.now() + BAN_DURATION_MS)
      this.scores.delete(peer)
      this.onBan(peer)
    }
  }

  isBanned (peer: string): boolean {
    const until = this.bannedUntil.get(peer)
    if (until == null) return false
    if (until > Date.now()) return true
    this.bannedUntil.delete(peer)
    return false
  }

  score (peer: string): number {
    return this.scores.get(peer) ?? 0
  }
}
