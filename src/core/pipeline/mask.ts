// Secrets never reach a log: every occurrence of a secret value in a step's output is replaced
// by `***` before the output leaves the runner.
//
// Every character that belongs to an occurrence of any secret is hidden, and a run of hidden
// characters becomes one `***`. That covers what replacing the longest secret first would (a
// short secret inside a longer one), and more: overlapping secrets leave no piece of either
// visible. Secrets shorter than 4 characters are ignored: masking "1" or "yes" would blank out
// the whole log and hide nothing.
//
// Output arrives in chunks cut anywhere, so the streaming masker holds back the end of a chunk
// for as long as it could still be the start of a secret, and remembers how far into the held
// text a secret found before the cut reaches. Whatever the chunking, the masked stream is the
// same as masking the whole text at once.

export const MASK = "***";
const MIN_SECRET_LENGTH = 4;

const usable = (secrets: readonly string[]): string[] => [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH))];

/** For each character of `text`, whether it belongs to an occurrence of a secret; the first `known` are. */
function coverage(text: string, secrets: readonly string[], known = 0): { covered: Uint8Array; occurrences: [number, number][] } {
  const covered = new Uint8Array(text.length);
  covered.fill(1, 0, Math.min(known, text.length));
  const occurrences: [number, number][] = [];
  for (const secret of secrets) {
    for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) {
      covered.fill(1, at, at + secret.length);
      occurrences.push([at, at + secret.length]);
    }
  }
  return { covered, occurrences };
}

/** `text[0, end)` with each run of covered characters as one mask; `open` means a mask was just written. */
function render(text: string, covered: Uint8Array, end: number, open: boolean): string {
  let out = "";
  let plainFrom = 0;
  for (let i = 0; i < end; i++) {
    if (covered[i] === 0) continue;
    out += text.slice(plainFrom, i);
    if (!(open && i === 0) && covered[i - 1] !== 1) out += MASK;
    plainFrom = i + 1;
  }
  return out + text.slice(plainFrom, end);
}

export function maskSecrets(text: string, secrets: readonly string[]): string {
  const list = usable(secrets);
  if (list.length === 0) return text;
  return render(text, coverage(text, list).covered, text.length, false);
}

export interface Masker {
  /** The masked output that is safe to emit now; may hold back the chunk's end. */
  push(chunk: string): string;
  /** The masked rest; the masker is then empty, ready for a new stream. */
  flush(): string;
}

export function createMasker(secrets: readonly string[]): Masker {
  const list = usable(secrets);
  const longest = Math.max(0, ...list.map((s) => s.length));
  let pending = "";
  // How many characters at the start of `pending` belong to a secret that began before it.
  let carried = 0;
  // Whether the output so far ends inside a mask, so a secret continuing it adds no second mask.
  let open = false;

  /** Where the text that might still become part of a secret begins. */
  const holdFrom = (text: string): number => {
    for (let at = Math.max(0, text.length - longest + 1); at < text.length; at++) {
      const tail = text.slice(at);
      if (list.some((s) => s.length > tail.length && s.startsWith(tail))) return at;
    }
    return text.length;
  };

  return {
    push(chunk) {
      if (list.length === 0) return chunk;
      const text = pending + chunk;
      const { covered, occurrences } = coverage(text, list, carried);
      const cut = holdFrom(text);
      const out = render(text, covered, cut, open);
      // Secrets found before the cut may reach past it; the held text starts inside them.
      const reach = occurrences.reduce((far, [start, end]) => (start < cut ? Math.max(far, end) : far), carried);
      carried = Math.max(0, reach - cut);
      if (cut > 0) open = covered[cut - 1] === 1;
      pending = text.slice(cut);
      return out;
    },
    flush() {
      if (list.length === 0) return "";
      const out = render(pending, coverage(pending, list, carried).covered, pending.length, open);
      [pending, carried, open] = ["", 0, false];
      return out;
    },
  };
}
