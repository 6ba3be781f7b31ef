import { useState } from "preact/hooks";
import type { ExecuteAnswer } from "../../../sdk/src/index.ts";
import { LIMITS } from "../../../shared/src/limits.ts";
import { SandboxLanguage } from "../../../shared/src/protocol/sandbox.ts";
import { useApp } from "../context.ts";
import { duration } from "../format.ts";

const EXAMPLES: Record<SandboxLanguage, string> = {
  python: 'import sys\nprint("hello from python", sys.version.split()[0])\n',
  javascript: 'console.log("hello from node", process.version);\n',
  shell: 'echo "hello from $(uname -s)"\n',
};

export function SandboxView() {
  const { client, report } = useApp();
  const [language, setLanguage] = useState<SandboxLanguage>("python");
  const [code, setCode] = useState(EXAMPLES.python);
  const [stdin, setStdin] = useState("");
  const [timeout, setTimeoutSeconds] = useState("");
  const [running, setRunning] = useState(false);
  const [answer, setAnswer] = useState<ExecuteAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);

  const run = async () => {
    setRunning(true);
    setError(null);
    setAnswer(null);
    const seconds = Number(timeout);
    try {
      setAnswer(
        await client.execute({
          language,
          code,
          ...(stdin !== "" ? { stdin } : {}),
          ...(timeout !== "" && seconds > 0 ? { limits: { timeout_seconds: seconds } } : {}),
        }),
      );
    } catch (failure) {
      setError(report(failure));
    } finally {
      setRunning(false);
    }
  };

  return (
    <>
      <h1>Sandbox</h1>
      <p>Runs code in a locked-down container of a host-agent with Docker (no network).</p>
      <form
        class="card sandbox-form"
        aria-label="Run code"
        onSubmit={(event) => {
          event.preventDefault();
          void run();
        }}
      >
        <div class="field">
          <label for="sandbox-language">Language</label>
          <select
            id="sandbox-language"
            value={language}
            onChange={(event) => {
              const next = SandboxLanguage.parse(event.currentTarget.value);
              // An untouched example follows the language; code the user wrote stays.
              if (code === EXAMPLES[language]) setCode(EXAMPLES[next]);
              setLanguage(next);
            }}
          >
            {SandboxLanguage.options.map((option) => (
              <option key={option} value={option}>
                {option}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="sandbox-code">Code</label>
          <textarea
            id="sandbox-code"
            class="code"
            rows={12}
            spellcheck={false}
            maxLength={LIMITS.executeCodeMaxBytes}
            required
            value={code}
            onInput={(event) => setCode(event.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="sandbox-stdin">Standard input (optional)</label>
          <textarea
            id="sandbox-stdin"
            class="code"
            rows={3}
            spellcheck={false}
            value={stdin}
            onInput={(event) => setStdin(event.currentTarget.value)}
          />
        </div>
        <div class="field narrow">
          <label for="sandbox-timeout">Timeout in seconds (optional)</label>
          <input
            id="sandbox-timeout"
            type="number"
            min="1"
            step="1"
            inputMode="numeric"
            value={timeout}
            onInput={(event) => setTimeoutSeconds(event.currentTarget.value)}
          />
        </div>
        <p class="actions">
          <button type="submit" disabled={running}>
            {running ? "Running…" : "Run"}
          </button>
        </p>
      </form>
      {error !== null ? (
        <p role="alert" class="error">
          The run failed: {error}
        </p>
      ) : null}
      {answer !== null ? <RunResult answer={answer} /> : null}
    </>
  );
}

function RunResult({ answer }: { answer: ExecuteAnswer }) {
  const notes = [
    answer.timed_out ? "timed out" : null,
    answer.oom_killed ? "killed: out of memory" : null,
    answer.signal !== null ? `signal ${answer.signal}` : null,
    answer.truncated ? "output truncated" : null,
  ].filter((note): note is string => note !== null);
  return (
    <section aria-labelledby="run-heading" class="card">
      <h2 id="run-heading">Result</h2>
      <dl class="facts">
        <div>
          <dt>Exit code</dt>
          <dd>{answer.exit_code ?? "none"}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{duration(answer.duration_ms)}</dd>
        </div>
        <div>
          <dt>Timed out</dt>
          <dd>{answer.timed_out ? "yes" : "no"}</dd>
        </div>
        {notes.length > 0 ? (
          <div>
            <dt>Notes</dt>
            <dd>{notes.join(", ")}</dd>
          </div>
        ) : null}
      </dl>
      <h3 id="stdout-heading">stdout</h3>
      <pre class="output" aria-labelledby="stdout-heading" tabIndex={0}>
        {answer.stdout === "" ? <span class="muted">(empty)</span> : answer.stdout}
      </pre>
      <h3 id="stderr-heading">stderr</h3>
      <pre class="output" aria-labelledby="stderr-heading" tabIndex={0}>
        {answer.stderr === "" ? <span class="muted">(empty)</span> : answer.stderr}
      </pre>
    </section>
  );
}
