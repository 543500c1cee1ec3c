#!/usr/bin/env node
// The published CLI runs the compiled code in dist/ (built by `npm run build`, and by `npm ci` through
// the prepare script).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
