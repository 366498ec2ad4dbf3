// Unit tests of node/ui/trust.js, the browser's own check of the signed charter and the
// committee's decisions. Run by the e2e suite (`cargo test -p hubnet-node --test e2e ui_js`, see
// tests/e2e/ui_js.rs), or directly with Node.js 20:
//
//   node --experimental-default-type=module --test tests/ui/
//
// With HUBNET_TRUST_FIXTURE naming a JSON file written by that Rust test, the module is also held
// against the Rust implementation (hubnet_protocol::governance) on the same signed bytes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';

import {
  IDENTITY, P, SCHEMAS as S, charterBytes, compress, decompress, encodeMessage, establishTrust,
  fromHex, isLanguageTag, judgeKey, keyProblem, pinCheck, PIN_KEY, pointAdd, pointMul, isIdentity,
  toHex, verifyEd25519, signatureProblem,
} from '../../node/ui/trust.js';

// Node.js 18 has WebCrypto, but not yet as a global.
if (!globalThis.crypto) globalThis.crypto = (await import('node:crypto')).webcrypto;

// --- Keys and signatures (Node's own Ed25519, independent of the module under test).

function keyPair(seedByte) {
  const seed = Buffer.alloc(32, seedByte);
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const secret = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const pub = createPublicKey(secret).export({ format: 'der', type: 'spki' }).subarray(12);
  return { secret, public: new Uint8Array(pub), hex: Buffer.from(pub).toString('hex') };
}

function signWith(pair, tag, bytes) {
  const msg = Buffer.concat([Buffer.from(tag), Buffer.of(0), Buffer.from(bytes)]);
  return new Uint8Array(sign(null, msg, pair.secret));
}

const sha = (b) => createHash('sha256').update(b).digest('hex');
const enc = new TextEncoder();

// --- Edwards25519 vectors.

const RFC8032_KEYS = [
  'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
  'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
  '278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e',
];
// The eight points of small order (orders 1, 2, 4, 4, 8, 8, 8, 8).
const SMALL_ORDER = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
];
const BASE = '5866666666666666666666666666666666666666666666666666666666666666';

function checkKey(hex, want) {
  assert.equal(keyProblem(fromHex(hex)), want, hex);
}

test('honest keys (RFC 8032 test keys and fresh ones) are accepted', () => {
  for (const k of RFC8032_KEYS) checkKey(k, null);
  for (let i = 1; i < 6; i++) checkKey(keyPair(i).hex, null);
  checkKey(BASE, null);
});

test('the eight small-order points are refused as small order', () => {
  for (const k of SMALL_ORDER) {
    const d = decompress(fromHex(k));
    assert.ok(d.point, k);
    assert.ok(isIdentity(pointMul(d.point, 8n)), `${k} has order dividing 8`);
    checkKey(k, 'small-order');
  }
});

test('a mixed-order point (base point + an order-8 point) is refused for its torsion', () => {
  const b = decompress(fromHex(BASE)).point;
  for (const t of SMALL_ORDER.slice(1)) {
    const mixed = compress(pointAdd(b, decompress(fromHex(t)).point));
    assert.equal(keyProblem(mixed), 'torsion', toHex(mixed));
  }
  // A honest key plus a torsion point too.
  const a = decompress(fromHex(RFC8032_KEYS[0])).point;
  const mixed = compress(pointAdd(a, decompress(fromHex(SMALL_ORDER[4])).point));
  assert.equal(keyProblem(mixed), 'torsion');
});

