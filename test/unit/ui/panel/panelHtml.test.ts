import * as assert from 'assert';
import { contentSecurityPolicy, makeNonce, panelHtml } from '../../../../src/ui/panel/panelHtml';

const parts = {
  cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
  nonce: makeNonce(),
  toolkitUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/toolkit.min.js',
  scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/panel.js',
  styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/panel.css',
};

describe('panel HTML', () => {
  const html = panelHtml(parts);

  it('carries a strict Content-Security-Policy with the nonce', () => {
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
    assert.ok(meta, 'no CSP meta');
    const csp = meta[1].replace(/&#39;|&apos;/g, "'");
    assert.strictEqual(csp, contentSecurityPolicy(parts.cspSource, parts.nonce));
    const directives = Object.fromEntries(
      csp
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([k, ...v]) => [k, v]),
    );
    assert.deepStrictEqual(directives['default-src'], ["'none'"]);
    assert.deepStrictEqual(directives['script-src'], [`'nonce-${parts.nonce}'`]);
    assert.deepStrictEqual(directives['style-src'], [parts.cspSource, `'nonce-${parts.nonce}'`]);
    assert.deepStrictEqual(directives['font-src'], [parts.cspSource]);
    assert.ok(!/unsafe-inline|unsafe-eval|\*/.test(csp), csp);
    // the CSP meta comes before anything that loads
    assert.ok(html.indexOf('Content-Security-Policy') < html.indexOf('<link'));
  });

  it('puts the nonce on every script and loads scripts only from the given URIs', () => {
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.strictEqual(scripts.length, 2);
    for (const [, attrs, body] of scripts) {
      assert.ok(attrs.includes(`nonce="${parts.nonce}"`), attrs);
      assert.strictEqual(body.trim(), '', 'inline script body');
      const src = /src="([^"]*)"/.exec(attrs)?.[1];
      assert.ok(src === parts.toolkitUri || src === parts.scriptUri, src);
    }
  });

  it('runs the panel script after the toolkit has defined its elements', () => {
    const toolkit = html.indexOf(parts.toolkitUri);
    const script = html.indexOf(parts.scriptUri);
    assert.ok(toolkit > 0 && script > toolkit);
    assert.match(html, /<script type="module" [^>]*toolkit\.min\.js/);
    assert.match(html, /<script defer [^>]*panel\.js/);
    // FAST reads its style nonce from here (its focus-visible probe)
    assert.ok(html.includes(`<meta property="csp-nonce" content="${parts.nonce}">`));
  });

  it('has no inline handlers, inline styles or javascript: URLs', () => {
    assert.ok(!/\son[a-z]+\s*=/i.test(html), 'inline handler');
    assert.ok(!/\sstyle\s*=/i.test(html), 'style attribute');
    assert.ok(!/<style/i.test(html), 'style element');
    assert.ok(!/javascript:/i.test(html));
  });

  it('uses a fresh nonce each time and refuses a bad one', () => {
    assert.notStrictEqual(makeNonce(), makeNonce());
    assert.ok(makeNonce().length >= 22);
    assert.throws(() => panelHtml({ ...parts, nonce: `x" onload="alert(1)` }));
    assert.throws(() => panelHtml({ ...parts, nonce: 'short' }));
  });

  it('escapes the URIs it is given', () => {
    const h = panelHtml({ ...parts, scriptUri: 'https://x/"><script>alert(1)</script>' });
    assert.ok(!h.includes('"><script>alert'));
  });
});
