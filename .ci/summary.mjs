// Prints `N passed, N failed` from vitest's JSON report; exits non-zero when anything failed.
import { readFileSync, existsSync } from 'node:fs';

const [file, status] = process.argv.slice(2);
if (!existsSync(file)) {
  console.log('0 passed, 1 failed');
  process.exit(Number(status) || 1);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const passed = report.numPassedTests ?? 0;
// Suites that failed to load count as failures too.
const failedSuites = (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0).length;
let failed = (report.numFailedTests ?? 0) + failedSuites;
// A run that failed for another reason (an unhandled error, a type error before vitest) counts as one failure.
if (failed === 0 && Number(status) !== 0) failed = 1;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || Number(status) !== 0 ? 1 : 0);
