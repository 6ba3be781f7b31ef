/**
 * Hard limits both sides agree on. Operators tune the soft ones through `ATOMIC_*` settings;
 * these are the ceilings the wire format itself relies on.
 */
export const LIMITS = {
  /** Longest prompt accepted, in characters. */
  promptMaxChars: 100_000,
  /** Largest serialized `metadata` object, in bytes. */
  metadataMaxBytes: 16_384,
  /** Deepest nesting allowed inside `metadata`. */
  metadataMaxDepth: 8,
  /** Largest client WebSocket frame the edge reads, in bytes. */
  clientFrameMaxBytes: 262_144,
  /**
   * Largest agent-link frame, in bytes. Workers accept WebSocket messages up to 1 MiB; staying
   * well under it leaves room for the envelope and for a peer's own framing.
   */
  agentFrameMaxBytes: 524_288,
  /** Largest piece of text carried in one `job.event` or `job.result` part. */
  agentChunkMaxChars: 262_144,
  /** Files one pipeline may produce. */
  artifactMaxFiles: 200,
  /** Bytes one artifact file may hold. */
  artifactMaxFileBytes: 5_242_880,
  /** Code accepted by `/api/execute`, in bytes. */
  executeCodeMaxBytes: 1_048_576,
  /** Files accepted by `/api/execute`. */
  executeMaxFiles: 100,
  /**
   * Longest file path `/api/execute` accepts, in UTF-8 bytes: the workspace's file system and tar
   * count bytes, not characters (256 × "é" is 512 bytes), and a name they cannot create fails the run.
   */
  executePathMaxBytes: 256,
  /** Longest name between two slashes of such a path, in UTF-8 bytes: Linux's NAME_MAX. */
  executeNameMaxBytes: 255,
  /** Test files one request may pin (`metadata.tests`). */
  pinnedTestMaxFiles: 20,
  /** Bytes one pinned test file may hold, in UTF-8. */
  pinnedTestMaxBytes: 65_536,
  /** Bytes all of a request's pinned test files may hold together, in UTF-8. */
  pinnedTestsMaxBytes: 131_072,
  /** Longest `metadata.test_command`, in characters. */
  testCommandMaxChars: 1024,
  /** Most repair rounds a request may ask for; ATOMIC_MAX_REPAIRS caps it lower. */
  maxRepairs: 10,
  /** Output kept per verification step (its end), in characters. */
  verifyOutputMaxChars: 4096,
  /** Failures one verification report names at most. */
  verifyMaxFailures: 20,
  /** Characters kept of one failure's message. */
  verifyFailureMessageMaxChars: 1000,
  /** The failures a repair is shown, in characters: the repair prompt's budget for them. */
  repairFailuresMaxChars: 12_000,
} as const;
