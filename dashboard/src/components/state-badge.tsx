import type { PipelineState } from "../../../shared/src/protocol/common.ts";

function tone(state: PipelineState): string {
  if (state === "COMPLETED") return "good";
  if (state === "FAILED") return "bad";
  if (state === "CANCELLED") return "muted";
  return "active";
}

export function StateBadge({ state }: { state: PipelineState }) {
  return <span class={`badge badge-${tone(state)}`}>{state}</span>;
}

/** Whether the pipeline's tests passed in the sandbox, said in words (not by colour alone). */
export function VerifiedBadge({ verified, status }: { verified: boolean; status: string | null }) {
  if (verified) return <span class="badge badge-good">verified</span>;
  if (status === null) return <span class="muted">not asked</span>;
  return <span class={`badge badge-${status === "failed" ? "bad" : "muted"}`}>{`unverified (${status})`}</span>;
}
