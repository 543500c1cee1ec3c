// sharp (libvips) as gradsight loads it: through require(), not import. Node's ES module loader scans
// every CommonJS file that an import reaches for its export names (cjs-module-lexer), and sharp's ES
// build imports a CommonJS colour library: the scan runs hot enough for V8 to optimize the lexer, twice
// per thread that loads sharp (the CLI's main thread and its image worker), ~70–90 ms of CPU each
// against ~40 ms for the whole require(). Every module of gradsight takes sharp from here.

import { createRequire } from 'node:module';
import type SharpModule from 'sharp';

const sharp: typeof SharpModule = createRequire(import.meta.url)('sharp');
export default sharp;
