import type { Context } from "hono";
import type { AppEnv } from "../api/context.ts";
import { ApiError } from "../api/errors.ts";
import type { StoredAnswer } from "./idempotency-do.ts";
import { keyObjectName, readIdempotencyKey, requestFingerprint } from "./request-key.ts";

/** The header that tells a client its answer is the first request's, not a new one. */
export const REPLAYED_HEADER = "Idempotent-Replayed";

export type KeyedRequest =
  | { kind: "unkeyed" }
  | { kind: "first"; key: KeyHandle }
  | { kind: "retry"; key: KeyHandle; answer: StoredAnswer | null };

/** The claimed key: its object and the id the first request works under. */
export interface KeyHandle {
  id: string;
  /** The first request's answer, for its retries. */
  answer(answer: StoredAnswer): Promise<void>;
  /** The first request did nothing a retry should see: the key is free again. */
  release(): Promise<void>;
  awaitAnswer(ms: number): Promise<StoredAnswer | null>;
}

/**
 * Claims the request's `Idempotency-Key`, if it has one, for `route` and the caller's API key:
 * the first request with a key gets `candidateId` to work under; a retry with the same body gets
 * the first one's id (and answer, once there is one) and the reply says so; a reuse of the key with
 * another body is refused with 422. Keys live `ATOMIC_IDEMPOTENCY_TTL_S`. `answerWithinMs`: the
 * longest the first request can take, for work whose answer only the key keeps (see
 * `IdempotencyDO.claim`).
 */
export async function claimIdempotencyKey(
  c: Context<AppEnv>,
  route: string,
  body: unknown,
  candidateId: string,
  answerWithinMs?: number,
): Promise<KeyedRequest> {
  const reading = readIdempotencyKey(c.req.header("Idempotency-Key"));
  if (!reading.ok) throw new ApiError("invalid_request", reading.message);
  if (reading.key === null) return { kind: "unkeyed" };
  const query = new URL(c.req.url).search;
  const [name, fingerprint] = await Promise.all([
    keyObjectName(route, c.get("caller").owner, reading.key),
    requestFingerprint(route, query, body),
  ]);
  const stub = c.env.IDEMPOTENCY.getByName(name);
  const claim = await stub.claim({
    fingerprint,
    candidate_id: candidateId,
    ttl_ms: c.get("config").ATOMIC_IDEMPOTENCY_TTL_S * 1000,
    ...(answerWithinMs === undefined ? {} : { answer_within_ms: answerWithinMs }),
  });
  if (claim.status === "mismatch") {
    throw new ApiError(
      "idempotency_key_reused",
      "this Idempotency-Key was used with a different request; use a new key for a new request",
    );
  }
  const id = claim.id;
  const key: KeyHandle = {
    id,
    answer: (answer) => stub.answer(id, answer),
    release: () => stub.release(id),
    awaitAnswer: (ms) => stub.awaitAnswer(id, ms),
  };
  if (claim.status === "new") return { kind: "first", key };
  c.header(REPLAYED_HEADER, "true");
  return { kind: "retry", key, answer: claim.answer };
}