test('non-canonical encodings, non-points and wrong lengths are refused', () => {
  // y = p + k encodes the same y as k: find a k whose point exists and is not small order.
  let found = 0;
  for (let k = 2n; k < 19n; k++) {
    const canonical = new Uint8Array(32);
    const alias = new Uint8Array(32);
    let a = k;
    let b = P + k;
    for (let i = 0; i < 32; i++) {
      canonical[i] = Number(a & 0xffn);
      alias[i] = Number(b & 0xffn);
      a >>= 8n;
      b >>= 8n;
    }
    const d = decompress(canonical);
    if (d.problem === 'not-a-point') continue;
    found++;
    assert.equal(keyProblem(alias), 'non-canonical', toHex(alias));
  }
  assert.ok(found > 0, 'some y < 19 is on the curve');
  // The identity with the sign bit set (x = 0, "negative").
  checkKey('0100000000000000000000000000000000000000000000000000000000000080', 'non-canonical');
  // y = 2 has no x on the curve (checked: the decoder says so, and it is not a point of order 8).
  const notPoints = [];
  for (let k = 2; k < 40 && notPoints.length < 3; k++) {
    const b = new Uint8Array(32);
    b[0] = k;
    if (decompress(b).problem === 'not-a-point') notPoints.push(toHex(b));
  }
  assert.ok(notPoints.length > 0);
  for (const k of notPoints) checkKey(k, 'not-a-point');
  assert.equal(keyProblem(new Uint8Array(31)), 'length');
  assert.ok(isIdentity(IDENTITY));
});

test('a signature whose R is the identity is refused before WebCrypto sees it', async () => {
  const sig = new Uint8Array(64);
  sig.set(fromHex(SMALL_ORDER[0]), 0);
  assert.equal(signatureProblem(sig), 'small-order');
  assert.equal(await verifyEd25519(fromHex(RFC8032_KEYS[0]), sig, new Uint8Array()), false);
  // RFC 8032 test 1 verifies.
  const good = fromHex(
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  );
  assert.equal(await verifyEd25519(fromHex(RFC8032_KEYS[0]), good, new Uint8Array()), true);
});

test('vocabularies: checked in the charter, extended by decision, never redefined', async () => {
  const names = (en) => localized({ en, ru: 'ру', kk: 'қаз' });
  const vocabulary = {
    topics: [{ slug: 'training', name: names('Training') }],
    reform_areas: [{ slug: 'accountability', name: names('Accountability') }],
    indicators: [{ code: 'hub:x', name: names('X'), unit: 'percent', higher_is_better: true, reform_area: 'accountability' }],
  };
  const withVocabulary = charterBytes(charterModel({ vocabulary }));
  const trust = await checkCharter(bundle(signedCharter(withVocabulary)), null);
  assert.deepEqual(trust.state.vocabulary.indicators.map((i) => i.higher_is_better), [true]);
  // An empty vocabulary is no vocabulary: the field is left out, and the bytes stay canonical.
  assert.deepEqual(charterBytes(charterModel({ vocabulary: { topics: [], reform_areas: [], indicators: [] } })), CHARTER);
  const bad = [
    [{ ...vocabulary, topics: [{ slug: 'Training', name: names('T') }] }, /"Training" is not a valid slug/],
    [{ ...vocabulary, topics: [...vocabulary.topics, ...vocabulary.topics] }, /"training" appears twice/],
    [{ ...vocabulary, topics: [{ slug: 'training', name: localized({ en: 'T', ru: 'Т' }) }] }, /training: name: no kk name/],
    [{ ...vocabulary, topics: [{ slug: 'training', name: localized({ en: '\u3000', ru: 'Т', kk: 'Т' }) }] }, /the en name is blank/],
    [{ ...vocabulary, indicators: [{ ...vocabulary.indicators[0], code: 'x' }] }, /"x" is not a valid indicator code/],
    [{ ...vocabulary, indicators: [{ ...vocabulary.indicators[0], unit: 'Per cent' }] }, /unit "Per cent" is not a lower-case slug/],
    [{ ...vocabulary, indicators: [{ ...vocabulary.indicators[0], reform_area: 'nowhere' }] }, /reform area "nowhere" is not one of the reform areas/],
  ];
  for (const [v, detail] of bad) {
    const m = charterModel({ vocabulary: v });
    const bytes = encodeMessage(m, S.charter);
    const t = await checkCharter(bundle(signedCharter(bytes)), { check: 'charter-content' });
    assert.match(failure(t).detail, detail);
  }
  // A non-canonical bool (2 for true) is refused as Rust refuses it.
  const canonical = encodeMessage(charterModel({ vocabulary }), S.charter);
  const at = canonical.findIndex((b, i) => b === 0x20 && canonical[i + 1] === 0x01);
  assert.ok(at > 0);
  const two = Uint8Array.from(canonical);
  two[at + 1] = 0x02;
  await checkCharter(bundle(signedCharter(two)), { check: 'charter-canonical' });
  // Amendments: new entries apply; an existing slug (even with the same definition) is void.
  const net = sha(withVocabulary);
  const add = (additions, seq, prev) => decisionBytes(net, seq, prev, { name: 'amend_vocabulary', value: { additions } });
  const empty = { topics: [], reform_areas: [], indicators: [] };
  const ok = add({ ...empty, topics: [{ slug: 'open-data', name: names('Open data') }] }, 1, null);
  const again = add({ ...empty, topics: [{ slug: 'open-data', name: names('Open data') }] }, 2, ok.id);
  const t = await checkCharter(bundle(signedCharter(withVocabulary), [ok.bytes, again.bytes]), null);
  assert.equal(t.state.status.get(ok.id).status, 'applied');
  assert.equal(t.state.status.get(again.id).status, 'void');
  assert.match(t.state.status.get(again.id).reason, /"open-data" is already in the vocabulary; entries are never redefined/);
  assert.deepEqual(t.state.vocabulary.topics.map((x) => x.slug), ['training', 'open-data']);
});

