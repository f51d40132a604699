import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { createMasker, maskSecrets } from "./mask.ts";

/** Streams `chunks` through a masker and joins what it emits. */
function streamed(secrets: string[], chunks: string[]): string {
  const masker = createMasker(secrets);
  return chunks.map((c) => masker.push(c)).join("") + masker.flush();
}

describe("masking secrets", () => {
  it("replaces every occurrence of each secret", () => {
    assert.equal(maskSecrets("token=s3cr3t; again s3cr3t.", ["s3cr3t"]), "token=***; again ***.");
    assert.equal(maskSecrets("user hunter2 pass p4ssw0rd", ["p4ssw0rd", "hunter2"]), "user *** pass ***");
  });

  it("hides a longer secret whole, not only the shorter secret inside it", () => {
    assert.equal(maskSecrets("key: abcd-efgh-ijkl", ["efgh", "abcd-efgh-ijkl"]), "key: ***");
  });

  it("leaves no piece of overlapping secrets visible", () => {
    assert.equal(maskSecrets("xxabcdefg!", ["xxab", "abcdefg"]), "***!");
  });

  it("ignores secrets shorter than 4 characters", () => {
    assert.equal(maskSecrets("yes, 1 and abc", ["yes", "1", "abc", ""]), "yes, 1 and abc");
  });

  it("never emits a secret split across two chunks", () => {
    const masker = createMasker(["s3cr3t-value"]);
    const out = [masker.push("login with s3cr"), masker.push("3t-val"), masker.push("ue done\n"), masker.flush()];
    assert.equal(out.join(""), "login with *** done\n");
    assert.ok(!out[0]!.includes("s3cr"), "the start of a possible secret is held back");
  });

  it("emits text at once when it can not be the start of a secret", () => {
    const masker = createMasker(["s3cr3t"]);
    assert.equal(masker.push("plain line\n"), "plain line\n");
    assert.equal(masker.push("ends with s3"), "ends with ");
    assert.equal(masker.push("x\n"), "s3x\n");
    assert.equal(masker.flush(), "");
  });

  it("masks a stream cut anywhere exactly as it masks the whole text", () => {
    // A small alphabet so that secrets, their prefixes and overlaps occur often.
    const text = fc.string({ unit: fc.constantFrom("a", "b", "c", "\n"), maxLength: 60 });
    const secrets = fc.array(fc.string({ unit: fc.constantFrom("a", "b", "c"), minLength: 1, maxLength: 7 }), { maxLength: 4 });
    fc.assert(
      fc.property(text, secrets, fc.array(fc.nat(60)), (whole, list, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
        const chunks = [0, ...points].map((from, i) => whole.slice(from, [...points, whole.length][i]));
        const expected = maskSecrets(whole, list);
        assert.equal(streamed(list, chunks), expected);
        for (const secret of list.filter((s) => s.length >= 4)) assert.ok(!expected.includes(secret), `'${secret}' left in '${expected}'`);
      }),
      { numRuns: 2000 },
    );
  });
});
