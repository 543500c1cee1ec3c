// gradsight serve [model] [images...]: the browser app on 127.0.0.1 (a free port unless --port), with
// the model and images given served beside it; the printed URL opens the app with them loaded and
// explains the first image. Runs until Ctrl-C.

import { realpath } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { GradsightError } from '../../errors.ts';
import { METHOD_IDS } from '../../methods/table.ts';
import { folderRoutes, modelRoutes, startStaticServer } from '../../serve/static-server.ts';
import { expandImageArgs } from '../inputs.ts';
import { Interrupted, type InterruptSignal, InterruptWatch } from '../interrupt.ts';
import type { CliIo } from '../main.ts';
import { nonNegativeInt, oneOf } from '../options.ts';

interface ServeOpts {
  port: number;
  method?: string;
  target?: string;
  counterfactual?: boolean;
  app?: string;
}

/** The built app: app/dist at the package root (src/cli/commands/ and dist/cli/commands/ are both 3 below). */
export const APP_DIR = fileURLToPath(new URL('../../../app/dist/', import.meta.url));

export function serveCommand(io: CliIo): Command {
  return new Command('serve')
    .description(
      'open the browser app on 127.0.0.1 (nothing leaves the machine), optionally with a model and images',
    )
    .argument('[model]', 'an .onnx file, or a folder with model.onnx, labels.txt and preprocess.json')
    .argument('[images...]', 'images (files, folders or globs); the first is explained when the page opens')
    .option('--port <n>', 'port (default 0: a free one)', nonNegativeInt('--port'), 0)
    .option(
      '-m, --method <id>',
      'method the page explains with (default gradcam)',
      oneOf('--method', METHOD_IDS),
    )
    .option('-t, --target <t>', 'target the page explains (pred, top:3, a class index or label, a-vs-b)')
    .option('--counterfactual', 'explain the counterfactual')
    .option('--app <dir>', 'serve this built app instead of the one shipped (for development)')
    .action(async (model: string | undefined, imageArgs: string[], o: ServeOpts) => {
      const appDir = o.app ?? APP_DIR;
      const routes = await folderRoutes(appDir, '/').catch(() => new Map<string, string>());
      if (!routes.has('/index.html')) {
        throw new GradsightError(
          'file-not-found',
          `the browser app is not built (no index.html in ${appDir})`,
          {
            hint: 'run npm run build:app in the gradsight checkout',
          },
        );
      }
      const query = new URLSearchParams();
      if (model !== undefined) query.set('model', await modelRoutes(model, routes));
      const images = await expandImageArgs(imageArgs);
      for (const [i, image] of images.entries()) {
        const url = `/images/${i}/${encodeURIComponent(basename(image))}`;
        routes.set(url, await realpath(image));
        query.append('image', url);
      }
      if (o.method) query.set('method', o.method);
      if (o.target) query.set('target', o.target);
      if (o.counterfactual) query.set('counterfactual', '1');
      const server = await startStaticServer({ routes }, o.port);
      // Slashes left readable: they are legal in a query string.
      const q = query.toString().replaceAll('%2F', '/');
      io.out(`gradsight app: ${server.url}${q ? `?${q}` : ''}\n`);
      io.out('serving on 127.0.0.1 only; press Ctrl-C to stop\n');
      const watch = new InterruptWatch();
      try {
        const signal = await new Promise<InterruptSignal>((resolve) => {
          watch.onSignal(() => resolve(watch.signal!));
        });
        await server.close();
        throw new Interrupted(signal, 'server stopped');
      } finally {
        watch.dispose();
      }
    });
}