test('language tags: well-formed BCP 47 only', () => {
  for (const t of ['en', 'ru', 'kk', 'kk-Cyrl-KZ', 'zh-Hant-TW', 'es-419', 'de-CH-1901', 'x-private', 'en-GB-oed', 'sl-rozaj-biske']) {
    assert.ok(isLanguageTag(t), t);
  }
  for (const t of ['', 'e', 'toolonglanguage', 'en_US', 'en-', '-en', 'en--US', '123']) {
    assert.ok(!isLanguageTag(t), t);
  }
});

// --- Charters, decisions, bundles.

const COMMITTEE = [keyPair(100), keyPair(101), keyPair(102)];
// In code order, so that charterModel() encodes canonically as it is.
const MEMBERS = { HUB: keyPair(1), KG: keyPair(3), KZ: keyPair(2) };
const localized = (obj) => ({ text: new Map(Object.entries(obj)) });

function charterModel(overrides = {}) {
  return {
    version: 1n,
    name: localized({ en: 'Test network', ru: 'Тестовая сеть' }),
    members: Object.entries(MEMBERS).map(([code, k]) => ({
      code,
      name: localized({ en: `Member ${code}` }),
      publishing_key: k.public,
    })),
    committee: { keys: COMMITTEE.map((k) => k.public), quorum: 2n },
    limits: {
      max_record_bytes: 262144n, max_clock_skew_secs: 300n, max_short_text_bytes: 512n,
      max_summary_bytes: 4096n, max_body_bytes: 65536n, max_list_items: 32n, max_languages: 16n,
      max_url_bytes: 2048n,
    },
    ...overrides,
  };
}

function signedCharter(bytes, signers = COMMITTEE.slice(0, 2)) {
  return encodeMessage(
    { charter: bytes, signatures: signers.map((k) => ({ key: k.public, signature: signWith(k, 'hubnet-charter-v1', bytes) })) },
    S.signedCharter,
  );
}

function bundle(signedCharterBytes, decisions = []) {
  return encodeMessage({ version: 1n, charter: [signedCharterBytes], decisions }, S.bundle);
}

function decisionBytes(networkId, seq, prev, action, { reason = { en: 'why' }, signers = COMMITTEE.slice(1), createdAt = 1n } = {}) {
  const d = encodeMessage(
    {
      network_id: fromHex(networkId),
      seq: BigInt(seq),
      prev: prev ? fromHex(prev) : new Uint8Array(0),
      created_at: createdAt,
      reason: localized(reason),
      action,
    },
    S.decision,
  );
  const signed = encodeMessage(
    { decision: d, signatures: signers.map((k) => ({ key: k.public, signature: signWith(k, 'hubnet-decision-v1', d) })) },
    S.signedDecision,
  );
  return { bytes: signed, id: sha(d) };
}

