import type { ReactNode } from 'react'
import { ApiError } from '@/lib/api'

export function PageHeader ({ title, children }: { title: string, children?: ReactNode }): ReactNode {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children}
    </header>
  )
}

export function Card ({ title, actions, children, className }: { title?: string, actions?: ReactNode, children: ReactNode, className?: string }): ReactNode {
  return (
    <section className={`card ${className ?? ''}`} aria-label={title}>
      {(title != null || actions != null) && (
        <div className="card-head">
          {title != null && <h2>{title}</h2>}
          {actions}
        </div>
      )}
      {children}
    </section>
  )
}

export function Stat ({ label, value, detail }: { label: string, value: ReactNode, detail?: ReactNode }): ReactNode {
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
      {detail != null && <div className="stat-detail">{detail}</div>}
    </div>
  )
}

export function EmptyState ({ title, children }: { title: string, children?: ReactNode }): ReactNode {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children != null && <div className="empty-body">{children}</div>}
    </div>
  )
}

/** A failed request, in words a user can act on. */
export function ErrorNotice ({ error, context }: { error: unknown, context?: string }): ReactNode {
  const message = error instanceof ApiError ? `${error.message} (${error.code})` : error instanceof Error ? error.message : String(error)
  return <p className="notice notice-error" role="alert">{context != null ? `${context}: ` : ''}{message}</p>
}

export function Loading ({ what }: { what: string }): ReactNode {
  return <p className="muted" role="status">Loading {what}…</p>
}

export function Badge ({ tone, children }: { tone: 'good' | 'warn' | 'bad' | 'neutral', children: ReactNode }): ReactNode {
  return <span className={`badge badge-${tone}`}>{children}</span>
}

export function ProgressBar ({ value, max, label }: { value: number, max: number, label: string }): ReactNode {
  const percent = max > 0 ? Math.min(100, (value / max) * 100) : 0
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(percent)}>
      <div className="progress-fill" style={{ width: `${percent}%` }} />
    </div>
  )
}

/** A long id shortened for display, full value on hover and for assistive technology. */
export function Mono ({ value, keep = 8 }: { value: string, keep?: number }): ReactNode {
  const short = value.length <= keep * 2 + 1 ? value : `${value.slice(0, keep)}…${value.slice(-keep)}`
  return <code className="mono" title={value} aria-label={value}>{short}</code>
}

/** Tables scroll sideways inside their card at phone width instead of widening the page. */
export function TableScroll ({ label, children }: { label: string, children: ReactNode }): ReactNode {
  return (
    <div className="table-scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  )
}
