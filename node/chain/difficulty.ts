/**
 * The Chiral difficulty rule. The stock Byzantium rule moves by parent/2048 and only targets a
 * 9-18 s band, so at the difficulties CPU mining in JS reaches (hundreds to thousands) it never
 * moves. This proportional rule moves difficulty toward the value at which the last block would
 * have taken the target time, by at most 1/divisor up and 3/divisor down per block; the wider
 * downward bound keeps the clipped long tail of exponential block times from biasing the average
 * block time above the target (equilibrium within ~2% of it), and lets difficulty recover fast
 * when miners leave.
 */
export interface DifficultyRule {
  targetBlockTimeSeconds: number
  minimum: bigint
  adjustmentDivisor: bigint
}

const MAX_SLOWDOWN_FACTOR = 3n

export function nextDifficulty (parent: { difficulty: bigint, timestamp: bigint }, timestamp: bigint, rule: DifficultyRule): bigint {
  const target = BigInt(rule.targetBlockTimeSeconds)
  const elapsed = timestamp > parent.timestamp ? timestamp - parent.timestamp : 1n
  const step = parent.difficulty / rule.adjustmentDivisor
  let delta = (parent.difficulty * (target - elapsed)) / (target * rule.adjustmentDivisor)
  if (delta > step) delta = step
  if (delta < -step * MAX_SLOWDOWN_FACTOR) delta = -step * MAX_SLOWDOWN_FACTOR
  // At tiny difficulties the proportional step rounds to 0; still move by one so it can adjust.
  if (delta === 0n && elapsed !== target) delta = elapsed < target ? 1n : -1n
  const next = parent.difficulty + delta
  return next < rule.minimum ? rule.minimum : next
}
