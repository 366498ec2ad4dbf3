// Unit tests of the web UI's reform profiles: the browser's decoding of a signed ReformProfile
// (node/ui/proto.js: doubles as fixed64, the amendment's oneof), its comparison with the node's
// draft JSON and with the cells of a comparison (node/ui/verify.js, end to end on records signed
// here under a charter the browser trusts), and the texts people read (node/ui/profile.js: every
// value with its unit and year, missing values said as missing). Run like tests/ui/trust.test.js.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';

import { decodeBody, double, fields, ProtoError, readFields } from '../../node/ui/proto.js';
import { compareColumn, compareContent, verifyRecord } from '../../node/ui/verify.js';
import { SCHEMAS as S, charterBytes, encodeMessage, establishTrust } from '../../node/ui/trust.js';
import {
  cellText, changeDirection, changeText, compareQuery, countProblem, fmtValueYear, readCompare,
  reformChangeText, stateText, textBlocks, unitLabel,
} from '../../node/ui/profile.js';

if (!globalThis.crypto) globalThis.crypto = (await import('node:crypto')).webcrypto;

// --- A protobuf writer, independent of the module under test (tests/ui/pbwriter.js).

import { concat, len, msg, str, tag, uint, utf8, varint } from './pbwriter.js';
function dbl(no, x) {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, x, true);
  return concat(tag(no, 1), b);
}
const loc = (no, obj) => msg(no, Object.entries(obj).map(([k, v]) => msg(1, str(1, k), str(2, v))));
const measure = (no, value, year) => msg(no, dbl(1, value), uint(2, year));
const hexOf = (b) => Buffer.from(b).toString('hex');
const EVIDENCE = new Uint8Array(32).fill(7);
const PREVIOUS = new Uint8Array(32).fill(9);

/** A reform profile's body: two reforms, a value, a value with source and baseline, a n/a. */
function profileBytes({ value = 71.5, sample = true } = {}) {
  return concat(
    loc(1, { en: 'Kazakhstan 2026', ru: 'Казахстан 2026' }),
    str(2, 'KZ'),
    str(3, '2026-06-30'),
    msg(4, str(1, '2025-07'), str(2, '2026-06')),
    str(5, 'public-service-hrm'),
    str(5, 'pay'),
    msg(6, loc(1, { en: 'Pay scale' }), uint(2, 4), str(3, 'pay'),
      msg(4, loc(1, { en: 'Civil Service Law' }), str(2, '416-V'), str(3, '2015-11-23'), str(4, 'https://example.org/law')),
      loc(5, { en: 'Agency' }), msg(6, str(1, '2018')), loc(7, { en: 'Narrow the pay gap' })),
    msg(6, loc(1, { en: 'Ethics' }), uint(2, 3)),
    msg(7, str(1, 'hub:merit-recruitment-share'), measure(2, value, 2025), str(4, 'percent'),
      msg(5, loc(1, { en: 'Annual report' }), str(2, 'https://example.org/r'), str(3, 'CC-BY-4.0')),
      measure(6, 61, 2019), measure(7, 90, 2030)),
    msg(7, str(1, 'hub:vacancy-fill-days'), measure(2, 41, 2025)),
    msg(7, str(1, 'hub:training-hours-per-employee'), loc(3, { en: 'New system, no data yet' })),
    loc(8, { en: 'Summary' }),
    loc(9, { en: '## Findings\n\n- one' }),
    loc(10, { en: '- a challenge' }),
    loc(11, { en: '1. a step' }),
    len(12, EVIDENCE),
    len(13, PREVIOUS),
    str(14, 'CC-BY-4.0'),
    sample ? uint(15, 1) : null,
  );
}

