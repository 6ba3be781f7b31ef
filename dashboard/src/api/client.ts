import { AtomicApiError, AtomicClient } from "../../../sdk/src/index.ts";

/** A client of the edge that served this page, with the key the user gave, if any. */
export function createClient(apiKey: string | null): AtomicClient {
  return new AtomicClient({ baseUrl: location.origin, apiKey: apiKey ?? undefined });
}

/** True when the edge refused the key (or wanted one): the key is then forgotten. */
export function isUnauthorized(error: unknown): error is AtomicApiError {
  return error instanceof AtomicApiError && error.code === "unauthorized";
}

/** True when a call was aborted because its view went away: nothing to show. */
export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}

/** One line about a failed call: the API's code and message, or what the browser said. */
export function describeError(error: unknown): string {
  if (error instanceof AtomicApiError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
