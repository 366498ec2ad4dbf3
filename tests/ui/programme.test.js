// Unit tests of the programme page's pure parts: the browser's decoding of signed Programme and
// Confirmation bodies and of an amendment with programme content (node/ui/proto.js, proto3
// `optional double actual` among them), the node's draft JSON held against them
// (node/ui/verify.js `compareContent`), and the state the page derives itself
// (node/ui/confirmations.js `deriveProgramme`) on the cases of the Rust tests in
// protocol/src/confirmations/tests.rs, with the same property: any order of the same facts
// derives the same state. Run with `node --test tests/ui/programme.test.js`.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { decodeBody } from '../../node/ui/proto.js';
import { compareContent } from '../../node/ui/verify.js';
import { deriveProgramme } from '../../node/ui/confirmations.js';
import { concat, len, msg, str, tag, uint, varint } from './pbwriter.js';

const loc = (no, obj) => msg(no, Object.entries(obj).map(([k, v]) => msg(1, str(1, k), str(2, v))));
const packed = (no, values) => len(no, concat(values.map(varint)));
const hexOf = (b) => Buffer.from(b).toString('hex');
const bytes = (n) => new Uint8Array(32).fill(n);

/** A double field (wire type 1, little-endian IEEE 754). */
function dbl(no, value) {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, value, true);
  return concat(tag(no, 1), b);
}

// --- Decoding.

const INSTITUTION = bytes(0x22);

function participantsBytes({ kzAmount = '15000000.50' } = {}) {
  return [
    msg(4, str(1, 'HUB'), packed(3, [1, 5]), msg(4, uint(1, 1), str(2, '120000'), str(3, 'USD'))),
    msg(4, str(1, 'KZ'), packed(3, [3, 2]),
      msg(4, uint(1, 2), str(2, kzAmount), str(3, 'KZT'), loc(4, { en: 'Trainers and venues' }))),
    msg(4, str(1, 'KG'), uint(3, 4)),
    msg(4, len(2, INSTITUTION), packed(3, [3])),
  ];
}

function programmeBytes(options = {}) {
  return concat(
    loc(1, { en: 'Joint e-recruitment programme', ru: 'Совместная программа' }),
    loc(2, { en: 'Three agencies build **one** toolkit.' }),
    loc(3, { en: 'Open competitions online.' }),
    participantsBytes(options),
    uint(5, 2),
    str(6, '2026-01-01'),
    str(7, '2027-12-31'),
    str(8, '2026-02-01'),
    str(10, 'KZ'),
    str(10, 'KG'),
    str(11, 'recruitment'),
    msg(12, str(1, '2026-01-01'), str(2, '2026-12-31'), str(3, options.budget ?? '80000'), str(4, 'USD'), uint(5, 2)),
    msg(12, str(1, '2027-01-01'), str(2, '2027-12-31'), str(3, '40000.00'), str(4, 'USD'), uint(5, 1)),
    msg(13, uint(1, 1), loc(2, { en: 'Recruiters trained' }),
      msg(3, loc(1, { en: 'Recruiters certified' }), uint(2, 1), uint(3, 1), msg(4, dbl(1, 0), uint(2, 2025)),
        msg(5, str(1, '2026-02-01'), str(2, '2026-12-31'), dbl(3, 120), dbl(4, options.actual ?? 87)),
        msg(5, str(1, '2027-01-01'), str(2, '2027-12-31'), dbl(3, 240)))),
    msg(14, len(1, bytes(0x33)), uint(2, 1)),
    len(15, bytes(0x44)),
    len(16, bytes(0x45)),
    len(17, bytes(0x46)),
    len(19, bytes(0x47)),
    len(20, bytes(0x48)),
    uint(21, 1),
  );
}

