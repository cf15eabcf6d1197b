// Mocha root plugin (.mocharc.json `require`): fills the upstream-data cache from ../shared once, before any test
// file runs (in the main process, also with --parallel), and says once why some tests will be pending.
import { inCI, missingPrerequisites } from "./prerequisites";

export function mochaGlobalSetup(): void {
  for (const reason of missingPrerequisites())
    console.log(`\n  ${inCI() ? "FAILING (CI is set)" : "PENDING"}: tests that need it: ${reason}\n`);
}
