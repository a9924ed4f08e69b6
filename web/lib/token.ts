const TOKEN_KEY = 'chiral.apiToken'

/**
 * Moves a token from the pairing link's fragment (#token=...) into localStorage and removes it
 * from the address bar, so it does not linger in history or get shared with a copied URL.
 */
export function adoptTokenFromUrl (): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash)
  if (match?.[1] == null) return
  localStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]))
  window.history.replaceState(null, '', window.location.pathname + window.location.search)
}

export function storedToken (): string | null {
  return localStorage.getItem(TOKEN_KEY)
}

export function storeToken (token: string): void {
  localStorage.setItem(TOKEN_KEY, token)
}

export function forgetToken (): void {
  localStorage.removeItem(TOKEN_KEY)
}

/** Accepts the bare token or a whole pairing link. */
export function parseTokenInput (input: string): string {
  const trimmed = input.trim()
  return /[#&]token=([^&\s]+)/.exec(trimmed)?.[1] ?? trimmed
}
