/**
 * Verification: the same prompt through POST /api/generate without and with `verify: true`,
 * interleaved in one run, on a host-agent with a warm sandbox pool. Reports what verification adds
 * to a pipeline (p50 against p50) and what one test round takes in a warm container: the driver's
 * own duration of the run (type check and tests), and the VERIFYING stage as the pipeline timed it
 * (job placement and the result's trip back included).
 */
import { ArtifactManifest, GenerateResponse } from "../shared/src/index.ts";
import type { VerifyPayload } from "../shared/src/protocol/verification.ts";
import { errorKey, jsonOf, type HttpClient } from "./http-client.ts";
import { countBy, summarize, type Summary } from "./stats.ts";
import { inContainerRounds } from "./verification-reference.ts";

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
  /**
   * The same driver command on the last verified pipeline's files, with `docker exec` in an
   * already-running container (verification-reference.ts), ms: the round's floor.
   */
  in_container_ms: Summary;
  /** verifying_stage_ms.p50 / in_container_ms.p50: the round as a pipeline waits for it, over its floor. */
  round_over_in_container: number;
  /** Verified pipelines whose verdict was not `passed` (the offline templates' tests should pass). */
  not_passed: number;
  errors: Record<string, number>;
}

export async function compareVerification(
  http: HttpClient,
  options: {
    prompt: string;
    language: VerifyPayload["language"];
    runs: number;
    /** The sandbox image and a label for the reference's container (removed with the run's leftovers). */
    reference: { image: string; agentId: string };
    onProgress?: (done: number) => void;
  },
): Promise<VerificationResult> {
  const plain: number[] = [];
  const verified: number[] = [];
  const stage: number[] = [];
  const round: number[] = [];
  const cpu: number[] = [];
  const peak: number[] = [];
  const errors: string[] = [];
  let notPassed = 0;
  let lastVerified: string | null = null;
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
    lastVerified = body.data.pipeline_id;
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
  if (lastVerified === null) throw new Error("no verified pipeline completed: nothing to run in a running container");
  const inContainer = summarize(
    await inContainerRounds({
      image: options.reference.image,
      agentId: options.reference.agentId,
      payload: { language: options.language, files: await filesOf(http, lastVerified) },
      runs: options.runs,
    }),
  );
  const stageMs = summarize(stage);
  return {
    runs: options.runs,
    prompt: options.prompt,
    language: options.language,
    unverified_ms: unverifiedMs,
    verified_ms: verifiedMs,
    added_p50_ms: verifiedMs.p50 - unverifiedMs.p50,
    verifying_stage_ms: stageMs,
    test_round_ms: summarize(round),
    test_round_cpu_ms: summarize(cpu),
    test_round_peak_mb: summarize(peak),
    in_container_ms: inContainer,
    round_over_in_container: stageMs.p50 / inContainer.p50,
    not_passed: notPassed,
    errors: countBy(errors),
  };
}

/** A pipeline's files, as any client reads them: the manifest, then each file. */
async function filesOf(http: HttpClient, id: string): Promise<Array<{ path: string; content: string }>> {
  const manifest = ArtifactManifest.parse(jsonOf(await http.get(`/api/pipelines/${id}/artifacts`)));
  const files: Array<{ path: string; content: string }> = [];
  for (const file of manifest.files) {
    const answer = await http.get(
      `/api/pipelines/${id}/artifacts/${file.path.split("/").map(encodeURIComponent).join("/")}`,
    );
    if (answer.status !== 200) throw new Error(`${file.path} of pipeline ${id}: ${answer.status}`);
    files.push({ path: file.path, content: answer.body });
  }
  return files;
}
