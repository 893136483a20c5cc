// The page every doctor webview is served in, written once: scripts only from the bundle
// with a per-load nonce, styles and images only from the extension, no network, no frames,
// no inline script, so nothing from the database (a prompt, a process name) can become code;
// resources from dist/ and media/ only, and no retained context (the webview rebuilds from
// its saved state).
import * as vscode from 'vscode';

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media'), vscode.Uri.joinPath(extensionUri, 'dist')],
  };
}

export interface WebviewPageOptions {
  title: string;
  /** The bundle, relative to the extension: `dist/explorer.js`. */
  script: string;
  /** Stylesheets, relative to the extension, in order. */
  styles: string[];
}

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: WebviewPageOptions): string {
  const nonce = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
  const uri = (rel: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...rel.split('/')));
  const csp = [
    `default-src 'none'`,
    `style-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `img-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  const links = page.styles.map((s) => `<link href="${uri(s)}" rel="stylesheet">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${links}
<title>${escapeAttr(page.title)}</title>
</head>
<body>
<script nonce="${nonce}" src="${uri(page.script)}"></script>
</body>
</html>`;
}

function escapeAttr(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