/** The node's draft JSON of `profileBytes()`. */
function profileJson() {
  return {
    kind: 'reform_profile',
    title: { en: 'Kazakhstan 2026', ru: 'Казахстан 2026' },
    as_of: '2026-06-30',
    country: 'KZ',
    period: { start: '2025-07', end: '2026-06' },
    reform_areas: ['public-service-hrm', 'pay'],
    reforms: [
      {
        title: { en: 'Pay scale' },
        status: 'completed',
        reform_area: 'pay',
        legal_act: { name: { en: 'Civil Service Law' }, number: '416-V', date: '2015-11-23', url: 'https://example.org/law' },
        lead_institution: { en: 'Agency' },
        period: { start: '2018' },
        objectives: { en: 'Narrow the pay gap' },
      },
      { title: { en: 'Ethics' }, status: 'in-implementation' },
    ],
    indicators: [
      {
        code: 'hub:merit-recruitment-share',
        value: 71.5,
        year: 2025,
        unit: 'percent',
        source: { name: { en: 'Annual report' }, url: 'https://example.org/r', license: 'CC-BY-4.0' },
        baseline: { value: 61, year: 2019 },
        target: { value: 90, year: 2030 },
      },
      { code: 'hub:vacancy-fill-days', value: 41, year: 2025 },
      { code: 'hub:training-hours-per-employee', not_available: { en: 'New system, no data yet' } },
    ],
    summary: { en: 'Summary' },
    findings: { en: '## Findings\n\n- one' },
    challenges: { en: '- a challenge' },
    next_steps: { en: '1. a step' },
    evidence: [hexOf(EVIDENCE)],
    previous: hexOf(PREVIOUS),
    license: 'CC-BY-4.0',
    sample: true,
  };
}

// --- Decoding.

test('a reform profile decodes with every field, doubles read from fixed64', () => {
  const p = decodeBody(5, profileBytes());
  assert.equal(p.kind, 'reform_profile');
  assert.equal(p.country, 'KZ');
  assert.equal(p.as_of, '2026-06-30');
  assert.deepEqual(p.period, { start: '2025-07', end: '2026-06' });
  assert.deepEqual(p.reform_areas, ['public-service-hrm', 'pay']);
  assert.deepEqual(p.reforms.map((r) => r.status), ['completed', 'in-implementation']);
  assert.equal(p.reforms[0].legal_act.number, '416-V');
  assert.equal(p.reforms[1].legal_act, null);
  const [a, b, c] = p.indicators;
  assert.equal(a.value, 71.5);
  assert.equal(a.year, 2025);
  assert.deepEqual(a.baseline, { value: 61, year: 2019 });
  assert.deepEqual(a.target, { value: 90, year: 2030 });
  assert.equal(a.source.license, 'CC-BY-4.0');
  assert.equal(b.value, 41);
  assert.equal(b.source, null);
  assert.ok(!('value' in c) && !('year' in c), 'no Measure, no value (never 0)');
  assert.deepEqual(c.not_available, { en: 'New system, no data yet' });
  assert.deepEqual(p.evidence, [hexOf(EVIDENCE)]);
  assert.equal(p.previous, hexOf(PREVIOUS));
  assert.equal(p.sample, true);
  assert.equal(decodeBody(5, profileBytes({ sample: false })).sample, false);
});

test('fixed64 fields are kept apart: read as doubles, never taken for bytes or varints', () => {
  const bytes = concat(dbl(1, -2.25), dbl(1, 3.5), uint(2, 7));
  const read = readFields(bytes);
  assert.equal(read[0].wire, 1);
  assert.ok(read[0].value.fixed64 instanceof Uint8Array && read[0].value.fixed64.length === 8);
  const f = fields(bytes);
  assert.equal(double(f, 1), 3.5, 'the last occurrence wins');
  assert.equal(double(f, 9), 0, 'absent is 0');
  assert.throws(() => double(f, 2), ProtoError);
  // A title (LocalizedText, length-delimited) sent as a fixed64 is refused, not misread.
  assert.throws(() => decodeBody(5, concat(dbl(1, 1), str(2, 'KZ'))), ProtoError);
  // A Measure's value sent as a varint is refused.
  assert.throws(() => decodeBody(5, msg(7, str(1, 'x'), msg(2, uint(1, 5), uint(2, 2025)))), ProtoError);
  // A truncated fixed64.
  assert.throws(() => readFields(concat(tag(1, 1), new Uint8Array(7))), ProtoError);
});

