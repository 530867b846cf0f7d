import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfigOrReport } from '../../src/config/config.ts';

test('loadConfigOrReport: an invalid setting is one readable line and null; a valid one gives the config', () => {
  const lines: string[] = [];
  const err = { write: (s: string) => lines.push(s) };
  assert.equal(loadConfigOrReport(err, { MASKWATCH_INCORRECT_MASK: 'sometimes' }), null);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^maskwatch: invalid configuration: .*MASKWATCH_INCORRECT_MASK.*sometimes.*\n$/);

  const config = loadConfigOrReport(err, { MASKWATCH_INCORRECT_MASK: 'ignore' });
  assert.equal(config?.vision.incorrectMaskPolicy, 'ignore');
  assert.equal(lines.length, 1, 'nothing written for a valid configuration');
});
