// Without a token the dashboard asks for one (`slipway up` prints a URL that carries it).
import { useState, type FormEvent } from "react";

export function TokenForm({ notice, onToken }: { notice: string | null; onToken: (token: string) => void }) {
  const [value, setValue] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (value.trim()) onToken(value.trim());
  };
  return (
    <main className="token-page">
      <form className="card token-form" onSubmit={submit}>
        <h1>Slipway</h1>
        <p className="muted">Paste an API token to open the dashboard. `slipway up` prints a link that signs you in, and `slipway token create NAME` makes a new token.</p>
        {notice && <p className="notice">{notice}</p>}
        <label htmlFor="token">API token</label>
        <input id="token" type="password" autoComplete="off" spellCheck={false} placeholder="slw_…" value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
        <button type="submit" disabled={!value.trim()}>
          Open dashboard
        </button>
      </form>
    </main>
  );
}