test('an amendment decodes its content oneof as prost does: the last field present wins', () => {
  const practice = msg(3, loc(1, { en: 'A practice' }));
  const profile = len(5, profileBytes());
  const target = len(1, new Uint8Array(32).fill(1));
  assert.equal(decodeBody(3, concat(target, practice, profile)).content.kind, 'reform_profile');
  assert.equal(decodeBody(3, concat(target, profile, practice)).content.kind, 'practice');
  // Repeats of the winning field merge; another field of the oneof in between resets it.
  const merged = decodeBody(3, concat(target, msg(5, str(2, 'KZ')), msg(5, str(3, '2026-06-30')))).content;
  assert.equal(merged.country, 'KZ');
  assert.equal(merged.as_of, '2026-06-30');
  const reset = decodeBody(3, concat(target, msg(5, str(2, 'KZ')), practice, msg(5, str(3, '2026-06-30')))).content;
  assert.equal(reset.country, '');
  assert.equal(reset.as_of, '2026-06-30');
});

// --- The node's JSON against the signed bytes.

test('the draft JSON of a profile matches what was signed; any difference is named', () => {
  const decoded = decodeBody(5, profileBytes());
  assert.deepEqual(compareContent(profileJson(), decoded), []);
  const differs = (edit, want) => {
    const j = profileJson();
    edit(j);
    assert.deepEqual(compareContent(j, decoded), want);
  };
  differs((j) => { j.indicators[0].value = 71.6; }, ['indicators[0].value']);
  differs((j) => { j.indicators[0].year = 2024; }, ['indicators[0].year']);
  differs((j) => { delete j.indicators[1].year; }, ['indicators[1].year']);
  differs((j) => { j.indicators[2].value = 0; j.indicators[2].year = 2025; }, ['indicators[2].value', 'indicators[2].year']);
  differs((j) => { j.indicators[2].not_available.en = 'other'; }, ['indicators[2].not_available']);
  differs((j) => { j.indicators[0].unit = 'days'; }, ['indicators[0].unit']);
  differs((j) => { j.indicators[0].baseline.year = 2018; }, ['indicators[0].baseline']);
  differs((j) => { j.indicators.pop(); }, ['indicators']);
  differs((j) => { j.reforms[1].status = 'completed'; }, ['reforms[1].status']);
  differs((j) => { j.reforms[0].reform_area = 'training'; }, ['reforms[0].reform_area']);
  differs((j) => { j.reforms[0].legal_act.number = '1'; }, ['reforms[0].legal_act']);
  differs((j) => { j.reforms.reverse(); }, ['reforms[0].title', 'reforms[0].status', 'reforms[0].reform_area',
    'reforms[0].lead_institution', 'reforms[0].objectives', 'reforms[0].period', 'reforms[0].legal_act',
    'reforms[1].title', 'reforms[1].status', 'reforms[1].reform_area', 'reforms[1].lead_institution',
    'reforms[1].objectives', 'reforms[1].period', 'reforms[1].legal_act']);
  differs((j) => { j.title.en = 'Forged'; }, ['title']);
  differs((j) => { j.findings.en = 'Forged'; }, ['findings']);
  differs((j) => { delete j.sample; }, ['sample']);
  differs((j) => { j.as_of = '2026-06-29'; }, ['as_of']);
  differs((j) => { j.reform_areas = ['pay']; }, ['reform_areas']);
  differs((j) => { delete j.previous; }, ['previous']);
  differs((j) => { j.evidence = []; }, ['evidence']);
  differs((j) => { j.period.end = '2026-05'; }, ['period']);
  differs((j) => { j.kind = 'practice'; }, ['kind']);
});

