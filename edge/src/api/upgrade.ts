import { ApiError } from "./errors.ts";

/**
 * A plain request of a WebSocket route is 426 with the protocol to ask for, as HTTP's upgrade rules
 * have it. workerd drops `Upgrade` (a connection header) from answers other than 101, so the code
 * `upgrade_required` is what a client can rely on; the header is there for runtimes that pass it on.
 */
export function requireUpgrade(request: Request): void {
  if ((request.headers.get("Upgrade") ?? "").toLowerCase() !== "websocket") {
    throw new ApiError("upgrade_required", "this route speaks WebSocket: send Upgrade: websocket", {
      headers: { Upgrade: "websocket" },
    });
  }
}
