// A test as the tests page names it: its name, and the file it lives in.
import type { TestStats } from "../../lib/pipelines.ts";

export function TestName({ test }: { test: Pick<TestStats, "test_id" | "name" | "file"> }) {
  return (
    <span className="test-name" title={test.test_id}>
      {test.name}
      {test.file && <span className="muted test-where"> {test.file}</span>}
    </span>
  );
}