/** A compare column and its cells, as `GET /api/v1/compare` gives them for `profileBytes()`. */
function column(record) {
  const codes = ['hub:merit-recruitment-share', 'hub:training-hours-per-employee', 'hub:ria-share'];
  const cells = [
    {
      status: 'value', value: 71.5, year: 2025, unit: 'percent', record,
      source: { name: { en: 'Annual report' }, url: 'https://example.org/r', license: 'CC-BY-4.0' },
      baseline: { value: 61, year: 2019 }, target: { value: 90, year: 2030 },
    },
    { status: 'not_available', reason: { en: 'New system, no data yet' }, record },
    { status: 'not_reported', record },
  ];
  const col = {
    country: 'KZ',
    name: { en: 'Kazakhstan' },
    profile: {
      id: record, record, as_of: '2026-06-30', title: { en: 'Kazakhstan 2026', ru: 'Казахстан 2026' },
      sample: true, amended: false, previous: null,
    },
  };
  return { codes, cells, col };
}

test('a comparison column is held against the signed profile, cell by cell', () => {
  const decoded = decodeBody(5, profileBytes());
  const id = 'ab'.repeat(32);
  const ok = column(id);
  assert.deepEqual(compareColumn(ok.col, ok.codes, ok.cells, decoded), { head: [], cells: [] });
  const bad = (edit, want) => {
    const c = column(id);
    edit(c);
    assert.deepEqual(compareColumn(c.col, c.codes, c.cells, decoded), want);
  };
  bad((c) => { c.cells[0].value = 72; }, { head: [], cells: ['hub:merit-recruitment-share'] });
  bad((c) => { c.cells[0].year = 2026; }, { head: [], cells: ['hub:merit-recruitment-share'] });
  bad((c) => { c.cells[0].source = null; }, { head: [], cells: ['hub:merit-recruitment-share'] });
  bad((c) => { c.cells[1] = { status: 'not_reported', record: id }; }, { head: [], cells: ['hub:training-hours-per-employee'] });
  bad((c) => { c.cells[2] = { status: 'value', value: 0, year: 2025, record: id }; }, { head: [], cells: ['hub:ria-share'] });
  bad((c) => { c.cells[2].record = 'cd'.repeat(32); }, { head: [], cells: ['hub:ria-share'] });
  bad((c) => { c.col.profile.as_of = '2027-01-01'; }, { head: ['as_of'], cells: [] });
  bad((c) => { c.col.country = 'KG'; }, { head: ['country'], cells: [] });
  bad((c) => { c.col.profile.title = { en: 'Other' }; }, { head: ['title'], cells: [] });
});

// --- End to end: records signed here, checked by verifyRecord under a trusted charter.

function keyPair(seedByte) {
  const seed = Buffer.alloc(32, seedByte);
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const secret = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const pub = createPublicKey(secret).export({ format: 'der', type: 'spki' }).subarray(12);
  return { secret, public: new Uint8Array(pub), hex: Buffer.from(pub).toString('hex') };
}

const sha = (b) => createHash('sha256').update(b).digest();
const b64 = (b) => Buffer.from(b).toString('base64');
const COMMITTEE = [keyPair(100), keyPair(101), keyPair(102)];
const KZ = keyPair(2);
const localized = (obj) => ({ text: new Map(Object.entries(obj)) });
const CHARTER = charterBytes({
  version: 1n,
  name: localized({ en: 'Test network' }),
  members: [
    { code: 'HUB', name: localized({ en: 'Hub' }), publishing_key: keyPair(1).public },
    { code: 'KZ', name: localized({ en: 'Kazakhstan' }), publishing_key: KZ.public },
  ],
  committee: { keys: COMMITTEE.map((k) => k.public), quorum: 2n },
  limits: {
    max_record_bytes: 262144n, max_clock_skew_secs: 300n, max_short_text_bytes: 512n,
    max_summary_bytes: 4096n, max_body_bytes: 65536n, max_list_items: 32n, max_languages: 16n,
    max_url_bytes: 2048n,
  },
});

async function trusted() {
  const signatures = COMMITTEE.slice(0, 2).map((k) => ({
    key: k.public,
    signature: new Uint8Array(sign(null, Buffer.concat([Buffer.from('hubnet-charter-v1'), Buffer.of(0), CHARTER]), k.secret)),
  }));
  const signed = encodeMessage({ charter: CHARTER, signatures }, S.signedCharter);
  const trust = await establishTrust(encodeMessage({ version: 1n, charter: [signed], decisions: [] }, S.bundle));
  assert.ok(trust.ok, JSON.stringify(trust.checks.filter((c) => !c.ok)));
  return trust;
}