const act = {
  rotate: (code, key, last) => ({ name: 'rotate_key', value: { code, new_key: key, old_key_last_seq: BigInt(last) } }),
  revoke: (key, last) => ({ name: 'revoke_key', value: { key, last_valid_seq: BigInt(last) } }),
  suspend: (code, last) => ({ name: 'suspend', value: { code, last_seq: BigInt(last) } }),
  reinstate: (code) => ({ name: 'reinstate', value: { code } }),
  admit: (code, key) => ({ name: 'admit', value: { code, name: localized({ en: code }), publishing_key: key } }),
  limits: (limits, from) => ({ name: 'amend_limits', value: { limits, effective_from: BigInt(from) } }),
};

const CHARTER = charterBytes(charterModel());
const NETWORK = sha(CHARTER);

/** The failing check of a trust result (or null), with its args. */
function failure(trust) {
  const f = trust.checks.find((c) => !c.ok);
  return f ? { ...f.args, check: f.key } : null;
}

async function checkCharter(bundleBytes, want) {
  const trust = await establishTrust(bundleBytes);
  const f = failure(trust);
  if (want === null) {
    assert.equal(f, null, JSON.stringify(f));
    assert.ok(trust.ok);
  } else {
    assert.ok(f, 'a check fails');
    for (const [k, v] of Object.entries(want)) assert.equal(f[k], v, `${k} of ${JSON.stringify(f)}`);
    assert.ok(!trust.ok);
  }
  return trust;
}

test('a charter signed by a quorum of its committee is trusted; network id = SHA-256', async () => {
  const trust = await checkCharter(bundle(signedCharter(CHARTER)), null);
  assert.equal(trust.networkId, NETWORK);
  assert.deepEqual(trust.members.map((m) => m.code), ['HUB', 'KG', 'KZ']);
  assert.deepEqual(trust.checks.map((c) => c.key), [
    'charter-decode', 'charter-keys', 'charter-content', 'charter-canonical', 'charter-signatures', 'decisions',
  ]);
});

test('charter bytes that are not canonical are refused', async () => {
  // Members out of code order.
  const m = charterModel();
  const unsorted = encodeMessage({ ...m, members: [...m.members].reverse() }, S.charter);
  await checkCharter(bundle(signedCharter(unsorted)), { check: 'charter-canonical' });
  // An unknown field appended (field 15, a varint).
  const extra = new Uint8Array([...CHARTER, 0x78, 0x01]);
  await checkCharter(bundle(signedCharter(extra)), { check: 'charter-canonical' });
  // A varint in a longer form than needed (version = 1 as 0x81 0x00).
  assert.equal(CHARTER[0], 0x08);
  assert.equal(CHARTER[1], 0x01);
  const long = new Uint8Array([0x08, 0x81, 0x00, ...CHARTER.subarray(2)]);
  await checkCharter(bundle(signedCharter(long)), { check: 'charter-canonical' });
  // A known field with the wrong wire type does not decode, and says so.
  const wrongWire = new Uint8Array([...CHARTER, 0x30, 0x01]);
  const t = await checkCharter(bundle(signedCharter(wrongWire)), { check: 'charter-decode' });
  assert.match(failure(t).detail, /field vocabulary has wire type 0/);
  // Name entries out of key order.
  const names = encodeMessage({ ...m, name: { text: new Map([['ru', 'Сеть'], ['en', 'Net']]) } }, S.charter);
  await checkCharter(bundle(signedCharter(names)), { check: 'charter-canonical' });
  // Not a charter at all.
  await checkCharter(bundle(signedCharter(new Uint8Array([0x0a, 0x05, 0x01]))), { check: 'charter-decode' });
});

