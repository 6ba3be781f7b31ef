import { createLogUpdate } from "log-update";
import type { ClientEvent } from "../../../shared/src/protocol/client-events.ts";
import { clip, duration } from "./format.ts";
import type { Style } from "./style.ts";
import { roundLines, stageLabel, stageLine, type EventView } from "./view.ts";

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const FRAME_MS = 80;

/**
 * The terminal view: the generated tokens stream as they come, and under them ONE progress line
 * (spinner, stage, round, elapsed, what Ctrl-C does) that log-update redraws in place. Finished
 * lines of text are persisted above the redrawn region; the line being written is part of it.
 */
export class LiveView implements EventView {
  readonly #stream: NodeJS.WriteStream;
  readonly #style: Style;
  readonly #render: ReturnType<typeof createLogUpdate>;
  readonly #started = Date.now();
  readonly #timer: NodeJS.Timeout;
  /** Whole lines waiting to be persisted above the region. */
  #pending: string[] = [];
  /** The line of text being written (no newline yet). */
  #partial = "";
  #stage = "connecting";
  #chars = 0;
  #hint: string;
  #frame = 0;
  #closed = false;

  constructor(stream: NodeJS.WriteStream, style: Style, hint: string) {
    this.#stream = stream;
    this.#style = style;
    this.#hint = hint;
    this.#render = createLogUpdate(stream);
    this.#timer = setInterval(() => this.#draw(), FRAME_MS);
    this.#draw();
  }

  event(event: ClientEvent): void {
    switch (event.type) {
      case "queued":
        this.#stage = event.position ? `QUEUED position ${event.position}` : "QUEUED";
        this.#line(this.#style.dim(`pipeline ${event.pipeline_id}`));
        break;
      case "stage":
        if (event.status === "started" || event.status === "retrying" || event.status === "restarted") {
          this.#stage = stageLabel(event);
        }
        if (event.stage === "REPAIRING" && event.status === "started") {
          this.#line(this.#style.warn(`── repair ${event.round ?? ""}: the model rewrites the files ──`));
        }
        if (event.status === "failed" || event.status === "retrying" || event.status === "restarted") {
          this.#line(this.#style.warn(stageLine(event)));
        }
        break;
      case "chunk":
        this.#text(event.delta);
        break;
      case "verification":
        for (const line of roundLines(event.round)) {
          this.#line(event.round.passed ? this.#style.ok(line) : this.#style.bad(line));
        }
        break;
      default:
        break;
    }
  }

  note(line: string): void {
    this.#line(this.#style.warn(line));
    this.#draw();
  }

  hint(text: string): void {
    this.#hint = text;
    this.#draw();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    if (this.#partial !== "") this.#pending.push(this.#partial);
    this.#partial = "";
    this.#render.clear();
    if (this.#pending.length > 0) this.#render.persist(`${this.#pending.join("\n")}\n`);
    this.#pending = [];
    this.#render.done();
  }

  #text(delta: string): void {
    this.#chars += delta.length;
    const lines = (this.#partial + delta.replaceAll("\t", "    ").replaceAll("\r", "")).split("\n");
    this.#partial = lines.pop() ?? "";
    this.#pending.push(...lines);
  }

  #line(text: string): void {
    if (this.#partial !== "") this.#pending.push(this.#partial);
    this.#partial = "";
    this.#pending.push(text);
  }

  #draw(): void {
    if (this.#closed) return;
    // One write for the persisted lines and the redrawn region: no frame without the progress line.
    this.#stream.cork();
    try {
      this.#frameNow();
    } finally {
      this.#stream.uncork();
    }
  }

  #frameNow(): void {
    if (this.#pending.length > 0) this.#render.persist(`${this.#pending.join("\n")}\n`);
    this.#pending = [];
    this.#frame = (this.#frame + 1) % SPINNER.length;
    const width = Math.max(20, (this.#stream.columns ?? 80) - 1);
    const chars = this.#chars > 0 ? ` · ${this.#chars.toLocaleString("en")} chars` : "";
    const status = `${this.#stage} · ${duration(Date.now() - this.#started)}${chars} · ${this.#hint}`;
    const line = `${this.#style.accent(SPINNER[this.#frame] ?? "")} ${this.#style.bold(clip(status, width - 2))}`;
    this.#render(this.#partial === "" ? line : `${this.#partial}\n${line}`);
  }
}