/** The node's draft JSON of `programmeBytes()`, as `ProgrammeDraft` serialises it. */
function programmeJson() {
  return {
    kind: 'programme',
    title: { en: 'Joint e-recruitment programme', ru: 'Совместная программа' },
    description: { en: 'Three agencies build **one** toolkit.' },
    objectives: { en: 'Open competitions online.' },
    participants: [
      { member: 'HUB', roles: ['lead', 'accountable'], contributions: [{ type: 'cash', amount: '120000', currency: 'USD' }] },
      { member: 'KZ', roles: ['implementing', 'funding'],
        contributions: [{ type: 'in_kind', amount: '15000000.50', currency: 'KZT', description: { en: 'Trainers and venues' } }] },
      { member: 'KG', roles: ['beneficiary'] },
      { institution: hexOf(INSTITUTION), roles: ['implementing'] },
    ],
    status: 'implementation',
    planned_start: '2026-01-01',
    planned_end: '2027-12-31',
    actual_start: '2026-02-01',
    countries: ['KZ', 'KG'],
    topics: ['recruitment'],
    budget: [
      { period_start: '2026-01-01', period_end: '2026-12-31', value: '80000', currency: 'USD', status: 'committed' },
      { period_start: '2027-01-01', period_end: '2027-12-31', value: '40000.00', currency: 'USD', status: 'indicative' },
    ],
    results: [{
      type: 'output',
      title: { en: 'Recruiters trained' },
      indicators: [{
        title: { en: 'Recruiters certified' },
        measure: 'unit',
        ascending: true,
        baseline: { value: 0, year: 2025 },
        periods: [
          { start: '2026-02-01', end: '2026-12-31', target: 120, actual: 87 },
          { start: '2027-01-01', end: '2027-12-31', target: 240 },
        ],
      }],
    }],
    related: [{ id: '33'.repeat(32), relation: 'parent' }],
    practice_ids: ['44'.repeat(32)],
    event_ids: ['45'.repeat(32)],
    reform_profile_ids: ['46'.repeat(32)],
    expert_ids: ['47'.repeat(32)],
    endorsed_by: '48'.repeat(32),
    sample: true,
  };
}

test('a programme decodes with every field, in the draft JSON names', () => {
  const p = decodeBody(9, programmeBytes());
  assert.equal(p.kind, 'programme');
  assert.deepEqual(p.participants[0], {
    member: 'HUB', roles: ['lead', 'accountable'], contributions: [{ type: 'cash', amount: '120000', currency: 'USD', description: null }],
  });
  assert.deepEqual(p.participants[2].roles, ['beneficiary'], 'roles not packed decode the same');
  assert.deepEqual(p.participants[3], { institution: hexOf(INSTITUTION), roles: ['implementing'], contributions: [] });
  assert.equal(p.status, 'implementation');
  assert.equal(p.actual_end, '');
  assert.deepEqual(p.budget.map((b) => b.status), ['committed', 'indicative']);
  const x = p.results[0].indicators[0];
  assert.equal(p.results[0].type, 'output');
  assert.equal(x.measure, 'unit');
  assert.equal(x.ascending, true);
  assert.deepEqual(x.baseline, { value: 0, year: 2025 });
  assert.deepEqual(x.periods, [
    { start: '2026-02-01', end: '2026-12-31', target: 120, actual: 87 },
    { start: '2027-01-01', end: '2027-12-31', target: 240 },
  ]);
  assert.deepEqual(p.related, [{ id: '33'.repeat(32), relation: 'parent' }]);
  assert.deepEqual(p.institution_ids, []);
  assert.equal(p.endorsed_by, '48'.repeat(32));
  assert.equal(p.sample, true);
  assert.deepEqual(compareContent(programmeJson(), p), []);
  // An unknown status is no status; the oneof's last field wins.
  assert.equal(decodeBody(9, uint(5, 9)).status, null);
  assert.deepEqual(decodeBody(9, msg(4, len(2, INSTITUTION), str(1, 'KZ'))).participants[0].member, 'KZ');
});

test('an actual of 0 is reported, an absent one is not (proto3 optional double)', () => {
  const zero = decodeBody(9, programmeBytes({ actual: 0 })).results[0].indicators[0].periods[0];
  assert.equal(zero.actual, 0);
  assert.ok('actual' in zero);
  const none = decodeBody(9, msg(13, msg(3, msg(5, str(1, '2026-01-01'), dbl(3, 5))))).results[0].indicators[0].periods[0];
  assert.ok(!('actual' in none));
  assert.equal(none.target, 5);
  // The node's JSON with the actual left out differs from the signed 0.
  const j = programmeJson();
  delete j.results[0].indicators[0].periods[0].actual;
  assert.deepEqual(compareContent(j, decodeBody(9, programmeBytes({ actual: 0 }))), ['results']);
});

test('the draft JSON of a programme matches what was signed; any difference is named', () => {
  const decoded = decodeBody(9, programmeBytes());
  const differs = (edit, want) => {
    const j = programmeJson();
    edit(j);
    assert.deepEqual(compareContent(j, decoded), want);
  };
  differs((j) => { j.title.en = 'Forged'; }, ['title']);
  differs((j) => { j.participants[1].contributions[0].amount = '1'; }, ['participants']);
  differs((j) => { j.participants.pop(); }, ['participants']);
  differs((j) => { j.results[0].indicators[0].periods[0].actual = 120; }, ['results']);
  differs((j) => { j.budget[0].value = '90000'; }, ['budget']);
  differs((j) => { j.related[0].relation = 'child'; }, ['related']);
  differs((j) => { j.expert_ids = []; }, ['expert_ids']);
  differs((j) => { j.status = 'completion'; }, ['status']);
  differs((j) => { j.sample = false; }, ['sample']);
  // Ids in capitals are the same ids.
  differs((j) => { j.practice_ids = [j.practice_ids[0].toUpperCase()]; }, []);
});

