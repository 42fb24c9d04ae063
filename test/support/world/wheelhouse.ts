import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';

export interface Wheelhouse {
  dir: string;
  /** a find-links page on loopback: the session reaches it with host networking */
  url: string;
  close(): Promise<void>;
}

/** Builds the test wheels and serves them as a pip find-links page on 127.0.0.1. */
export async function startWheelhouse(runDir: string): Promise<Wheelhouse> {
  const dir = path.join(runDir, 'wheelhouse');
  const made = spawnSync('python3', [path.join(__dirname, 'make_wheels.py'), dir], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`Building the test wheels failed: ${made.stderr}`);
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').split('?')[0]).replace(/^\/+/, '');
    if (!name) {
      const links = fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.whl'))
        .map((f) => `<a href="${encodeURIComponent(f)}">${f}</a>`);
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<html><body>${links.join('<br>\n')}</body></html>`);
      return;
    }
    const file = path.join(dir, path.basename(name));
    if (!fs.existsSync(file)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    dir,
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
