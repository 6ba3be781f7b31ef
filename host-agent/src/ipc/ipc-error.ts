import type { IpcErrorBody, IpcErrorCode } from "./protocol.ts";

/** Whether a retry may help, for errors whose sender did not say. */
const RETRYABLE_BY_DEFAULT: Record<IpcErrorCode, boolean> = {
  invalid_request: false,
  llm_error: false,
  llm_unavailable: true,
  timeout: true,
  cancelled: false,
  internal: false,
};

/**
 * Every failure of an IPC request: one of the protocol's error codes, a message for people, and
 * whether the same request may succeed if tried again (on this agent or another).
 */
export class IpcError extends Error {
  override name = "IpcError";
  readonly code: IpcErrorCode;
  readonly retryable: boolean;

  constructor(code: IpcErrorCode, message: string, retryable: boolean = RETRYABLE_BY_DEFAULT[code]) {
    super(message);
    this.code = code;
    this.retryable = retryable;
  }

  /** The error an agent reported in an ERROR message. */
  static fromBody(body: IpcErrorBody): IpcError {
    return new IpcError(body.code, body.message, body.retryable);
  }

  toBody(): IpcErrorBody {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}