test('charter signatures: outside the committee, twice, bad, below quorum', async () => {
  const outsider = keyPair(77);
  await checkCharter(bundle(signedCharter(CHARTER, [COMMITTEE[0], outsider])), {
    check: 'charter-signatures', reason: 'not-committee', key: keyPair(77).hex,
  });
  await checkCharter(bundle(signedCharter(CHARTER, [COMMITTEE[0], COMMITTEE[0]])), { check: 'charter-signatures', reason: 'duplicate' });
  await checkCharter(bundle(signedCharter(CHARTER, [COMMITTEE[0]])), { check: 'charter-signatures', reason: 'quorum', have: 1 });
  const forged = encodeMessage(
    { charter: CHARTER, signatures: [
      { key: COMMITTEE[0].public, signature: signWith(COMMITTEE[0], 'hubnet-charter-v1', CHARTER) },
      { key: COMMITTEE[1].public, signature: signWith(outsider, 'hubnet-charter-v1', CHARTER) },
    ] },
    S.signedCharter,
  );
  await checkCharter(bundle(forged), { check: 'charter-signatures', reason: 'bad' });
  // Another domain tag is another message.
  const wrongTag = encodeMessage(
    { charter: CHARTER, signatures: COMMITTEE.slice(0, 2).map((k) => ({ key: k.public, signature: signWith(k, 'hubnet-decision-v1', CHARTER) })) },
    S.signedCharter,
  );
  await checkCharter(bundle(wrongTag), { check: 'charter-signatures', reason: 'bad' });
});

test('a forged member key under the real committee list, signed by outsiders, is caught', async () => {
  const attacker = keyPair(66);
  const m = charterModel();
  const forged = charterBytes({
    ...m,
    members: m.members.map((x) => (x.code === 'KZ' ? { ...x, publishing_key: attacker.public } : x)),
  });
  await checkCharter(bundle(signedCharter(forged, [keyPair(67), keyPair(68)])), { check: 'charter-signatures', reason: 'not-committee' });
  // The real committee's signatures over the real bytes do not carry over to the forged bytes.
  const reused = encodeMessage(
    { charter: forged, signatures: COMMITTEE.slice(0, 2).map((k) => ({ key: k.public, signature: signWith(k, 'hubnet-charter-v1', CHARTER) })) },
    S.signedCharter,
  );
  await checkCharter(bundle(reused), { check: 'charter-signatures', reason: 'bad' });
});

test('weak or torsion keys in a charter are refused', async () => {
  const m = charterModel();
  const mixed = compress(pointAdd(decompress(MEMBERS.KZ.public).point, decompress(fromHex(SMALL_ORDER[4])).point));
  const withKey = (key) =>
    encodeMessage({ ...m, members: m.members.map((x) => (x.code === 'KZ' ? { ...x, publishing_key: key } : x)) }, S.charter);
  await checkCharter(bundle(signedCharter(withKey(fromHex(SMALL_ORDER[5])))), { check: 'charter-keys', problem: 'small-order', who: 'KZ' });
  await checkCharter(bundle(signedCharter(withKey(mixed))), { check: 'charter-keys', problem: 'torsion', who: 'KZ' });
  const committee = encodeMessage({ ...m, committee: { keys: [...m.committee.keys.slice(0, 2), mixed], quorum: 2n } }, S.charter);
  await checkCharter(bundle(signedCharter(committee)), { check: 'charter-keys', problem: 'torsion', who: 'committee' });
});

test('charter content rules: quorum, codes, duplicate keys, names, limits', async () => {
  const m = charterModel();
  const cases = [
    [{ committee: { keys: m.committee.keys, quorum: 4n } }, /quorum 4/],
    [{ committee: { keys: m.committee.keys, quorum: 0n } }, /quorum 0/],
    [{ members: [...m.members, { ...m.members[0], code: 'XX' }] }, /member code/],
    [{ members: [...m.members, { ...m.members[0], code: 'TJ' }] }, /same publishing key/],
    [{ name: localized({ en: ' ' }) }, /blank/],
    [{ name: localized({ en_US: 'x' }) }, /BCP 47/],
    [{ version: 2n }, /version/],
    [{ limits: { ...m.limits, max_record_bytes: 10n } }, /max_record_bytes/],
  ];
  for (const [o, re] of cases) {
    const bytes = encodeMessage({ ...m, ...o }, S.charter);
    const trust = await checkCharter(bundle(signedCharter(bytes)), { check: 'charter-content' });
    assert.match(failure(trust).detail, re);
  }
});

