// Runs every case of one rules family through the gradient harness, one test per case, and ends with a
// summary diagnostic: the largest errors against PyTorch and against finite differences.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CheckOptions, checkCase, loadCases, loadGoldens } from '../../helpers/grad-check.ts';

export function describeFamily(family: string, opts: CheckOptions = {}): void {
  const cases = loadCases(family);
  describe(`${family} gradient rules`, () => {
    const worst = { golden: 0, goldenAt: '', fd: 0, fdAt: '', fdChecked: 0 };
    it('has cases', () => assert.ok(cases.length > 0, `no ${family} cases in cases.json`));
    for (const c of cases) {
      it(c.id, async () => {
        const r = await checkCase(c, loadGoldens()[c.id], opts);
        if (r.goldenErr >= worst.golden) [worst.golden, worst.goldenAt] = [r.goldenErr, c.id];
        if (r.fdErr >= worst.fd) [worst.fd, worst.fdAt] = [r.fdErr, c.id];
        worst.fdChecked += r.fdChecked;
        assert.deepEqual(r.failures, []);
      });
    }
    it('summary', (t) => {
      t.diagnostic(
        `${family}: ${cases.length} cases; max rel err vs PyTorch ${worst.golden.toExponential(2)} (${worst.goldenAt}); ` +
          `vs finite differences ${worst.fd.toExponential(2)} (${worst.fdAt}) over ${worst.fdChecked} elements`,
      );
    });
  });
}
