// A worker thread running one of our modules, whether the process runs from the TypeScript sources (tsx: a worker
// does not inherit the loader, so it registers it first) or from compiled JavaScript. Shared by the PDF's content
// streams (publipostage/qr-pool.ts) and the Word letters (publipostage/docx.ts).
import { Worker } from 'node:worker_threads';

/** Starts a worker on `file` (an import.meta.url-relative URL of a .ts module; its .js twin once compiled). */
export function spawnModuleWorker(file: URL): Worker {
  if (file.pathname.endsWith('.ts')) {
    const tsx = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(file.href)}); })`;
    return new Worker(boot, { eval: true });
  }
  return new Worker(file);
}

/** `./name.ts` next to `self` (an import.meta.url) when running from sources, `./name.js` once compiled. */
export function siblingModule(self: string, name: string): URL {
  return new URL(`./${name}${self.endsWith('.ts') ? '.ts' : '.js'}`, self);
}
