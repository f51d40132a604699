// The always-valid confidence interval behind every canary-vs-baseline comparison.
//
// A fixed-horizon test (a t-test, Mann-Whitney) promises its error rate only if it is looked at
// once. A canary analysis looks after every interval and stops at the first bad verdict, so each
// look is another chance of a false alarm: checked continuously, a 5% test fails far more than
// 5% of identical releases. Slipway uses a confidence *sequence* instead: intervals that hold
// at every look at once, with probability at least 1 - alpha, however many looks there are and
// whenever the analysis stops.
//
// The construction is the normal-mixture boundary (Robbins 1970; Howard, Ramdas, McAuliffe &
// Sekhon 2021, "Time-uniform, nonparametric, nonasymptotic confidence sequences", eq. for the
// two-sided normal mixture), the same one behind the mixture SPRT of Johari, Pekelis & Walsh
// ("Always valid inference", 2017). For an estimate d of a difference theta whose variance is V
// (shrinking as samples arrive), and a normal mixing distribution N(0, tau^2) over the effects,
//
//   L = sqrt(V / (V + tau^2)) * exp(tau^2 (d - theta)^2 / (2 V (V + tau^2)))
//
// is a (test) martingale under theta, so by Ville's inequality it ever exceeds 1/alpha with
// probability at most alpha. The values of theta where it does not form the interval
//
//   d +- sqrt(V (1 + V / tau^2) * ln((1 + tau^2 / V) / alpha^2)).
//
// The normal shape of d is the central-limit approximation (the guarantee is asymptotic, as for
// any test on counts of this size); the judge guards the small counts where it is poor with a
// minimum sample count and pseudo-counts, and the bench and the unit tests measure the false-
// alarm rate it actually keeps.
//
// The mixing scale tau: the interval is narrowest, at the moment it matters, when tau^2 is a few
// times V there. Solving "the interval just excludes an effect of size e" gives V ~ e^2 / 9 at
// alpha 0.05, where the best tau^2 is ~8 V ~ e^2: tau should be about the size of the smallest
// effect worth catching fast. The judge picks it per metric kind from the allowed degradation
// and the baseline's scale (see `mixtureScale` in compare.ts); the width depends on tau only
// through a logarithm, so a choice within a factor of a few of the best costs little.

/** Half the width of the (1 - alpha) always-valid interval around an estimate of variance `variance`. */
export function confidenceHalfWidth(variance: number, tau: number, alpha: number): number {
  if (!(variance > 0)) return 0;
  const tau2 = tau > 0 ? tau * tau : variance;
  return Math.sqrt(variance * (1 + variance / tau2) * Math.log((1 + tau2 / variance) / (alpha * alpha)));
}

