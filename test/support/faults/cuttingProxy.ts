import * as net from 'net';

export interface CuttingProxy {
  /** host:port of the proxy on loopback */
  address: string;
  /** while true, any connection whose answer passes `cutAfterBytes` is torn down mid-transfer */
  cutting: boolean;
  cuts: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 in front of a server (the test registry) that breaks big transfers in the middle,
 * as a network dropping out during a pull does: small answers (manifests) pass, blobs are cut.
 */
export async function startCuttingProxy(target: string, cutAfterBytes = 256 * 1024): Promise<CuttingProxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<net.Socket>();
  const state = { cutting: true, cuts: 0 };
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    sockets.add(client).add(upstream);
    let passed = 0;
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      passed += chunk.length;
      if (state.cutting && passed > cutAfterBytes) {
        state.cuts++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    upstream.on('end', () => client.end());
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    get cutting() {
      return state.cutting;
    },
    set cutting(v: boolean) {
      state.cutting = v;
    },
    get cuts() {
      return state.cuts;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
