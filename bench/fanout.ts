/**
 * Fan-out: `subscribers` sockets follow one pipeline (/ws/pipelines/:id) from before its
 * generation starts. The pipeline asks for a label no linked host-agent has, so its GENERATING
 * job waits at the scheduler while the subscribers connect; then a host-agent with that label
 * (and a Python agent that pauses between chunks, so tokens flow over time) is started and takes
 * the job. Delivery latency of an event to a subscriber is the time after the first subscriber
 * got the same seq, all taken on this client.
 */
import { performance as nodePerformance } from "node:perf_hooks";
import { z } from "zod";
import WebSocket from "ws";
import { GenerateAccepted } from "../shared/src/index.ts";
import { jsonOf, type HttpClient } from "./http-client.ts";
import type { Summary } from "./stats.ts";
import type { FanOutBaselineResult } from "./fanout-baseline.ts";
import { awaitCloseFrames, delivery, openSubscribers } from "./subscribers.ts";

export const FANOUT_LABEL = { bench: "fanout" } as const;

export interface FanOutResult {
  subscribers: number;
  /** Subscribers connected before generation began. */
  connected: number;
  /** Got every event, seq 1 to the last, and the result. */
  got_every_event: number;
  /** Got the close frame the pipeline sends after its last event. */
  close_frames: number;
  /** Events broadcast live (after every subscriber was connected): chunks, stage events, result. */
  live_events: number;
  /** Per (subscriber, live event): time after the first subscriber that got it. */
  delivery_ms: Summary;
  /** Per live event: from the first subscriber getting it to the last. */
  spread_ms: Summary;
  /** This client's event loop while the events streamed: share of the time it was busy (1 = never idle). */
  client_event_loop_utilization: number;
  /** Opening every subscriber (at most 100 upgrades in flight) and their replay. */
  connect_s: number;
  /** Starting the labelled host-agent until the edge shows it linked with a healthy LLM. */
  producer_start_s: number;
  /** From then until the first live event reached a subscriber (placement of the waiting job). */
  first_event_after_s: number;
  /** From the first live event to the last one, at the first subscriber to get each. */
  streaming_s: number;
}

/** How the subscribers reached the edge: its URL (wrangler's dev proxy in front) or the runtime's own port. */
export type FanOutVia = "wrangler dev proxy" | "runtime directly";

/** One level as reported: the result, the way in, and the client floor measured next to it. */
export type FanOutLevel = FanOutResult & { via: FanOutVia; client_floor: FanOutBaselineResult | null };

const PipelineState = z.object({ state: z.string(), last_seq: z.number() });

async function pipelineState(http: HttpClient, id: string): Promise<z.infer<typeof PipelineState> | null> {
  const parsed = PipelineState.safeParse(jsonOf(await http.get(`/api/pipelines/${id}`)));
  return parsed.success ? parsed.data : null;
}

export async function fanOut(
  http: HttpClient,
  wsUrl: string,
  options: {
    subscribers: number;
    prompt: string;
    /** Starts the labelled host-agent that takes the waiting job. */
    startProducer: () => Promise<void>;
    timeoutMs: number;
  },
): Promise<FanOutResult> {
  const created = GenerateAccepted.safeParse(
    jsonOf(
      await http.post("/api/generate", { prompt: options.prompt, async: true, metadata: { labels: FANOUT_LABEL } }),
    ),
  );
  if (!created.success) throw new Error("fan-out: could not create the pipeline");
  const id = created.data.pipeline_id;
  // PARSING falls back to the edge's rules (no agent has the label); GENERATING then waits.
  const deadline = Date.now() + 30_000;
  let state = await pipelineState(http, id);
  while (state?.state !== "GENERATING") {
    if (Date.now() > deadline) throw new Error(`fan-out: pipeline stuck in ${state?.state ?? "?"}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    state = await pipelineState(http, id);
  }

  const connectStarted = performance.now();
  // At most 100 upgrades in flight at once: the point is the broadcast, not a connection storm.
  const { subscribers, connected } = await openSubscribers(`${wsUrl}/ws/pipelines/${id}?after=0`, options.subscribers);
  // Every subscriber has had the replay of what came before (sent with the 101).
  const replayedThrough = (await pipelineState(http, id))?.last_seq ?? state.last_seq;
  const replayDeadline = Date.now() + 10_000;
  while (subscribers.some((s) => s.ws.readyState === WebSocket.OPEN && !s.arrivals.has(replayedThrough))) {
    if (Date.now() > replayDeadline) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const connectS = (performance.now() - connectStarted) / 1000;

  const producerStarted = performance.now();
  await options.startProducer();
  const producerReady = performance.now();
  const loopBefore = nodePerformance.eventLoopUtilization();
  // The pipeline closes every socket after its last event. The close frame comes at once, but
  // workerd ends the TCP connection of a subscriber seconds later: wait for the frame, not the TCP close.
  const closeFrames = await awaitCloseFrames(subscribers, options.timeoutMs);
  const loop = nodePerformance.eventLoopUtilization(loopBefore);

  const seen = delivery(subscribers, replayedThrough);
  return {
    subscribers: options.subscribers,
    connected,
    got_every_event: seen.got_every_event,
    close_frames: closeFrames,
    live_events: seen.live_events,
    delivery_ms: seen.delivery_ms,
    spread_ms: seen.spread_ms,
    client_event_loop_utilization: Math.round(loop.utilization * 100) / 100,
    connect_s: tenths(connectS),
    producer_start_s: tenths((producerReady - producerStarted) / 1000),
    first_event_after_s: tenths((seen.first_live_at - producerReady) / 1000),
    streaming_s: tenths((seen.last_event_at - seen.first_live_at) / 1000),
  };
}

function tenths(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 10) / 10 : Number.NaN;
}
