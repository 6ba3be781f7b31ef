/** Closes a WebSocket that may already be closed; there is nothing to release then. */
export function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // Already closed: nothing left to release.
  }
}
