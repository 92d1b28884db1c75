// A JavaScript plugin that tries what a plugin must not do. The host's tests
// (tests/tests/all/plugin_languages.rs) check that each attempt is stopped.

export function metadata() {
  return {
    name: 'hostile-js',
    version: '0.1.0',
    actions: ['spin', 'grow', 'fetch', 'crash'].map((name) => ({
      name,
      description: 'misbehaves',
      takesFile: false,
      takesRecords: false,
    })),
  };
}

export function run(action, input) {
  if (action === 'spin') {
    for (;;) {}
  }
  if (action === 'grow') {
    const hoard = [];
    for (;;) hoard.push('x'.repeat(1_000_000) + hoard.length);
  }
  if (action === 'fetch') {
    // The engine's fetch goes to wasi:http, which the wallet does not offer.
    fetch('http://127.0.0.1:9/steal');
    return { message: 'fetch returned' };
  }
  if (action === 'crash') {
    return null.boom;
  }
  throw { tag: 'invalid-input', val: `unknown action ${action}` };
}
