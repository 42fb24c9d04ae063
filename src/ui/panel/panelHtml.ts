/**
 * The session panel's HTML: a fixed shell, the stylesheet and two scripts, under a strict
 * Content-Security-Policy. No flow data is ever written into the HTML; the webview script fills the
 * page from messages, as text. Pure (no 'vscode') so tests can check the policy.
 */
import * as crypto from 'crypto';

export interface PanelHtmlParts {
  /** webview.cspSource */
  cspSource: string;
  nonce: string;
  /** asWebviewUri of dist/webview/toolkit.min.js, dist/webview/panel.js and media/panel.css */
  toolkitUri: string;
  scriptUri: string;
  styleUri: string;
}

/** 128 random bits, base64: a fresh one for every HTML the panel is given. */
export function makeNonce(): string {
  return crypto.randomBytes(16).toString('base64');
}

function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return ["default-src 'none'", `script-src 'nonce-${nonce}'`, `style-src ${cspSource} 'nonce-${nonce}'`, `font-src ${cspSource}`].join(
    '; ',
  );
}

export function panelHtml(p: PanelHtmlParts): string {
  if (!/^[A-Za-z0-9+/=]{16,}$/.test(p.nonce)) throw new Error('panelHtml: bad nonce');
  const nonce = attr(p.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(p.cspSource, p.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta property="csp-nonce" content="${nonce}">
<link rel="stylesheet" nonce="${nonce}" href="${attr(p.styleUri)}">
<title>Flow Session</title>
</head>
<body>
<main id="app" aria-live="polite"><p class="muted">Loading the session…</p></main>
<script type="module" nonce="${nonce}" src="${attr(p.toolkitUri)}"></script>
<script defer nonce="${nonce}" src="${attr(p.scriptUri)}"></script>
</body>
</html>
`;
}
