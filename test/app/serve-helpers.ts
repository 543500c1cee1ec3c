// Shared by the browser-app tests: build the app, start `gradsight serve` as a user would (a child
// process), open headless Chromium (Debian's, driven by playwright-core) and record every request.

import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildApp } from '../../scripts/build-app.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { repoRoot } from '../helpers/shared.ts';

export { skipNoChromium } from '../helpers/chromium.ts';

let built: Promise<string> | undefined;
/** Builds app/dist once per test process. */
export const ensureApp = (): Promise<string> => {
  built ??= buildApp();
  return built;
};

export interface Served {
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  stop(): Promise<number | null>;
}

/** Runs `gradsight serve ...args` and resolves with the URL it prints. */
export async function serve(args: readonly string[]): Promise<Served> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'serve', ...args],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no URL in 30 s:\n${out}`)), 30_000);
    const look = () => {
      const m = /gradsight app: (http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', look);
    child.on('exit', () => reject(new Error(`serve exited:\n${out}`)));
  });
  return {
    url,
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}

export interface Tab {
  readonly page: Page;
  /** Every URL the page (and its workers) requested. */
  readonly requests: string[];
  readonly problems: string[];
}

export const launch = launchChromium;

export async function openTab(browser: Browser): Promise<Tab> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
  const page = await context.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  // Context-level: also the worker's fetches (the .wasm, the ORT glue) and its own threads' scripts.
  context.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  return { page, requests, problems };
}

export interface PageMap {
  readonly method: string;
  readonly target: { index?: number; label: string; counterfactual: boolean };
  readonly width: number;
  readonly height: number;
  readonly map: number[];
}

export interface PageResult extends PageMap {
  readonly seq: number;
  readonly maps: PageMap[];
  readonly predictions: { index: number; label: string; probability: number }[];
}

/** Waits for window.gradsightResult newer than `after` (its seq), and reads it as plain numbers. */
export async function nextResult(page: Page, after = 0, timeout = 90_000): Promise<PageResult> {
  await page.waitForFunction(
    (s) => {
      const w = window as unknown as { gradsightResult?: { seq: number }; gradsightError?: { seq: number } };
      return (w.gradsightResult?.seq ?? 0) > s || (w.gradsightError?.seq ?? 0) > s;
    },
    after,
    { timeout, polling: 100 },
  );
  const r = await page.evaluate(() => {
    const w = window as unknown as {
      gradsightResult?: { seq: number; maps: { map: Float32Array }[] };
      gradsightError?: { seq: number; message: string };
    };
    if ((w.gradsightError?.seq ?? 0) > (w.gradsightResult?.seq ?? 0))
      return { error: w.gradsightError!.message };
    const g = w.gradsightResult!;
    return { ...g, map: undefined, maps: g.maps.map((m) => ({ ...m, map: Array.from(m.map) })) };
  });
  if ('error' in r) throw new Error(`the page shows an error: ${r.error}`);
  const res = r as unknown as PageResult;
  return { ...res, ...res.maps[0]!, seq: res.seq, maps: res.maps, predictions: res.predictions };
}

export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Requests to anything but the served origin (blob: and data: URLs are made in the page). */
export function foreignRequests(requests: readonly string[], origin: string): string[] {
  return requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'));
}

/** Waits for an error newer than `after` (its seq) and returns what the page shows. */
export async function nextError(
  page: Page,
  after: number,
  timeout = 60_000,
): Promise<{ seq: number; code: string; shown: string }> {
  await page.waitForFunction(
    (s) => ((window as unknown as { gradsightError?: { seq: number } }).gradsightError?.seq ?? 0) > s,
    after,
    { timeout, polling: 100 },
  );
  const e = await page.evaluate(
    () => (window as unknown as { gradsightError: { seq: number; code: string } }).gradsightError,
  );
  const box = page.locator('#message');
  return { seq: e.seq, code: e.code, shown: (await box.isVisible()) ? await box.innerText() : '' };
}

/** The latest seq of a result or an error (0 before any). */
export function lastSeq(page: Page): Promise<number> {
  return page.evaluate(() => {
    const w = window as unknown as { gradsightResult?: { seq: number }; gradsightError?: { seq: number } };
    return Math.max(w.gradsightResult?.seq ?? 0, w.gradsightError?.seq ?? 0);
  });
}
