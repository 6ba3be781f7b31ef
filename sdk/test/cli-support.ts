import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { ROOT } from "../../test/support/edge.ts";
import { waitUntil } from "./helpers.ts";

/** The CLI's source entry: Node runs it as it is (types stripped), as `npm run atomic` does. */
export const CLI = join(ROOT, "sdk", "src", "cli", "main.ts");

export interface CliRun {
  /** What it wrote so far. */
  stdout(): string;
  stderr(): string;
  /** Sends SIGINT, as Ctrl-C does. */
  interrupt(): void;
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** `atomic …args` with pipes for stdin, stdout and stderr (no terminal), `env` over this process's. */
export function atomic(args: string[], env: Record<string, string | undefined> = {}): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  child.stdin.end();
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return { stdout: () => stdout, stderr: () => stderr, interrupt: () => void child.kill("SIGINT"), exited };
}

/** Whether tmux is installed (the terminal tests need it). */
export const HAS_TMUX = spawnSync("tmux", ["-V"]).status === 0;

/**
 * A real terminal: a tmux server of its own (its own socket) running one command in a window
 * of `width` × `height`; the test reads the screen as a person sees it and types keys.
 */
export class Terminal {
  readonly #socket = `atomic-cli-test-${randomUUID().slice(0, 8)}`;

  /**
   * Runs `argv` under bash, which prints `[exit N]` when it ends and then waits, so the screen
   * stays. (bash without job control lets the command handle Ctrl-C, and goes on after it unless
   * the signal killed the command.) tmux's own pane status is not used: it sometimes leaves the
   * process unreaped.
   */
  constructor(argv: string[], env: Record<string, string>, width = 120, height = 40) {
    const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;
    const vars = Object.entries({ NO_COLOR: "", ...env }).flatMap(([name, value]) => ["-e", `${name}=${value}`]);
    const script = `${argv.map(quote).join(" ")}; echo "[exit $?]"; exec sleep 600`;
    this.#tmux(
      "new-session",
      "-d",
      "-x",
      String(width),
      "-y",
      String(height),
      "-c",
      ROOT,
      ...vars,
      "bash",
      "-c",
      script,
    );
  }

  /** The exit status of the command once it ended, else null. */
  exitCode(): number | null {
    const status = /^\[exit (\d+)\]$/m.exec(this.screen())?.[1];
    return status === undefined ? null : Number(status);
  }

  /** Waits for the command to end, and answers its exit status. */
  async exited(ms = 15_000): Promise<number> {
    await waitUntil(() => this.exitCode() !== null, ms, "the command to end").catch((error: unknown) => {
      throw new Error(`${String(error)}; the screen shows:\n${this.screen()}`);
    });
    return this.exitCode() ?? -1;
  }

  /** The screen as text, one line a row (trailing blanks dropped). */
  screen(): string {
    return this.#tmux("capture-pane", "-p", "-J")
      .split("\n")
      .map((line) => line.trimEnd())
      .join("\n")
      .trimEnd();
  }

  /** The screen with its colours and attributes as escape codes (tmux's `capture-pane -e`). */
  rawScreen(): string {
    return this.#tmux("capture-pane", "-p", "-e");
  }

  /** Waits until the screen shows `pattern`, and answers the screen. */
  async waitFor(pattern: RegExp | string, ms = 15_000): Promise<string> {
    let screen = "";
    const matches = () => {
      screen = this.screen();
      return typeof pattern === "string" ? screen.includes(pattern) : pattern.test(screen);
    };
    await waitUntil(matches, ms, `the screen to show ${String(pattern)}; it shows:\n${this.screen()}`).catch(() => {
      throw new Error(`the screen never showed ${String(pattern)}; it shows:\n${screen}`);
    });
    return screen;
  }

  /** Types keys (tmux names: `C-c` is Ctrl-C). */
  keys(...keys: string[]): void {
    this.#tmux("send-keys", ...keys);
  }

  close(): void {
    try {
      this.#tmux("kill-server");
    } catch {
      // Already gone.
    }
  }

  #tmux(...args: string[]): string {
    return execFileSync("tmux", ["-L", this.#socket, ...args], { encoding: "utf8" });
  }
}
