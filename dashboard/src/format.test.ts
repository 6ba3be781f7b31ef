import { describe, expect, it } from "vitest";
import { ago, bytes, duration, percent, textOf } from "./format.ts";

describe("format", () => {
  const now = Date.parse("2026-12-01T12:00:00Z");

  it("says how long ago, never negative", () => {
    expect(ago("2026-12-01T11:59:55Z", now)).toBe("5s ago");
    expect(ago("2026-12-01T12:00:03Z", now)).toBe("0s ago");
    expect(ago("2026-12-01T11:50:00Z", now)).toBe("10m ago");
    expect(ago("2026-12-01T06:00:00Z", now)).toBe("6h ago");
    expect(ago("2026-11-25T12:00:00Z", now)).toBe("6d ago");
    expect(ago(null, now)).toBe("never");
    expect(ago("garbage", now)).toBe("unknown");
  });

  it("formats durations at the scale they have", () => {
    expect(duration(null)).toBe("–");
    expect(duration(12.4)).toBe("12 ms");
    expect(duration(2400)).toBe("2.4 s");
    expect(duration(185_000)).toBe("3m 05s");
    expect(duration(7_800_000)).toBe("2h 10m");
  });

  it("formats byte counts and shares", () => {
    expect(bytes(512)).toBe("512 B");
    expect(bytes(1536)).toBe("1.5 KiB");
    expect(bytes(2 * 1024 * 1024)).toBe("2.0 MiB");
    expect(percent(null)).toBe("–");
    expect(percent(0.987)).toBe("99%");
  });

  it("decodes UTF-8 text and refuses binary", () => {
    expect(textOf(new TextEncoder().encode("print('é')\n"))).toBe("print('é')\n");
    expect(textOf(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0]))).toBeNull();
    expect(textOf(new Uint8Array([0xff, 0xfe, 0x41]))).toBeNull();
  });
});
