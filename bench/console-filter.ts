/**
 * wrangler prints the lines workerd logs at error level through console.error. Under heavy load
 * workerd logs internal errors by the thousand (e.g. when a client closes a socket while its
 * Durable Object still runs); they would bury the progress lines. They are counted by message
 * instead, and the counts go into the results.
 */
const counts: Record<string, number> = {};
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

function keyOf(text: string): string | null {
  const plain = text.replace(ANSI, "");
  if (!/workerd\/|exception =/.test(plain)) return null;
  const message = /exception = (.*)/.exec(plain)?.[1] ?? plain.split("\n")[0] ?? plain;
  return message.trim().slice(0, 200);
}

export function filterEdgeErrors(): void {
  const original = console.error.bind(console);
  console.error = (...args: unknown[]) => {
    const key = args.length > 0 && typeof args[0] === "string" ? keyOf(args[0]) : null;
    if (key === null) return original(...args);
    counts[key] = (counts[key] ?? 0) + 1;
  };
}

export function edgeErrorCounts(): Record<string, number> {
  return { ...counts };
}
