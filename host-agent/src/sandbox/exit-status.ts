import { constants } from "node:os";

const SIGNAL_NAMES = new Map<number, string>(
  Object.entries(constants.signals).map(([name, number]) => [number, name] as [number, string]),
);

/** The number of SIGKILL, which the kernel's OOM killer sends. */
export const SIGKILL = constants.signals.SIGKILL;

/** A signal's name (`SIGSEGV`), or null for a number this platform does not name. */
export function signalName(signal: number): string | null {
  return SIGNAL_NAMES.get(signal) ?? null;
}

/**
 * The signal behind a container's exit code, or null: for a container that ended without the
 * supervisor's status line (killed from the host, or its supervisor killed), whose exit code is
 * all the engine gives. 128 + N is read as signal N; the status line itself names the signal.
 */
export function signalFromExitCode(exitCode: number): string | null {
  if (exitCode <= 128) return null;
  return signalName(exitCode - 128);
}
