'use client'

import { useEffect, useRef, useState } from 'react'

/**
 * Keeps the last `limit` values of a polled number, one per new `at` timestamp, for the live
 * charts: the node reports current values only, so the history lives in the page.
 */
export function useSamples (value: number | undefined, at: number, limit = 60): number[] {
  const [samples, setSamples] = useState<number[]>([])
  const lastAt = useRef(0)
  useEffect(() => {
    if (value == null || at === lastAt.current) return
    lastAt.current = at
    setSamples(current => [...current, value].slice(-limit))
  }, [value, at, limit])
  return samples
}

/** Bytes per second between successive polls of a growing byte counter. */
export function useRates (total: number | undefined, at: number, limit = 60): number[] {
  const previous = useRef<{ total: number, at: number } | null>(null)
  const [rates, setRates] = useState<number[]>([])
  useEffect(() => {
    if (total == null || at === 0) return
    const last = previous.current
    previous.current = { total, at }
    if (last == null || at <= last.at) return
    const rate = Math.max(0, (total - last.total) / ((at - last.at) / 1000))
    setRates(current => [...current, rate].slice(-limit))
  }, [total, at, limit])
  return rates
}

/**
 * The daemon's history (GET /api/history) followed by the samples this page took since, so a
 * chart is drawn in full on load and then grows live; at most `limit` values, newest kept.
 */
export function withHistory (history: number[] | undefined, live: number[], limit = 720): number[] {
  if (history == null || history.length === 0) return live
  return [...history, ...live].slice(-limit)
}