async function governed(decisions) {
  const trust = await checkCharter(bundle(signedCharter(CHARTER), decisions.map((d) => d.bytes)), null);
  return trust;
}

function checkJudge(trust, key, seq, want) {
  const j = judgeKey(trust.state, key, BigInt(seq));
  for (const [k, v] of Object.entries(want)) assert.deepEqual(j[k], v, `${k} of ${JSON.stringify(j, (_, x) => (typeof x === 'bigint' ? String(x) : x))}`);
}

test('key validity is positional: rotation, revocation, suspension, reinstatement', async () => {
  const kzNew = keyPair(20);
  const d1 = decisionBytes(NETWORK, 1, null, act.rotate('KZ', kzNew.public, 5));
  const d2 = decisionBytes(NETWORK, 2, d1.id, act.revoke(MEMBERS.KG.public, 3));
  const d3 = decisionBytes(NETWORK, 3, d2.id, act.suspend('HUB', 7));
  const t1 = await governed([d3, d1, d2]); // order of arrival does not matter
  checkJudge(t1, MEMBERS.KZ.hex, 5, { member: 'KZ', ok: true, lastSeq: 5n });
  checkJudge(t1, MEMBERS.KZ.hex, 6, { member: 'KZ', ok: false, limitedBy: { id: d1.id, seq: '1', type: 'rotate_key' } });
  checkJudge(t1, kzNew.hex, 1000, { member: 'KZ', ok: true, lastSeq: null });
  checkJudge(t1, MEMBERS.KG.hex, 4, { ok: false, limitedBy: { id: d2.id, seq: '2', type: 'revoke_key' } });
  checkJudge(t1, MEMBERS.HUB.hex, 7, { ok: true });
  checkJudge(t1, MEMBERS.HUB.hex, 8, { ok: false, limitedBy: { id: d3.id, seq: '3', type: 'suspend' } });
  checkJudge(t1, keyPair(99).hex, 1, { member: null, ok: false });
  // Reinstatement lifts the suspension; a key rotated in while suspended starts at 0.
  const hubNew = keyPair(21);
  const d4 = decisionBytes(NETWORK, 4, d3.id, act.rotate('HUB', hubNew.public, 7));
  const t2 = await governed([d1, d2, d3, d4]);
  checkJudge(t2, hubNew.hex, 1, { ok: false, lastSeq: 0n, limitedBy: { id: d3.id, seq: '3', type: 'suspend' } });
  const d5 = decisionBytes(NETWORK, 5, d4.id, act.reinstate('HUB'));
  const t3 = await governed([d1, d2, d3, d4, d5]);
  checkJudge(t3, hubNew.hex, 1, { ok: true, lastSeq: null });
  checkJudge(t3, MEMBERS.HUB.hex, 8, { ok: false });
  // Revoked twice: the smaller last seq counts.
  const d6 = decisionBytes(NETWORK, 6, d5.id, act.revoke(MEMBERS.KG.public, 9));
  const d7 = decisionBytes(NETWORK, 7, d6.id, act.revoke(MEMBERS.KG.public, 2));
  const t4 = await governed([d1, d2, d3, d4, d5, d6, d7]);
  checkJudge(t4, MEMBERS.KG.hex, 3, { ok: false, lastSeq: 2n, limitedBy: { id: d7.id, seq: '7', type: 'revoke_key' } });
  assert.equal(t4.state.status.get(d6.id).status, 'applied');
});

