// Label selectors: an environment selects the hosts whose labels include all of its pairs.
import { invalidInput } from "../errors.ts";

export type LabelMap = Readonly<Record<string, string>>;

export function matchesSelector(labels: LabelMap, selector: LabelMap): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** Parses `region=eu,role=web` (as typed on a command line or in a query string). */
export function parseSelector(text: string, field = "selector"): Record<string, string> {
  const selector: Record<string, string> = {};
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw invalidInput(`'${part}' is not a key=value label`, [{ field, message: `'${part}' is not a key=value label` }]);
    selector[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return selector;
}
