'use client'

import { useEffect, useState, type ReactNode } from 'react'

type Theme = 'system' | 'light' | 'dark'
const THEME_KEY = 'chiral.theme'
const NEXT: Record<Theme, Theme> = { system: 'dark', dark: 'light', light: 'system' }

/** Cycles system → dark → light; the choice is applied to <html data-theme> and remembered. */
export function ThemeToggle (): ReactNode {
  const [theme, setTheme] = useState<Theme>('system')
  useEffect(() => {
    const saved = localStorage.getItem(THEME_KEY)
    if (saved === 'light' || saved === 'dark') setTheme(saved)
  }, [])
  const choose = (next: Theme): void => {
    setTheme(next)
    if (next === 'system') {
      localStorage.removeItem(THEME_KEY)
      delete document.documentElement.dataset.theme
    } else {
      localStorage.setItem(THEME_KEY, next)
      document.documentElement.dataset.theme = next
    }
  }
  return (
    <button type="button" className="button small theme-toggle" onClick={() => { choose(NEXT[theme]) }} aria-label={`Theme: ${theme}. Switch to ${NEXT[theme]}`}>
      Theme: {theme}
    </button>
  )
}

/** Runs before the page paints, so a saved dark theme does not flash light first. */
export const THEME_BOOT_SCRIPT = `try{var t=localStorage.getItem('${THEME_KEY}');if(t==='light'||t==='dark')document.documentElement.dataset.theme=t}catch(e){}`
