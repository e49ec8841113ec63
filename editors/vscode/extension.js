// Starts `stratum lsp` for .strat files: everything the editor shows beyond
// colours (diagnostics, hover, definitions, completion, formatting, quick
// fixes) comes from the engine through the language server.
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration('stratum').get('path') || 'stratum';
  const server = { command, args: ['lsp'], transport: TransportKind.stdio };
  client = new LanguageClient('stratum', 'Stratum', { run: server, debug: server }, {
    documentSelector: [{ scheme: 'file', language: 'stratum' }],
  });
  client.start().catch((error) => {
    vscode.window.showErrorMessage(`Stratum: could not start \`${command} lsp\` (${error.message}). ` +
      'Set "stratum.path" to the stratum command.');
  });
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
