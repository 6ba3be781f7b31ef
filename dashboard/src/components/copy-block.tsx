import { useState } from "preact/hooks";

/** A command to copy: shown as text, with a button that puts it on the clipboard. */
export function CopyBlock({ label, text }: { label: string; text: string }) {
  const [copied, setCopied] = useState<"no" | "yes" | "failed">("no");
  return (
    <div class="copy">
      <pre aria-label={label} tabIndex={0}>
        <code>{text}</code>
      </pre>
      <button
        type="button"
        class="secondary"
        aria-label={`Copy ${label}`}
        onClick={() => {
          navigator.clipboard.writeText(text).then(
            () => setCopied("yes"),
            () => setCopied("failed"),
          );
        }}
      >
        Copy
      </button>
      <span role="status" class="muted">
        {copied === "yes" ? "Copied" : copied === "failed" ? "Copy refused by the browser: select the text" : ""}
      </span>
    </div>
  );
}
