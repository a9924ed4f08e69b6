import type { ReactNode } from 'react'

export interface Series {
  label: string
  values: number[]
  /** A CSS color (variables work), so the chart follows the theme. */
  color: string
}

const WIDTH = 600
const HEIGHT = 160

/**
 * A dependency-free SVG line chart for live samples (newest on the right). Charting libraries
 * would cost more than the whole page's budget; this needs only polylines.
 */
export function LineChart ({ title, series, format, empty }: { title: string, series: Series[], format: (value: number) => string, empty: string }): ReactNode {
  const length = Math.max(0, ...series.map(s => s.values.length))
  if (length < 2) return <p className="muted chart-empty">{empty}</p>
  const max = Math.max(1, ...series.flatMap(s => s.values))
  const point = (value: number, index: number, count: number): string => {
    const x = count <= 1 ? WIDTH : (index / (count - 1)) * WIDTH
    const y = HEIGHT - (value / max) * (HEIGHT - 8)
    return `${x.toFixed(1)},${y.toFixed(1)}`
  }
  const latest = series.map(s => `${s.label} ${format(s.values[s.values.length - 1] ?? 0)}`).join(', ')
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={`${title}: latest ${latest}; peak ${format(max)}`}>
        <line x1="0" y1={HEIGHT - 0.5} x2={WIDTH} y2={HEIGHT - 0.5} className="chart-axis" />
        {series.map(s => (
          <polyline key={s.label} fill="none" stroke={s.color} strokeWidth="2" vectorEffect="non-scaling-stroke" points={s.values.map((v, i) => point(v, i, s.values.length)).join(' ')} />
        ))}
      </svg>
      <figcaption className="chart-legend">
        {series.map(s => (
          <span key={s.label}><span className="swatch" style={{ background: s.color }} aria-hidden="true" />{s.label}: {format(s.values[s.values.length - 1] ?? 0)}</span>
        ))}
        <span className="muted">peak {format(max)}</span>
      </figcaption>
    </figure>
  )
}