test('void decisions change nothing; forks take the smallest id; a gap ends the chain', async () => {
  const newKey = keyPair(30);
  // Admitting an existing code is void, and so its key is no member's.
  const v = decisionBytes(NETWORK, 1, null, act.admit('KZ', newKey.public));
  const t1 = await governed([v]);
  assert.equal(t1.state.status.get(v.id).status, 'void');
  checkJudge(t1, newKey.hex, 1, { member: null });
  // Two decisions at seq 1: the smaller id is on the chain, the other is off it.
  const a = decisionBytes(NETWORK, 1, null, act.suspend('KG', 1), { reason: { en: 'a' } });
  const b = decisionBytes(NETWORK, 1, null, act.suspend('KZ', 1), { reason: { en: 'b' } });
  const t2 = await governed([a, b]);
  const [win, lose] = a.id < b.id ? [a, b] : [b, a];
  assert.equal(t2.state.status.get(win.id).status, 'applied');
  assert.equal(t2.state.status.get(lose.id).status, 'off_chain');
  const suspended = win === a ? MEMBERS.KG : MEMBERS.KZ;
  const free = win === a ? MEMBERS.KZ : MEMBERS.KG;
  checkJudge(t2, suspended.hex, 2, { ok: false });
  checkJudge(t2, free.hex, 2, { ok: true });
  // A decision at seq 3 with no seq 2 is off chain and changes nothing.
  const gap = decisionBytes(NETWORK, 3, win.id, act.revoke(free.public, 0));
  const t3 = await governed([a, b, gap]);
  assert.equal(t3.state.status.get(gap.id).status, 'off_chain');
  checkJudge(t3, free.hex, 2, { ok: true });
  // Rotating to a key that is (or was) someone's is void.
  const reuse = decisionBytes(NETWORK, 2, win.id, act.rotate('KZ', MEMBERS.KG.public, 3));
  const t4 = await governed([a, b, reuse]);
  assert.equal(t4.state.status.get(reuse.id).status, 'void');
  checkJudge(t4, MEMBERS.KG.hex, 100, { member: 'KG' });
});

test('a decision that fails makes the whole view untrusted, naming it', async () => {
  const outsider = keyPair(55);
  const cases = [
    [decisionBytes(NETWORK, 1, null, act.suspend('KZ', 1), { signers: [COMMITTEE[0], outsider] }), 'not-committee'],
    [decisionBytes(NETWORK, 1, null, act.suspend('KZ', 1), { signers: [COMMITTEE[0]] }), 'quorum'],
    [decisionBytes(NETWORK, 1, null, act.suspend('KZ', 1), { signers: [COMMITTEE[0], COMMITTEE[0]] }), 'duplicate'],
    [decisionBytes(sha('another network'), 1, null, act.suspend('KZ', 1)), 'network'],
    [decisionBytes(NETWORK, 2, null, act.suspend('KZ', 1)), 'field'],
    [decisionBytes(NETWORK, 1, null, act.suspend('XX', 1)), 'field'],
    [decisionBytes(NETWORK, 1, null, act.rotate('KZ', fromHex(SMALL_ORDER[6]), 1)), 'key'],
    [decisionBytes(NETWORK, 1, null, act.admit('TJ', compress(pointAdd(decompress(keyPair(31).public).point, decompress(fromHex(SMALL_ORDER[7])).point)))), 'key'],
  ];
  for (const [d, reason] of cases) {
    const trust = await establishTrust(bundle(signedCharter(CHARTER), [d.bytes]));
    const f = failure(trust);
    assert.equal(f?.check, 'decisions', reason);
    assert.equal(f.reason, reason);
    assert.equal(f.id, d.id);
    assert.ok(!trust.ok);
  }
  // A bad signature over the decision bytes.
  const good = decisionBytes(NETWORK, 1, null, act.suspend('KZ', 1));
  const flipped = good.bytes.slice();
  flipped[flipped.length - 1] ^= 1;
  const trust = await establishTrust(bundle(signedCharter(CHARTER), [flipped]));
  assert.equal(failure(trust).reason, 'bad');
});

// --- Pinning.

function memoryStorage(initial = {}) {
  const m = new Map(Object.entries(initial));
  return {
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => m.set(k, String(v)),
    removeItem: (k) => m.delete(k),
    map: m,
  };
}