test('terms are participants and budget: a progress change keeps them, a budget change does not', () => {
  const a = decodeBody(9, programmeBytes());
  assert.equal(decodeBody(9, programmeBytes({ actual: 100 })).terms, a.terms);
  assert.notEqual(decodeBody(9, programmeBytes({ budget: '90000' })).terms, a.terms);
  assert.notEqual(decodeBody(9, programmeBytes({ kzAmount: '1' })).terms, a.terms);
  // The order of a localized map is no difference (a map has none).
  const swapped = (order) => decodeBody(9, msg(4, str(1, 'KZ'), uint(3, 3),
    msg(4, uint(1, 2), str(2, '1'), str(3, 'KZT'), msg(4, order.map((k) => msg(1, str(1, k), str(2, k))))))).terms;
  assert.equal(swapped(['en', 'ru']), swapped(['ru', 'en']));
});

test('a confirmation and an amendment with programme content decode', () => {
  const c = decodeBody(10, concat(len(1, bytes(1)), len(2, bytes(2)), loc(3, { en: 'Agreed by the board.' })));
  assert.deepEqual(c, { kind: 'confirmation', programme: hexOf(bytes(1)), version: hexOf(bytes(2)), note: { en: 'Agreed by the board.' } });
  const a = decodeBody(3, concat(len(1, bytes(1)), loc(2, { en: 'Budget raised.' }), len(8, programmeBytes({ budget: '90000' }))));
  assert.equal(a.kind, 'amendment');
  assert.equal(a.content.kind, 'programme');
  assert.equal(a.content.budget[0].value, '90000');
  const j = programmeJson();
  j.budget[0].value = '90000';
  assert.deepEqual(compareContent(j, a.content), []);
});

// --- The state, derived as protocol/src/confirmations.rs derives it.

const id = (n) => n.toString(16).padStart(2, '0').repeat(32);

function version(n, seq, terms, members) {
  return { id: id(n), seq, createdAt: n * 1000, terms: `t${terms}`, members };
}

function confirm(n, member, at, of) {
  return { id: id(n), member, createdAt: at, version: id(of), retracted: null };
}

function standings(facts) {
  const d = deriveProgramme(facts);
  return [d.state, d.participants.map((p) => [p.member, p.standing])];
}

test('the issue walk: proposed, confirmed, a budget amendment, confirmed again, a withdrawal', () => {
  const facts = { author: 'HUB', retracted: false, versions: [version(1, 1, 1, ['HUB', 'KZ', 'KG'])], confirmations: [] };
  assert.deepEqual(standings(facts), ['proposed', [['HUB', 'lead'], ['KZ', 'awaiting'], ['KG', 'awaiting']]]);
  assert.equal(deriveProgramme(facts).inForce, id(1));
  facts.confirmations.push(confirm(10, 'KZ', 10_000, 1));
  assert.equal(standings(facts)[0], 'proposed');
  facts.confirmations.push(confirm(11, 'KG', 11_000, 1));
  assert.deepEqual(standings(facts), ['confirmed', [['HUB', 'lead'], ['KZ', 'confirmed'], ['KG', 'confirmed']]]);
  // A progress amendment keeps the terms.
  facts.versions.push(version(2, 2, 1, ['HUB', 'KZ', 'KG']));
  assert.equal(standings(facts)[0], 'confirmed');
  assert.equal(deriveProgramme(facts).inForce, id(2));
  // A budget amendment changes them.
  facts.versions.push(version(3, 3, 2, ['HUB', 'KZ', 'KG']));
  assert.deepEqual(standings(facts), ['proposed', [['HUB', 'lead'], ['KZ', 'reconfirm'], ['KG', 'reconfirm']]]);
  facts.confirmations.push(confirm(12, 'KZ', 12_000, 3));
  facts.confirmations.push(confirm(13, 'KG', 13_000, 3));
  assert.equal(standings(facts)[0], 'confirmed');
  // KG retracts its confirmation.
  facts.confirmations[3].retracted = { id: id(14), createdAt: 14_000 };
  assert.deepEqual(standings(facts), ['proposed', [['HUB', 'lead'], ['KZ', 'confirmed'], ['KG', 'withdrawn']]]);
  const kg = deriveProgramme(facts).participants[2];
  assert.equal(kg.confirmation, id(13));
  assert.equal(kg.retraction, id(14));
  // KG confirms again later; then the author retracts the programme.
  facts.confirmations.push(confirm(15, 'KG', 15_000, 3));
  assert.equal(standings(facts)[0], 'confirmed');
  facts.retracted = true;
  assert.equal(standings(facts)[0], 'retracted');
});

