import { z } from "zod";
import { JobError } from "../../../shared/src/index.ts";
import { JobSpec } from "./job.ts";

/** What a job ended with, as its owner sees it: the agent's result or a job error. */
export const JobOutcome = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: JobError }),
]);
export type JobOutcome = z.infer<typeof JobOutcome>;

/**
 * How an owner took a job event; the agent link acks up to `last_seq`. `stored`: the next event in
 * order; `duplicate`: at or below what is stored; `gap`: one is missing before it; `stale`: the
 * job (or this attempt of it) is no longer wanted.
 */
export const EventAck = z.object({
  status: z.enum(["stored", "duplicate", "gap", "stale"]),
  last_seq: z.number().int().nonnegative(),
});
export type EventAck = z.infer<typeof EventAck>;

/**
 * How an owner took a job's result; `missing_events`: the result names events it has not stored
 * yet. `next`: the owner's next job, which it leaves to the agent link that brought the result
 * (a pipeline runs one job at a time, so the agent that ran one may as well take the next).
 */
export const ResultAck = z.object({
  status: z.enum(["stored", "stale", "missing_events"]),
  last_seq: z.number().int().nonnegative(),
  next: JobSpec.optional(),
});
export type ResultAck = z.infer<typeof ResultAck>;

/** Whether an attempt is still wanted, and how much of it is stored: for an agent that reconnects. */
export const JobStatus = z.object({ current: z.boolean(), last_seq: z.number().int().nonnegative() });
export type JobStatus = z.infer<typeof JobStatus>;
