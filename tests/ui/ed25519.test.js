// The browser's verdict on Ed25519 signatures (node/ui/trust.js `ed25519Verdict`, the function the
// record page's check and the committee-signature checks run) on the committed vectors of the
// signature rule (protocol/tests/vectors/ed25519.json, docs/PROTOCOL.md §1.3): each vector gets
// exactly its `valid`, and a refusal names the check of the vector's defect (the key, R or s).
// Run by `cargo test -p hubnet-node --test e2e ui_js` (which names the vectors file in
// HUBNET_ED25519_VECTORS), or from the repository with Node.js 20:
//
//   node --experimental-default-type=module --test tests/ui/
//
// The same vectors run in headless Chromium, whose WebCrypto is BoringSSL's (tests/e2e/browser.rs);
// here WebCrypto is Node's (OpenSSL).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { ed25519Verdict, fromHex, verifyEd25519 } from '../../node/ui/trust.js';
import { cryptoUnavailable, ed25519Supported } from '../../node/ui/verify.js';

// Node.js 18 has WebCrypto, but not yet as a global (as in trust.test.js).
if (!globalThis.crypto) globalThis.crypto = (await import('node:crypto')).webcrypto;

const path =
  process.env.HUBNET_ED25519_VECTORS ??
  new URL('../../protocol/tests/vectors/ed25519.json', import.meta.url);
const VECTORS = JSON.parse(readFileSync(path, 'utf8')).map((v) => ({
  ...v,
  key: fromHex(v.key),
  message: fromHex(v.message),
  signature: fromHex(v.signature),
}));

/** The check a refusal must name, from the vector's defect (PROTOCOL §1.3's three parts). */
function defectClass(v) {
  if (v.valid) return null;
  if (/^the key /.test(v.defect)) return 'key';
  if (/^R /.test(v.defect)) return 'R';
  if (/^s /.test(v.defect)) return 's';
  throw new Error(`${v.name}: unknown defect ${JSON.stringify(v.defect)}`);
}

test('the modules find WebCrypto as the global `crypto`, and it knows Ed25519', async () => {
  // Browsers (on HTTPS and localhost pages) and Node.js ≥ 19 have WebCrypto as the global
  // `crypto`; the modules use that global and nothing else (Node.js 18: installed above).
  assert.ok(globalThis.crypto?.subtle, 'globalThis.crypto.subtle');
  assert.equal(cryptoUnavailable(), null);
  assert.equal(await ed25519Supported(), true, 'WebCrypto Ed25519 (Node.js ≥ 20)');
});

test('the vectors cover every defect class of the rule', () => {
  assert.ok(VECTORS.length >= 15, `${VECTORS.length} vectors`);
  const classes = new Set(VECTORS.map(defectClass));
  assert.deepEqual([...classes].sort(), ['R', 'key', 's', null].sort());
  // One vector that verify_strict alone accepts, which the key check must refuse.
  assert.ok(VECTORS.some((v) => !v.valid && v.dalek_verify_strict));
});

test('every vector gets the rule’s verdict, and a refusal names the defect’s check', async () => {
  for (const v of VECTORS) {
    const r = await ed25519Verdict(v.key, v.signature, v.message);
    assert.equal(r.ok, v.valid, `${v.name} (${v.how})`);
    assert.equal(r.check, defectClass(v), `${v.name}: ${v.defect} → ${JSON.stringify(r)}`);
    if (defectClass(v) === 'R' && /torsion/.test(v.defect)) assert.equal(r.problem, 'torsion', v.name);
    assert.equal(await verifyEd25519(v.key, v.signature, v.message), v.valid, `verifyEd25519 ${v.name}`);
  }
});

test('a verdict does not depend on its neighbours: every batch size and position', async () => {
  // The UI verifies one signature at a time; this holds the function to that when calls overlap
  // (WebCrypto's promises interleave) and whatever ran before (the key-check cache): each vector
  // at every position of groups of 1 to 4 and 16, run concurrently, its neighbours the other
  // vectors in turn.
  const n = VECTORS.length;
  for (const size of [1, 2, 3, 4, 16]) {
    for (let i = 0; i < n; i++) {
      for (let pos = 0; pos < size; pos++) {
        const group = Array.from({ length: size }, (_, j) => VECTORS[(i + j - pos + n) % n]);
        assert.equal(group[pos], VECTORS[i]);
        const got = await Promise.all(group.map((v) => ed25519Verdict(v.key, v.signature, v.message)));
        got.forEach((r, j) => {
          assert.equal(r.ok, group[j].valid, `${group[j].name} at ${j} of ${size}`);
          assert.equal(r.check, defectClass(group[j]), `${group[j].name} at ${j} of ${size}`);
        });
      }
    }
  }
});

test('other refusals are named: a flipped message bit, wrong lengths', async () => {
  const honest = VECTORS.find((v) => v.valid);
  const message = honest.message.slice();
  message[message.length - 1] ^= 1;
  assert.deepEqual(await ed25519Verdict(honest.key, honest.signature, message), {
    ok: false,
    check: 'equation',
    problem: null,
  });
  const short = await ed25519Verdict(honest.key, honest.signature.subarray(0, 63), honest.message);
  assert.equal(short.check, 'length');
  const key31 = await ed25519Verdict(honest.key.subarray(0, 31), honest.signature, honest.message);
  assert.deepEqual([key31.check, key31.problem], ['key', 'length']);
  assert.equal((await ed25519Verdict(null, honest.signature, honest.message)).check, 'key');
});
