// Headless Chromium for the browser tests (Debian's, driven by playwright-core): where it is, the skip
// message when it is not installed, and the launch flags the environment needs (no sandbox as root, no
// GPU, no background requests that would show up as the page's own).

import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** `false` when Chromium is installed, else the reason to skip (node:test prints it). */
export const skipNoChromium: false | string = existsSync(CHROMIUM)
  ? false
  : `no browser at ${CHROMIUM}; install it with: apt-get install -y chromium`;

export const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
}
