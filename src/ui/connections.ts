import type * as vscode from 'vscode';
import type { ConnectionShape, ConnectionSpec } from '../core/runtime/protocol';
import { connectionShape, connectionSpec, secretNamesOf, upsertConnection, type ConnectionMeta } from './connectionSpec';

const LIST_KEY = 'flowsession.connections';
/** all secrets of a connection, as one JSON object */
const secretsKey = (name: string) => `flowsession.connectionSecrets.${name}`;
/** the single key older versions kept (the api_key of any type) */
const legacyKey = (name: string) => `flowsession.connection.${name}`;

/** Connections of this workspace: secrets in SecretStorage, the rest in workspaceState. Never logged. */
export class ConnectionStore {
  constructor(
    private readonly state: vscode.Memento,
    private readonly secrets: vscode.SecretStorage,
  ) {}

  list(): ConnectionMeta[] {
    return this.state.get<ConnectionMeta[]>(LIST_KEY, []);
  }

  /**
   * Saves a connection. `secrets` maps each secret name to its new value, or to undefined to keep the stored
   * one; stored secrets the connection no longer names are dropped.
   */
  async set(meta: ConnectionMeta, secrets: Record<string, string | undefined>): Promise<void> {
    const stored = await this.secretsOf(meta.name);
    const names = secretNamesOf(meta);
    const next: Record<string, string> = {};
    for (const n of names) {
      const v = secrets[n] ?? stored[n];
      if (v !== undefined) next[n] = v;
    }
    await this.secrets.store(secretsKey(meta.name), JSON.stringify(next));
    await this.secrets.delete(legacyKey(meta.name));
    await this.state.update(LIST_KEY, upsertConnection(this.list(), { ...meta, secretNames: names }));
  }

  async remove(name: string): Promise<void> {
    await this.secrets.delete(secretsKey(name));
    await this.secrets.delete(legacyKey(name));
    await this.state.update(
      LIST_KEY,
      this.list().filter((c) => c.name !== name),
    );
  }

  /** The stored secrets of a connection (an older workspace's single key reads as api_key). */
  async secretsOf(name: string): Promise<Record<string, string>> {
    const raw = await this.secrets.get(secretsKey(name));
    if (raw !== undefined) {
      try {
        const parsed = JSON.parse(raw) as unknown;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
          return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
      } catch {
        return {};
      }
    }
    const legacy = await this.secrets.get(legacyKey(name));
    return legacy ? { api_key: legacy } : {};
  }

  /** What a run request carries as `connections`. */
  async forRun(): Promise<Record<string, ConnectionSpec>> {
    const out: Record<string, ConnectionSpec> = {};
    for (const meta of this.list()) out[meta.name] = connectionSpec(meta, await this.secretsOf(meta.name));
    return out;
  }

  /** What validation on save checks node inputs against; undefined while none is set (then nothing is checked). */
  shapes(): Record<string, ConnectionShape> | undefined {
    const list = this.list();
    return list.length ? Object.fromEntries(list.map((m) => [m.name, connectionShape(m)])) : undefined;
  }
}
