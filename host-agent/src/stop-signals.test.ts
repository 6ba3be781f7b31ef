import { describe, expect, it } from "vitest";
import { SAME_STOP_WINDOW_MS, StopSignals } from "./stop-signals.ts";

describe("stop signals", () => {
  it("drains on the first signal", () => {
    expect(new StopSignals().next(5_000)).toBe("drain");
  });

  it("reads a repeat within the window as the same request: a terminal and npm both deliver one Ctrl-C", () => {
    const stops = new StopSignals();
    expect(stops.next(1_000)).toBe("drain");
    expect(stops.next(1_001)).toBe("repeat");
    expect(stops.next(1_000 + SAME_STOP_WINDOW_MS - 1)).toBe("repeat");
  });

  it("stops now on a signal after the window, and only once", () => {
    const stops = new StopSignals();
    expect(stops.next(0)).toBe("drain");
    expect(stops.next(SAME_STOP_WINDOW_MS)).toBe("now");
    expect(stops.next(SAME_STOP_WINDOW_MS + 1)).toBe("repeat");
    expect(stops.next(60_000)).toBe("repeat");
  });

  it("measures the window from the first signal, so pressing repeatedly still reaches 'now'", () => {
    const stops = new StopSignals(1_000);
    expect(stops.next(0)).toBe("drain");
    expect(stops.next(400)).toBe("repeat");
    expect(stops.next(800)).toBe("repeat");
    expect(stops.next(1_200)).toBe("now");
  });
});
