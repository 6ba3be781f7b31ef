import { useState } from "preact/hooks";

/** Asks for an API key when the edge needs one. */
export function KeyForm({ error, onKey }: { error: string | null; onKey: (key: string) => void }) {
  const [key, setKey] = useState("");
  return (
    <section aria-labelledby="key-heading" class="card">
      <h2 id="key-heading">Sign in</h2>
      <p>This edge needs an API key. It is kept in this tab only (session storage) and sent to this edge alone.</p>
      {error !== null ? (
        <p role="alert" class="error">
          {error}
        </p>
      ) : null}
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          const trimmed = key.trim();
          if (trimmed !== "") onKey(trimmed);
        }}
      >
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
        />
        <button type="submit">Use key</button>
      </form>
    </section>
  );
}
