import type { ClientEvent } from "../../../shared/src/protocol/client-events.ts";
import { duration } from "./format.ts";
import { roundLines, stageLine, type EventView } from "./view.ts";

/**
 * Events as plain lines on `log` (stderr), each with the time since the start: no colour, no
 * control codes, fit for a pipe or a CI log. The program itself is printed once, at the end, by
 * the command (stdout holds only it), so the tokens are not streamed here.
 */
export class PlainView implements EventView {
  readonly #log: (line: string) => void;
  readonly #started = Date.now();

  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  event(event: ClientEvent): void {
    switch (event.type) {
      case "queued":
        this.#line(
          `pipeline ${event.pipeline_id} queued (priority ${event.priority}${event.position === null ? "" : `, position ${event.position}`})`,
        );
        break;
      case "stage":
        this.#line(stageLine(event));
        break;
      case "verification":
        for (const line of roundLines(event.round)) this.#line(line);
        break;
      default:
        break;
    }
  }

  note(line: string): void {
    this.#line(line);
  }

  hint(): void {}

  close(): void {}

  #line(text: string): void {
    this.#log(`[${duration(Date.now() - this.#started).padStart(6)}] ${text}`);
  }
}
