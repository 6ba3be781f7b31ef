import { constants } from "node:os";

const SIGNAL_NAMES = new Map<number, string>(
  Object.entries(constants.signals).map(([name, number]) => [number, name] as [number, string]),
);

/**
 * The signal behind a container's exit code, or null. The container's init (docker-init) and `sh`
 * both report a child killed by signal N as exit code 128 + N, which is all Docker gives us; a
 * program that calls `exit(137)` itself is indistinguishable from one killed by SIGKILL.
 */
export function signalFromExitCode(exitCode: number): string | null {
  if (exitCode <= 128) return null;
  return SIGNAL_NAMES.get(exitCode - 128) ?? null;
}