test('the first trusted network id is pinned; another one later is a mismatch', async () => {
  const storage = memoryStorage();
  const trust = await establishTrust(bundle(signedCharter(CHARTER)));
  assert.deepEqual(pinCheck(trust, storage), { key: 'pin', ok: true, args: { state: 'new', id: NETWORK } });
  assert.equal(storage.map.get(PIN_KEY), NETWORK);
  assert.equal(pinCheck(trust, storage).args.state, 'match');
  const reader = memoryStorage();
  assert.equal(pinCheck(trust, reader, { pinFirst: false }).args.state, 'none');
  assert.equal(reader.map.size, 0, 'a reading check pins nothing');
  // Another network's charter, fully valid in itself.
  const other = charterBytes(charterModel({ name: localized({ en: 'Another network' }) }));
  const otherTrust = await establishTrust(bundle(signedCharter(other)));
  assert.ok(otherTrust.ok);
  const c = pinCheck(otherTrust, storage);
  assert.equal(c.ok, false);
  assert.deepEqual(c.args, { state: 'mismatch', id: sha(other), pinned: NETWORK });
  assert.equal(storage.map.get(PIN_KEY), NETWORK, 'a mismatch never replaces the pin');
  // An untrusted charter is never pinned.
  const fresh = memoryStorage();
  const bad = await establishTrust(bundle(signedCharter(CHARTER, [COMMITTEE[0]])));
  assert.equal(pinCheck(bad, fresh).args.state, 'untrusted');
  assert.equal(fresh.map.size, 0);
  // Storage the browser refuses.
  const refusing = { getItem() { throw new Error('denied'); } };
  assert.equal(pinCheck(trust, refusing).args.state, 'unavailable');
});

// --- Against the Rust implementation, on bytes it produced.

const fixturePath = process.env.HUBNET_TRUST_FIXTURE;
test('agrees with hubnet_protocol on the sample network and its decisions', { skip: !fixturePath && 'HUBNET_TRUST_FIXTURE not set' }, async () => {
  const fx = JSON.parse(readFileSync(fixturePath, 'utf8'));
  const trust = await establishTrust(new Uint8Array(Buffer.from(fx.bundle, 'base64')));
  assert.equal(failure(trust), null);
  assert.equal(trust.networkId, fx.network_id);
  for (const [id, status] of Object.entries(fx.status)) {
    assert.equal(trust.state.status.get(id)?.status, status, `decision ${id}`);
  }
  const v = trust.state.vocabulary;
  assert.deepEqual(v.topics.map((t) => t.slug), fx.vocabulary.topics);
  assert.deepEqual(v.reform_areas.map((t) => t.slug), fx.vocabulary.reform_areas);
  assert.deepEqual(v.indicators.map((i) => i.code), fx.vocabulary.indicators);
  for (const k of fx.keys) {
    const j = judgeKey(trust.state, k.key, 1n);
    assert.equal(j.member, k.member, k.key);
    assert.equal(j.lastSeq === null ? null : Number(j.lastSeq), k.last_seq, `last seq of ${k.key}`);
  }
  for (const c of fx.refused) {
    const t = await establishTrust(new Uint8Array(Buffer.from(c.bundle, 'base64')));
    const f = failure(t);
    assert.equal(f?.check, c.check, c.what);
    for (const [k, v] of Object.entries(c.want ?? {})) assert.equal(f[k], v, `${k}: ${c.what}`);
  }
  assert.equal(toHex(enc.encode('')), '');
});

test('the rate limit: 0 is no limit, so raising to 0 applies and lowering from 0 is void', async () => {
  const base = charterModel().limits;
  // The test charter names no rate limit (field 9 absent): a limit of 1000 lowers it.
  const lower = decisionBytes(NETWORK, 1, null, act.limits({ ...base, max_records_per_hour: 1000n }, 10));
  const t1 = await governed([lower]);
  assert.equal(t1.state.status.get(lower.id).status, 'void');
  // A charter with 1000 per hour (field 9 present, canonical): 5000 and 0 (none) raise it, 10
  // lowers it.
  const rated = charterBytes(charterModel({ limits: { ...base, max_records_per_hour: 1000n } }));
  const status = async (perHour) => {
    const d = decisionBytes(sha(rated), 1, null, act.limits({ ...base, max_records_per_hour: perHour }, 10));
    const t = await checkCharter(bundle(signedCharter(rated), [d.bytes]), null);
    return t.state.status.get(d.id).status;
  };
  assert.equal(await status(5000n), 'applied');
  assert.equal(await status(0n), 'applied');
  assert.equal(await status(10n), 'void');
});
