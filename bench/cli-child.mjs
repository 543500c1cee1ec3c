// The child processes of bench/cli.ts, in plain JavaScript on the compiled library (dist/, built by
// the benchmark first), so that both sides run what `gradsight` runs (bin/gradsight.js) and neither pays
// for a TypeScript loader:
//   --cli <gradsight args...>                      the CLI itself (dist/cli/main.js)
//   --forward <model dir> <inputs.npy> <threads> [--explain]
//                                                  load the model, one forward per row (batch 1);
//                                                  then explain() over the rows in the CLI's batches
// Each reports, on stderr after a marker line, its time since process start and its peak RSS.

const MARK = 'GRADSIGHT_BENCH ';
const [mode, ...args] = process.argv.slice(2);

/** CPU time of the whole process so far (every thread: ONNX Runtime's, the image worker's, libvips'). */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const report = (extra) => {
  const r = {
    ms: performance.now(),
    cpuMs: cpuMs(),
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    ...extra,
  };
  process.stderr.write(`\n${MARK}${JSON.stringify(r)}\n`);
};

if (mode === '--cli') {
  const { main } = await import('../dist/cli/main.js');
  // Its start, as the baseline's: node and the entry module's imports (commands import more on demand).
  const startMs = performance.now();
  const code = await main(['node', 'gradsight', ...args]);
  report({ code, startMs });
} else if (mode === '--forward') {
  const [modelDir, npy, threads, explain] = args;
  const { openImageModel } = await import('../dist/model/open-node.js');
  const { readNpy } = await import('../dist/tensor/npy-node.js');
  const { float32 } = await import('../dist/tensor/tensor.js');
  const t = await readNpy(npy);
  const per = t.data.length / t.dims[0];
  const rows = Array.from({ length: t.dims[0] }, (_, i) =>
    float32(t.data.slice(i * per, (i + 1) * per), [1, ...t.dims.slice(1)]),
  );
  const t0 = performance.now();
  const model = await openImageModel(modelDir, Number(threads) ? { threads: Number(threads) } : {});
  const loaded = performance.now();
  for (const row of rows) await model.run(row);
  const done = performance.now();
  const extra = { loadMs: loaded - t0, forwardMs: done - loaded, startMs: t0, baseCpuMs: cpuMs() };
  if (explain === '--explain') {
    // explain() over the same tensors in batches of the CLI's default --batch (8), as the CLI calls it.
    const { Explainer } = await import('../dist/explain/explainer.js');
    const ex = Explainer.fromModel(model);
    const batches = [];
    for (let i = 0; i < rows.length; i += 8) {
      const n = Math.min(8, rows.length - i);
      batches.push(float32(t.data.slice(i * per, (i + n) * per), [n, ...t.dims.slice(1)]));
    }
    const c0 = performance.now();
    await ex.explain(batches[0], { method: 'gradcam' }); // compiles the gradient model
    extra.coldExplainMs = performance.now() - c0;
    const e0 = performance.now();
    for (const b of batches) await ex.explain(b, { method: 'gradcam' });
    extra.explainMs = performance.now() - e0;
  }
  report({ ...extra, ms: done });
} else {
  throw new Error(`bench/cli-child.mjs: unknown mode ${mode}`);
}
