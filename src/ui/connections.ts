import type * as vscode from 'vscode';
import type { ConnectionSpec } from '../core/runtime/protocol';
import { connectionSpec, upsertConnection, type ConnectionMeta } from './connectionSpec';

const LIST_KEY = 'flowsession.connections';
const secretKey = (name: string) => `flowsession.connection.${name}`;

/** Connections of this workspace: keys in SecretStorage, the rest in workspaceState. Never logged. */
export class ConnectionStore {
  constructor(
    private readonly state: vscode.Memento,
    private readonly secrets: vscode.SecretStorage,
  ) {}

  list(): ConnectionMeta[] {
    return this.state.get<ConnectionMeta[]>(LIST_KEY, []);
  }

  async set(meta: ConnectionMeta, key: string | undefined): Promise<void> {
    if (key !== undefined) await this.secrets.store(secretKey(meta.name), key);
    await this.state.update(LIST_KEY, upsertConnection(this.list(), meta));
  }

  async remove(name: string): Promise<void> {
    await this.secrets.delete(secretKey(name));
    await this.state.update(
      LIST_KEY,
      this.list().filter((c) => c.name !== name),
    );
  }

  /** What a run request carries as `connections`. */
  async forRun(): Promise<Record<string, ConnectionSpec>> {
    const out: Record<string, ConnectionSpec> = {};
    for (const meta of this.list()) out[meta.name] = connectionSpec(meta, await this.secrets.get(secretKey(meta.name)));
    return out;
  }
}
