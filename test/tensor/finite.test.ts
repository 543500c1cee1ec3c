import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allFinite, firstNonFinite } from '../../src/tensor/finite.ts';

// The oracle: Number.isFinite per value.
const naiveFirst = (a: Float32Array) => a.findIndex((v) => !Number.isFinite(v));

test('allFinite and firstNonFinite agree with Number.isFinite for every position and bad value', () => {
  for (const n of [0, 1, 3, 4, 5, 7, 8, 9, 33]) {
    const a = Float32Array.from({ length: n }, (_, i) => (i % 5) - 2.5 + i * 1e30);
    assert.equal(allFinite(a), true, `all finite, n=${n}`);
    assert.equal(firstNonFinite(a), -1);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (let i = 0; i < n; i++) {
        const b = a.slice();
        b[i] = bad;
        if (i + 2 < n) b[i + 2] = bad;
        assert.equal(allFinite(b), false, `n=${n} bad ${bad} at ${i}`);
        assert.equal(firstNonFinite(b), naiveFirst(b));
      }
    }
  }
});

test('the largest finite floats and subnormals are finite', () => {
  const a = Float32Array.of(3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -0, 0);
  assert.equal(allFinite(a), true);
  assert.equal(allFinite(Float64Array.of(Number.MAX_VALUE, -Number.MAX_VALUE)), true);
});

test('long arrays: a bad value anywhere, chunk edges included, is found; Float64Array too', () => {
  for (const n of [4095, 4096, 4097, 8193, 150528]) {
    const a = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 1e3);
    assert.equal(allFinite(a), true, `n=${n}`);
    for (const at of [0, 1, 4095, 4096, 4097, n - 5, n - 4, n - 1].filter((i) => i >= 0 && i < n)) {
      for (const bad of [Number.NaN, Number.NEGATIVE_INFINITY]) {
        const b = a.slice();
        b[at] = bad;
        assert.equal(allFinite(b), false, `n=${n} ${bad} at ${at}`);
        assert.equal(firstNonFinite(b), at);
        const d = Float64Array.from(b);
        assert.equal(allFinite(d), false, `float64 n=${n} at ${at}`);
      }
    }
  }
});
