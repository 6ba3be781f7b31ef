import type { Context } from "hono";
import type { z } from "zod";
import { ERROR_STATUS, type ErrorCode } from "../../../shared/src/index.ts";

/** A failure with a code from the closed set; `app.onError` turns it into the JSON error shape. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly code: ErrorCode;
  readonly headers: Record<string, string>;
  readonly extra: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { headers?: Record<string, string>; extra?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.code = code;
    this.headers = options.headers ?? {};
    this.extra = options.extra ?? {};
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** `{success:false, error:{code,message}, request_id, ...extra}`: the body of an error answer. */
export function errorBody(c: Context, error: ApiError): Record<string, unknown> {
  const requestId = c.get("requestId") ?? "";
  return { success: false, error: { code: error.code, message: error.message }, request_id: requestId, ...error.extra };
}

/** The error's body with the code's status. */
export function errorResponse(c: Context, error: ApiError): Response {
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
  return c.json(errorBody(c, error), error.status as 400);
}

/** Names every field a body got wrong, so the caller can fix all of them at once. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 8)
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join(".") : "body";
      if (issue.code === "unrecognized_keys") return `${path}: unknown field(s) ${issue.keys.join(", ")}`;
      return `${path}: ${issue.message}`;
    })
    .join("; ");
}

/** Reads a JSON body; a body that is not JSON is a 400 `invalid_json`, never a 500. */
export async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header("Content-Type") ?? "";
  if (type !== "" && !/^application\/([\w.+-]*\+)?json\b/i.test(type)) {
    throw new ApiError("invalid_request", `Content-Type must be application/json, not ${printable(type)}`);
  }
  const encoding = (c.req.header("Content-Encoding") ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "") {
    throw new ApiError(
      "unsupported_media_type",
      `Content-Encoding ${printable(encoding)} is not accepted; send the JSON body uncompressed`,
    );
  }
  const text = await c.req.text();
  if (text.trim() === "") throw new ApiError("invalid_json", "the request body is empty; send a JSON object");
  try {
    return JSON.parse(text);
  } catch (error) {
    // The parser's own message quotes the input; a body may be binary or hold secrets, so only
    // where it broke is said.
    const position = /position (\d+)/.exec(error instanceof Error ? error.message : "")?.[1];
    throw new ApiError(
      "invalid_json",
      `the request body is not valid JSON${position === undefined ? "" : ` (at character ${position})`}`,
    );
  }
}

/** A header value fit to quote in an error message: printable ASCII, at most 100 characters. */
function printable(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 100 ? `${clean.slice(0, 100)}…` : clean;
}
