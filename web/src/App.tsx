// Token first: from the URL fragment or localStorage, or asked for; then the dashboard's pages.
import { useCallback, useState } from "react";
import { Shell } from "./components/Shell.tsx";
import { TokenForm } from "./components/TokenForm.tsx";
import { clearToken, loadToken, saveToken } from "./lib/token.ts";

export function App() {
  const [token, setToken] = useState<string | null>(() => loadToken());
  const [notice, setNotice] = useState<string | null>(null);
  const signOut = useCallback((why?: string) => {
    clearToken();
    setNotice(why ? `Signed out: ${why}.` : null);
    setToken(null);
  }, []);
  const signIn = useCallback((next: string) => {
    saveToken(next);
    setNotice(null);
    setToken(next);
  }, []);
  if (!token) return <TokenForm notice={notice} onToken={signIn} />;
  return <Shell key={token} token={token} onSignOut={signOut} />;
}
