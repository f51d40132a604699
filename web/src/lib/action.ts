// A button's call to the API (start, cancel, quarantine...): busy while it runs, the error to
// show when it fails, and a refused token signs the page out like any other read.
import { useCallback, useState } from "react";
import { Unauthenticated, errorText } from "./api.ts";
import { useHub } from "./live.ts";

export interface Action {
  busy: boolean;
  error: string | null;
  /** Runs `call` with the token; resolves true when it succeeded. */
  run: (call: (token: string) => Promise<unknown>) => Promise<boolean>;
}

export function useAction(): Action {
  const hub = useHub();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(
    async (call: (token: string) => Promise<unknown>) => {
      setBusy(true);
      setError(null);
      try {
        await call(hub.token);
        return true;
      } catch (cause) {
        if (cause instanceof Unauthenticated) hub.signOut(cause.message);
        else setError(errorText(cause));
        return false;
      } finally {
        setBusy(false);
      }
    },
    [hub],
  );
  return { busy, error, run };
}
