/// <reference lib="dom" />
/**
 * The API VS Code gives a webview script (acquireVsCodeApi), typed for what the panel sends and saves.
 * It may be acquired once per page load only, so this module holds the one instance.
 */
import type { WebviewMessage } from '../shared/protocol';

export interface WebviewApi<S> {
  postMessage(message: WebviewMessage): void;
  getState(): S | undefined;
  setState(state: S): void;
}

declare function acquireVsCodeApi<S>(): WebviewApi<S>;

let api: WebviewApi<unknown> | undefined;

export function vscodeApi<S>(): WebviewApi<S> {
  api ??= acquireVsCodeApi<unknown>();
  return api as WebviewApi<S>;
}