/** A record signed by KZ: `{id, signed, ...}` as the node serves it. */
function record(kindNo, kind, seq, prev, body, json) {
  const header = concat(
    len(1, sha(CHARTER)), len(2, KZ.public), uint(3, seq), prev ? len(4, prev) : null,
    uint(5, 1_700_000_000_000 + seq), uint(6, kindNo), len(7, sha(body)), uint(8, body.length),
  );
  const signature = sign(null, Buffer.concat([Buffer.from('hubnet-record-v1'), Buffer.of(0), header]), KZ.secret);
  return {
    id: sha(header).toString('hex'),
    kind,
    member: 'KZ',
    seq,
    body: json,
    signed: { header: b64(header), body: b64(body), signature: b64(signature) },
  };
}

test('a signed reform profile and its amendment verify; an altered one names the field', async () => {
  const trust = await trusted();
  const original = record(5, 'reform_profile', 1, null, profileBytes(), profileJson());
  const res = await verifyRecord(original, trust, { id: original.id, kinds: ['reform_profile'], content: profileJson() });
  assert.ok(res.ok, JSON.stringify(res.checks.filter((c) => !c.ok)));
  assert.equal(res.member, 'KZ');

  // The node shows a value other than the one signed.
  const altered = profileJson();
  altered.indicators[0].value = 75;
  const lie = await verifyRecord({ ...original, body: altered }, trust, { id: original.id, kinds: ['reform_profile'] });
  assert.ok(!lie.ok);
  const content = lie.checks.find((c) => c.key === 'content');
  assert.equal(content.ok, false);
  assert.equal(content.args.detail, 'indicators[0].value');

  // An amendment carrying a corrected profile (value 72.5).
  const amended = profileJson();
  amended.indicators[0].value = 72.5;
  const amendmentBody = concat(
    len(1, Buffer.from(original.id, 'hex')), loc(2, { en: 'Corrected' }), len(5, profileBytes({ value: 72.5 })),
  );
  const amendment = record(3, 'amendment', 2, Buffer.from(original.id, 'hex'), amendmentBody,
    { kind: 'amendment', target: original.id, note: { en: 'Corrected' }, record: amended });
  const second = await verifyRecord(amendment, trust, {
    kinds: ['amendment'], target: original.id, author: KZ.hex, content: amended,
  });
  assert.ok(second.ok, JSON.stringify(second.checks.filter((c) => !c.ok)));
  assert.equal(second.body.content.indicators[0].value, 72.5);
  const stale = await verifyRecord(amendment, trust, { kinds: ['amendment'], target: original.id, content: profileJson() });
  assert.equal(stale.checks.find((c) => c.key === 'content').args.detail, 'indicators[0].value');

  // A profile is not accepted where only practices are expected.
  const kinds = await verifyRecord(original, trust, { kinds: ['practice'] });
  assert.equal(kinds.checks.find((c) => c.key === 'header').ok, false);
});

// --- Texts for people.

test('values are shown with their unit and always their year', () => {
  assert.equal(fmtValueYear(71.5, 2025, 'percent'), '71.5 % · 2025');
  assert.equal(fmtValueYear(41, 2025, 'days'), '41 days · 2025');
  assert.equal(fmtValueYear(1.2, 2024, 'per-100k-inhabitants'), '1.2 per 100,000 inhabitants · 2024');
  assert.equal(fmtValueYear(35, 2024, 'percent-of-gdp'), '35 % of GDP · 2024');
  assert.equal(fmtValueYear(0, 2025, 'percent'), '0 % · 2025', 'a real 0 is a value');
  assert.equal(unitLabel('hours'), 'hours');
  assert.equal(unitLabel('widgets'), 'widgets', 'an unknown unit is its slug');
});

