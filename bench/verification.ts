/**
 * Verification: the same prompt through POST /api/generate without and with `verify: true`,
 * interleaved in one run, on a host-agent with a warm sandbox pool. Reports what verification adds
 * to a pipeline (p50 against p50) and what one test round takes in a warm container: the driver's
 * own duration of the run (type check and tests), and the VERIFYING stage as the pipeline timed it
 * (job placement and the result's trip back included).
 */
import { GenerateResponse } from "../shared/src/index.ts";
import { errorKey, jsonOf, type HttpClient } from "./http-client.ts";
import { countBy, summarize, type Summary } from "./stats.ts";

export interface VerificationResult {
  runs: number;
  prompt: string;
  language: string;
  /** Client-side latency of the whole pipeline, ms. */
  unverified_ms: Summary;
  verified_ms: Summary;
  /** p50 with verification minus p50 without, ms. */
  added_p50_ms: number;
  /** The VERIFYING stage's duration_ms. */
  verifying_stage_ms: Summary;
  /** The test round's own duration_ms (type check + tests inside the container). */
  test_round_ms: Summary;
  /** The test round's CPU time and peak memory, from the container's cgroup. */
  test_round_cpu_ms: Summary;
  test_round_peak_mb: Summary;
  /** Verified pipelines whose verdict was not `passed` (the offline templates' tests should pass). */
  not_passed: number;
  errors: Record<string, number>;
}

export async function compareVerification(
  http: HttpClient,
  options: { prompt: string; language: string; runs: number; onProgress?: (done: number) => void },
): Promise<VerificationResult> {
  const plain: number[] = [];
  const verified: number[] = [];
  const stage: number[] = [];
  const round: number[] = [];
  const cpu: number[] = [];
  const peak: number[] = [];
  const errors: string[] = [];
  let notPassed = 0;
  const run = async (verify: boolean) => {
    const answer = await http.post("/api/generate", {
      prompt: options.prompt,
      metadata: { language: options.language, verify },
    });
    const body = GenerateResponse.safeParse(jsonOf(answer));
    if (answer.status !== 200 || !body.success || body.data.state !== "COMPLETED") {
      errors.push(answer.status === 200 ? "200-not-completed" : errorKey(answer));
      return;
    }
    (verify ? verified : plain).push(answer.ms);
    const verification = body.data.verification;
    if (!verify || verification === null) return;
    if (verification.status !== "passed") notPassed += 1;
    const duration = body.data.stages.find((s) => s.stage === "VERIFYING")?.duration_ms;
    if (duration !== null && duration !== undefined) stage.push(duration);
    const first = verification.rounds[0];
    if (first) {
      round.push(first.duration_ms);
      if (first.cpu_ms !== null) cpu.push(first.cpu_ms);
      if (first.peak_memory_bytes !== null) peak.push(first.peak_memory_bytes / 1024 / 1024);
    }
  };
  for (let i = 0; i < options.runs; i++) {
    // Alternating, so a drift of the machine touches both sides alike.
    await run(i % 2 === 1);
    await run(i % 2 === 0);
    options.onProgress?.(i + 1);
  }
  const unverifiedMs = summarize(plain);
  const verifiedMs = summarize(verified);
  return {
    runs: options.runs,
    prompt: options.prompt,
    language: options.language,
    unverified_ms: unverifiedMs,
    verified_ms: verifiedMs,
    added_p50_ms: verifiedMs.p50 - unverifiedMs.p50,
    verifying_stage_ms: summarize(stage),
    test_round_ms: summarize(round),
    test_round_cpu_ms: summarize(cpu),
    test_round_peak_mb: summarize(peak),
    not_passed: notPassed,
    errors: countBy(errors),
  };
}
