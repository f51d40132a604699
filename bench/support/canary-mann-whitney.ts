// The reference judge of the canary bench: a Mann-Whitney U test of the canary's per-interval
// values against the baseline's, as Kayenta (Netflix/Google) and PipeCD judge a canary. Kayenta
// runs it two-sided at confidence 0.98 (its default) and fails the metric when the canary is
// significantly different in the direction that matters. Normal approximation with the
// correction for ties and the continuity correction, as R's wilcox.test does at these sizes.
//
// The test is valid when looked at once, at the end of a window fixed in advance; the bench also
// applies it after every interval, as a tool that stops at the first bad look does, to show what
// repeated looks do to its error rate.

/** erfc(x), Numerical Recipes' Chebyshev fit (relative error < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/** P(Z > z) for a standard normal Z. */
export const normalTail = (z: number): number => 0.5 * erfc(z / Math.SQRT2);

/** The two-sided p-value and the direction of the difference (+1: x tends to be larger than y). */
export function mannWhitney(x: number[], y: number[]): { p: number; direction: -1 | 0 | 1 } {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) return { p: 1, direction: 0 };
  const all = [...x.map((v) => ({ v, fromX: true })), ...y.map((v) => ({ v, fromX: false }))].sort((a, b) => a.v - b.v);
  const n = all.length;
  let rankSumX = 0;
  let ties = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && all[j + 1]!.v === all[i]!.v) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) if (all[k]!.fromX) rankSumX += rank;
    const t = j - i + 1;
    ties += t * t * t - t;
    i = j + 1;
  }
  const u = rankSumX - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1)));
  if (variance <= 0) return { p: 1, direction: 0 };
  const deviation = u - mean;
  const z = (Math.abs(deviation) - 0.5) / Math.sqrt(variance);
  return { p: Math.min(1, 2 * normalTail(Math.max(0, z))), direction: deviation > 0 ? 1 : deviation < 0 ? -1 : 0 };
}

/** Kayenta's verdict on one metric where higher is worse: fail when the canary is significantly higher. */
export function mannWhitneyFails(canary: number[], baseline: number[], confidence = 0.98): boolean {
  const { p, direction } = mannWhitney(canary, baseline);
  return direction > 0 && p < 1 - confidence;
}
