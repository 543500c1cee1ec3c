// Assembles the WebAssembly kernels (src/image/wasm/*.wat) with wabt's wat2wasm (Debian: apt-get
// install wabt) into TypeScript modules holding their bytes, so that Node and the browser load them
// without a file or a fetch. test/image/wasm-kernels.test.ts checks that the committed bytes are
// what this script makes of the committed source.
//   node --import tsx scripts/build-wasm.ts

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assembleWat, KERNELS, kernelModuleSource } from './wasm-assemble.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'image', 'wasm');
for (const k of KERNELS) {
  writeFileSync(join(dir, k.module), kernelModuleSource(k, assembleWat(join(dir, k.source))));
  console.log(`${k.source} → ${k.module}`);
}
