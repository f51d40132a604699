// The API token. `slipway up` prints the dashboard URL as `http://…/#token=slw_…`: the token
// rides in the fragment, which browsers never send to the server or in a Referer, and is moved
// into localStorage and out of the address bar as soon as the page loads.
const KEY = "slipway.token";

/** Takes `#token=…` out of the URL (storing it) and returns the stored token, if any. */
export function loadToken(): string | null {
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  const fromUrl = fragment.get("token");
  if (fromUrl) {
    saveToken(fromUrl);
    fragment.delete("token");
    const rest = fragment.toString();
    window.history.replaceState(null, "", window.location.pathname + window.location.search + (rest ? `#${rest}` : ""));
  }
  return readStored();
}

export function saveToken(token: string): void {
  try {
    window.localStorage.setItem(KEY, token.trim());
  } catch {
    // Storage can be disabled (private mode, policy); the token then lives for this page only.
    memory = token.trim();
  }
}

export function clearToken(): void {
  memory = null;
  try {
    window.localStorage.removeItem(KEY);
  } catch {
    // Nothing stored, nothing to clear.
  }
}

let memory: string | null = null;

function readStored(): string | null {
  try {
    return window.localStorage.getItem(KEY) ?? memory;
  } catch {
    return memory;
  }
}
