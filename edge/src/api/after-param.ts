import { ApiError } from "./errors.ts";

/** The `after` of a resume (`?after=SEQ` or `Last-Event-ID`): the last event seq the client has, 0 for none. */
export function parseAfter(raw: string | undefined): number {
  const text = raw ?? "0";
  const after = Number(text);
  if (!Number.isInteger(after) || after < 0) {
    throw new ApiError("invalid_request", `after must be a whole number >= 0, not ${text}`);
  }
  return after;
}
