// A Node test suite run under the qa-default policy (tests/integration/test_policies.c).
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

test('arithmetic', () => {
  assert.strictEqual(6 * 7, 42);
});

test('files in the temp dir', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ls-'));
  fs.writeFileSync(path.join(dir, 'a.txt'), 'hi');
  assert.strictEqual(fs.readFileSync(path.join(dir, 'a.txt'), 'utf8'), 'hi');
  fs.rmSync(dir, { recursive: true });
});

test('child process', () => {
  assert.strictEqual(execFileSync('sh', ['-c', 'echo child']).toString().trim(), 'child');
});

test('async timers', async () => {
  const t0 = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(Date.now() - t0 >= 15);
});