test('every cell says what it is: a value with its year, or why it is missing (never blank, never 0)', () => {
  const value = cellText({ status: 'value', value: 71.5, year: 2025, unit: 'percent' }, 'percent');
  assert.deepEqual([value.status, value.text], ['value', '71.5 % · 2025']);
  const na = cellText({ status: 'not_available', reason: { en: 'New system' } }, 'percent');
  assert.deepEqual([na.status, na.text, na.reason.text], ['not_available', 'Not available', 'New system']);
  assert.equal(cellText({ status: 'not_reported', record: 'x' }).text, 'Not reported');
  assert.equal(cellText({ status: 'no_profile' }).text, 'No profile');
  // A "value" without a number is not shown as 0.
  assert.equal(cellText({ status: 'value', year: 2025 }).status, 'unknown');
  for (const c of [null, {}, { status: 'weird' }, { status: 'value', value: null }]) {
    const v = cellText(c, 'percent');
    assert.ok(v.text && !/\b0\b/.test(v.text), JSON.stringify(v));
  }
});

test('changes between two profiles show both values with their years', () => {
  assert.equal(changeText({ from: { value: 60, year: 2024 }, to: { value: 71.5, year: 2025 } }, 'percent'),
    '60 % (2024) → 71.5 % (2025)');
  assert.equal(changeText({ from: { not_available: { en: 'late report' } }, to: { value: 72, year: 2025 } }, 'percent'),
    'not available: late report → 72 % (2025)');
  assert.equal(changeText({ from: null, to: { value: 3, year: 2025 } }, 'days'), 'not reported → 3 days (2025)');
  assert.equal(stateText(null, 'percent'), 'not reported');
  assert.equal(changeDirection({ from: { value: 60, year: 2024 }, to: { value: 70, year: 2025 } }, true), 'better');
  assert.equal(changeDirection({ from: { value: 60, year: 2024 }, to: { value: 70, year: 2025 } }, false), 'worse');
  assert.equal(changeDirection({ from: { value: 60, year: 2024 }, to: { value: 60, year: 2025 } }, true), 'same');
  assert.equal(changeDirection({ from: null, to: { value: 60, year: 2025 } }, true), null);
  assert.equal(reformChangeText({ from: 'adopted', to: 'in-implementation' }), 'Adopted → In implementation');
  assert.equal(reformChangeText({ from: null, to: 'planned' }), 'new in the latest profile: Planned');
  assert.equal(reformChangeText({ from: 'completed', to: null }), 'no longer listed (was: Completed)');
});

test('the compare page keeps its state in the query the API takes', () => {
  const q = readCompare(new URLSearchParams('country=kz&country=KG&country=KZ&area=public-service-hrm&as_of=2026-01-01'));
  assert.deepEqual(q, { countries: ['KZ', 'KG'], areas: ['public-service-hrm'], as_of: '2026-01-01' });
  assert.equal(compareQuery(q), 'country=KZ&country=KG&area=public-service-hrm&as_of=2026-01-01');
  assert.equal(readCompare(new URLSearchParams('as_of=2026-1-1')).as_of, '');
  assert.deepEqual(countProblem(['KZ']), { key: 'compare.too_few', n: 1 });
  assert.deepEqual(countProblem(['KZ', 'KG', 'TJ', 'UZ', 'AM']), { key: 'compare.too_many', n: 5 });
  assert.equal(countProblem(['KZ', 'KG']), null);
  assert.equal(countProblem(['KZ', 'KG', 'TJ', 'UZ']), null);
});

test('Markdown the node does not render becomes plain blocks: lists stay lists', () => {
  assert.deepEqual(textBlocks('- **Pay.** done\n- next\n  continued\n\n1. first\n2. second\n\n## Head\nplain *text*'), [
    { type: 'ul', items: ['Pay. done', 'next continued'] },
    { type: 'ol', items: ['first', 'second'] },
    { type: 'h', text: 'Head' },
    { type: 'p', text: 'plain *text*' },
  ]);
  assert.deepEqual(textBlocks(''), []);
  assert.deepEqual(textBlocks('<script>x</script>'), [{ type: 'p', text: '<script>x</script>' }]);
});
