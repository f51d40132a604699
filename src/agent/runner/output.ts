// A step's output stream -> log lines: bytes are decoded as UTF-8 (a character cut between two
// chunks is kept whole), secrets are masked (the streaming masker holds back a chunk's end while
// it could still be the start of a secret, so no secret leaks across a chunk boundary, and a
// secret spanning lines is masked too, since masking comes before splitting), then the text is
// split into lines ("\n", a trailing "\r" dropped) and a line longer than MAX_LINE_CHARS is cut
// into pieces of that size.
import { StringDecoder } from "node:string_decoder";
import { createMasker, type Masker } from "../../core/pipeline/mask.ts";

/** The contract's limit on one line's text (JobLogs). */
export const MAX_LINE_CHARS = 16_384;

export class OutputLines {
  readonly #decoder = new StringDecoder("utf8");
  readonly #masker: Masker;
  readonly #maxChars: number;
  #partial = "";

  constructor(secrets: readonly string[], maxChars = MAX_LINE_CHARS) {
    this.#masker = createMasker(secrets);
    this.#maxChars = maxChars;
  }

  /** The complete lines this chunk finishes. */
  push(chunk: Buffer | string): string[] {
    const text = typeof chunk === "string" ? chunk : this.#decoder.write(chunk);
    return this.#split(this.#masker.push(text), false);
  }

  /** The rest, at the end of the stream. */
  end(): string[] {
    return this.#split(this.#masker.push(this.#decoder.end()) + this.#masker.flush(), true);
  }

  #split(text: string, final: boolean): string[] {
    const lines: string[] = [];
    const all = this.#partial + text;
    let from = 0;
    for (let newline = all.indexOf("\n"); newline !== -1; newline = all.indexOf("\n", from)) {
      lines.push(...this.#cut(all.slice(from, newline).replace(/\r$/, "")));
      from = newline + 1;
    }
    let rest = all.slice(from);
    // A line still growing is cut as soon as it is long enough, so it is never held whole.
    while (rest.length > this.#maxChars) {
      const at = pieceEnd(rest, this.#maxChars);
      lines.push(rest.slice(0, at));
      rest = rest.slice(at);
    }
    if (final && rest.length > 0) {
      lines.push(rest.replace(/\r$/, ""));
      rest = "";
    }
    this.#partial = rest;
    return lines;
  }

  #cut(line: string): string[] {
    if (line.length <= this.#maxChars) return [line];
    const pieces: string[] = [];
    while (line.length > 0) {
      const at = line.length <= this.#maxChars ? line.length : pieceEnd(line, this.#maxChars);
      pieces.push(line.slice(0, at));
      line = line.slice(at);
    }
    return pieces;
  }
}

/** Where to cut `text` at most `max` UTF-16 units in, without splitting a surrogate pair. */
function pieceEnd(text: string, max: number): number {
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}