test('the rule at its edges', () => {
  assert.equal(deriveProgramme({ author: 'HUB', versions: [], confirmations: [] }), null, 'no version held');
  const facts = { author: 'HUB', retracted: false, versions: [version(1, 1, 1, ['HUB', 'KZ'])], confirmations: [] };
  // An older confirmation retracted after a newer one: the latest act is the withdrawal.
  facts.confirmations = [confirm(10, 'KZ', 10_000, 1), confirm(11, 'KZ', 11_000, 1)];
  facts.confirmations[0].retracted = { id: id(12), createdAt: 12_000 };
  assert.deepEqual(standings(facts), ['proposed', [['HUB', 'lead'], ['KZ', 'withdrawn']]]);
  // A retraction in the same millisecond as its confirmation is still after it.
  facts.confirmations = [confirm(10, 'KZ', 10_000, 1)];
  facts.confirmations[0].retracted = { id: id(1), createdAt: 10_000 };
  assert.equal(standings(facts)[1][1][1], 'withdrawn');
  // A confirmation of a version with the same terms counts, whichever version it named.
  facts.versions.push(version(2, 2, 2, ['HUB', 'KZ']));
  facts.versions.push(version(3, 3, 1, ['HUB', 'KZ']));
  facts.confirmations = [confirm(10, 'KZ', 10_000, 1)];
  assert.equal(standings(facts)[0], 'confirmed');
  // A member the version in force no longer lists does not count; one it adds awaits.
  facts.versions.push(version(4, 4, 3, ['HUB', 'KG', 'KG']));
  assert.deepEqual(standings(facts), ['proposed', [['HUB', 'lead'], ['KG', 'awaiting']]]);
  // An erased version in force has no terms: every confirmation must be made again.
  const erased = {
    author: 'HUB',
    retracted: false,
    versions: [{ ...version(1, 1, 1, ['HUB', 'KZ']), terms: null }],
    confirmations: [confirm(10, 'KZ', 10_000, 1)],
  };
  assert.equal(standings(erased)[1][1][1], 'reconfirm');
  // Seqs and times as BigInt (from decoded headers) derive the same.
  const big = {
    ...facts,
    versions: facts.versions.map((v) => ({ ...v, seq: BigInt(v.seq), createdAt: BigInt(v.createdAt) })),
    confirmations: facts.confirmations.map((c) => ({ ...c, createdAt: BigInt(c.createdAt) })),
  };
  assert.deepEqual(deriveProgramme(big), deriveProgramme(facts));
});

/** A small seeded generator (mulberry32), so that a failure can be replayed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled(list, next) {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

test('any order of the same facts derives the same state (as the Rust property test)', () => {
  const MEMBERS = ['HUB', 'KZ', 'KG', 'TJ'];
  for (let seed = 1; seed <= 500; seed++) {
    const next = rng(seed);
    const int = (n) => Math.floor(next() * n);
    const versions = Array.from({ length: 1 + int(3) }, (_, i) => {
      const listed = ['HUB', ...Array.from({ length: int(4) }, () => MEMBERS[int(4)])];
      return version(i + 1, i + 1, int(3), listed);
    });
    const confirmations = Array.from({ length: int(10) }, (_, i) => {
      const at = int(20);
      const c = confirm(100 + i, MEMBERS[int(4)], at, 1 + int(versions.length));
      if (next() < 0.5) c.retracted = { id: id(200 + i), createdAt: at + int(20) };
      return c;
    });
    const facts = { author: 'HUB', retracted: false, versions, confirmations };
    const a = deriveProgramme(facts);
    const b = deriveProgramme({ ...facts, versions: shuffled(versions, next), confirmations: shuffled(confirmations, next) });
    assert.deepEqual(b, a, `seed ${seed}`);
    const all = a.participants.every((p) => p.standing === 'lead' || p.standing === 'confirmed');
    assert.equal(a.state === 'confirmed', all, `seed ${seed}`);
  }
});
