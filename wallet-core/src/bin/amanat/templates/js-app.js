// {{name}}: an Amanat plugin in JavaScript.
//
// The wallet calls `metadata` to learn its actions and `run` to run one;
// everything it reads or proposes goes through the host, checked against the
// permissions in amanat-plugin.json. A refused host call throws an error
// whose `payload` is the wallet's reason; to fail, throw { tag, val } with a
// tag of the interface's plugin-error: 'invalid-input', 'denied' or 'failed'.

import { listRecords, log } from 'amanat:plugin/host@0.1.0';

export function metadata() {
  return {
    name: '{{name}}',
    version: '0.1.0',
    actions: [{ name: 'hello', description: 'Says hello and counts your test results', takesFile: false, takesRecords: false }],
  };
}

export function run(action, input) {
  if (action !== 'hello') throw { tag: 'invalid-input', val: `unknown action '${action}'` };
  let results;
  try {
    results = listRecords('Observation');
  } catch (e) {
    throw { tag: 'denied', val: String(e.payload ?? e) };
  }
  log('info', `listed ${results.length} results`);
  return { message: `Hello from {{name}}: you have ${results.length} test results.` };
}
