/**
 * Under CI a failed test runs once more (vitest.config.ts: retry), so that one unlucky scheduling on a loaded
 * machine does not discard a whole run; but a test that needed it is named, never hidden: this reporter prints
 * each one with its first failure, and with VITEST_RETRIED=path appends them there (.ci/run prints that file).
 */
import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestCase } from 'vitest/node';

export default class RetryReporter implements Reporter {
  onTestCaseResult(test: TestCase): void {
    const d = test.diagnostic();
    if (!d || d.retryCount === 0) return;
    const state = test.result().state;
    const what = `${relative(process.cwd(), test.module.moduleId)} > ${test.fullName}`;
    // The runner keeps the errors of the attempts that failed on the task's result (a field the public TestCase type
    // does not declare; without it the line still names the test).
    const task = (test as unknown as { task?: { result?: { errors?: Array<{ message?: string }> } } }).task;
    const first = (task?.result?.errors ?? [])[0];
    const why = first ? String(first.message ?? first).split('\n')[0]!.slice(0, 300) : 'no error recorded';
    const line = `RETRIED ${what}: ${state} after ${d.retryCount} retr${d.retryCount === 1 ? 'y' : 'ies'} (first failure: ${why})`;
    console.error(`\n${line}\n`);
    if (process.env.VITEST_RETRIED) appendFileSync(process.env.VITEST_RETRIED, `${line}\n`);
  }
}
