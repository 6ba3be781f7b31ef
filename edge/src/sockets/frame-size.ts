import { utf8Length } from "../../../shared/src/index.ts";

/**
 * Whether a WebSocket message is over `limit` bytes as it travelled (UTF-8 for text). A text of
 * n UTF-16 units takes n to 3n bytes, so most are decided without counting.
 */
export function frameOver(message: string | ArrayBuffer, limit: number): boolean {
  if (typeof message !== "string") return message.byteLength > limit;
  if (message.length * 3 <= limit) return false;
  return message.length > limit || utf8Length(message) > limit;
}
