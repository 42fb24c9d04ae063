/* global exports */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS extension, loaded as is */
// The bench's baseline for save-to-diagnostics: on the save of a *.floor.txt file, one diagnostic carrying the
// file's first line, set at once. Whatever this takes is the editor's own round trip, which flowsession cannot go below.
const vscode = require('vscode');

exports.activate = function activate(context) {
  const collection = vscode.languages.createDiagnosticCollection('save-floor');
  context.subscriptions.push(
    collection,
    vscode.workspace.onDidSaveTextDocument((doc) => {
      if (!doc.fileName.endsWith('.floor.txt')) return;
      collection.set(doc.uri, [new vscode.Diagnostic(new vscode.Range(0, 0, 0, 1), doc.lineAt(0).text)]);
    }),
  );
};

exports.deactivate = function deactivate() {};
