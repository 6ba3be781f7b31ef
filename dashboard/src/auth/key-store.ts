/**
 * The API key lives in sessionStorage only: it goes away with the tab, is never written to disk
 * by localStorage, and never appears in the URL, where history and referrers would keep it.
 */
const STORAGE_KEY = "atomic.apiKey";

export function readKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY) || null;
  } catch {
    // Storage can be disabled by the browser's privacy settings; the key then lasts this page only.
    return null;
  }
}

export function storeKey(key: string): void {
  try {
    sessionStorage.setItem(STORAGE_KEY, key);
  } catch {
    // As in readKey: without storage the key is kept in memory by the caller.
  }
}

export function forgetKey(): void {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Nothing was stored.
  }
}
