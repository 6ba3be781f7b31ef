// Workers freeze the clock at 0 outside a request, so the start is taken on the first request.
let startedAt = 0;

/** Milliseconds since this isolate served its first request. */
export function uptimeMs(): number {
  const now = Date.now();
  if (startedAt === 0) startedAt = now;
  return now - startedAt;
}
