/** `<job id>#<attempt>`: one attempt of one job as a single map key or column, on both sides of the link. */
export function jobKey(job: { job_id: string; attempt: number }): string {
  return `${job.job_id}#${job.attempt}`;
}
