// The audit page (`/audit`): what this node holds as signed evidence. Per member, its log's head
// and fork flag, the forks it holds, and every key the member held with its last valid seq and
// why; the Steering Committee's decisions in seq order, with governance forks; and the newest
// checkpoint each node signed of its view, with any two checkpoints of one signer that contradict.

import { h, replace, getJson, errorBox, short, dataTable } from './dom.js';
import { t, pickText, fmtDateTime } from './i18n.js';
import { getMembers } from './data.js';

function obj(x) {
  return x && typeof x === 'object' && !Array.isArray(x) ? x : null;
}

function objects(x) {
  return Array.isArray(x) ? x.filter(obj) : [];
}

function isSeq(x) {
  return typeof x === 'number' && Number.isFinite(x);
}

export async function mount(main, state, ctx) {
  document.title = `${t('audit.title')} · hubnet`;
  const loading = () => h('p', { class: 'loading' }, t('loading'));
  const summaryBox = h('section', { class: 'panel', 'aria-labelledby': 'audit-summary-h' }, h('h2', { id: 'audit-summary-h' }, t('audit.summary')), loading());
  const membersBox = h('section', { class: 'panel', id: 'audit-members', 'aria-labelledby': 'audit-members-h' }, h('h2', { id: 'audit-members-h' }, t('audit.members')), loading());
  const govBox = h('section', { class: 'panel', id: 'audit-governance', 'aria-labelledby': 'audit-governance-h' }, h('h2', { id: 'audit-governance-h' }, t('audit.governance')), loading());
  const cpBox = h('section', { class: 'panel', id: 'audit-checkpoints', 'aria-labelledby': 'audit-checkpoints-h' }, h('h2', { id: 'audit-checkpoints-h' }, t('audit.checkpoints')), loading());
  main.append(
    h('h1', {}, t('audit.title')),
    h('p', { class: 'audit-intro' }, t('audit.intro')),
    h('p', { class: 'no-print' }, h('button', { type: 'button', class: 'secondary small', 'data-testid': 'audit-print', onclick: () => window.print() }, t('audit.print'))),
    summaryBox,
    membersBox,
    govBox,
    cpBox,
  );

  const [gov, cps, forks, members] = await Promise.allSettled([
    getJson('/api/v1/governance'),
    getJson('/api/v1/checkpoints'),
    getJson('/api/v1/forks'),
    getMembers(),
  ]);
  if (!ctx.alive()) return;
  const g = gov.status === 'fulfilled' ? obj(gov.value) : null;
  const c = cps.status === 'fulfilled' ? obj(cps.value) : null;
  const forkList = forks.status === 'fulfilled' ? objects(forks.value) : null;
  const m = members.status === 'fulfilled' ? obj(members.value) : null;
  const model = modelOf(g, c, forkList, m);

  renderSummary(summaryBox, model, gov, cps, forks);
  renderMembers(membersBox, model, gov, forks);
  renderGovernance(govBox, model, gov);
  renderCheckpoints(cpBox, model, cps);
}

/** What the page shows, from the answers that came; a failed one gives empty lists. */
function modelOf(g, c, forkList, m) {
  const govMembers = objects(g?.members);
  const decisions = objects(g?.decisions);
  const byId = new Map(decisions.filter((d) => typeof d.id === 'string').map((d) => [d.id, d]));
  // Which member holds (or held) a key: from the key histories, the charter and checkpoint heads.
  const keyCode = new Map();
  for (const x of objects(m?.members)) {
    if (typeof x.publishing_key === 'string' && x.code) keyCode.set(x.publishing_key, String(x.code));
  }
  const checkpoints = objects(c?.checkpoints);
  const conflicts = objects(c?.conflicts);
  for (const cp of [...checkpoints, ...conflicts.flatMap((k) => [obj(k.first), obj(k.second)]).filter(Boolean)]) {
    for (const hd of objects(cp.heads)) {
      if (typeof hd.author === 'string' && hd.member) keyCode.set(hd.author, String(hd.member));
    }
  }
  for (const x of govMembers) {
    for (const k of objects(x.keys)) {
      if (typeof k.key === 'string' && x.code) keyCode.set(k.key, String(x.code));
    }
  }
  const govForks = objects(g?.forks);
  const forkedDecisions = new Set(govForks.flatMap((f) => (Array.isArray(f.ids) ? f.ids : [])));
  const forkedSeqs = new Set(govForks.map((f) => f.seq));
  return {
    g,
    govMembers,
    decisions,
    byId,
    keyCode,
    govForks,
    forkedDecisions,
    forkedSeqs,
    recordForks: forkList || [],
    charterMembers: objects(m?.members),
    checkpoints,
    conflicts,
  };
}

/** "KZ · Kazakhstan" from a code and a localized name map (the code alone without one). */
function memberLabel(code, name) {
  const picked = pickText(name);
  return picked && picked.text !== code
    ? [h('strong', {}, String(code ?? '')), ' · ', h('span', { lang: picked.lang }, picked.text)]
    : [h('strong', {}, String(code ?? ''))];
}

/** A key's member code and a short form of the key, or the short key alone. */
function keyLabel(model, key) {
  const code = model.keyCode.get(key);
  const k = h('code', { class: 'hex', title: String(key ?? '') }, short(key, 12));
  return code ? [code, ' (', k, ')'] : k;
}

/** A decision named by its seq and short id, or the short id if this node does not hold it. */
function decisionRef(model, id) {
  if (!id) return h('span', { class: 'muted' }, t('audit.by_charter'));
  const d = model.byId.get(id);
  const code = h('code', { class: 'hex', title: String(id) }, short(id, 12));
  return d && isSeq(d.seq) ? [t('audit.decision_ref', { seq: d.seq }), ' ', code] : code;
}

/** An instant as "23 Nov 2026, 08:16 UTC" in a <time> element. */
function when(ms) {
  if (!isSeq(ms)) return h('span', { class: 'muted' }, '—');
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(ms);
  return h('time', { datetime: d.toISOString() }, `${fmtDateTime(ms, 'UTC')} UTC`);
}

function recordLink(id, text) {
  return typeof id === 'string' && /^[0-9a-fA-F]{64}$/.test(id)
    ? h('a', { href: `/records/${id}` }, text)
    : text;
}

// Summary.

function renderSummary(box, model, gov, cps, forks) {
  const g = model.g;
  const count = (n, ok) => (ok
    ? h('span', { class: n > 0 ? 'badge danger' : 'badge ok' }, String(n))
    : h('span', { class: 'muted' }, '?'));
  const rows = [
    g ? [t('net.network_id'), h('code', { class: 'hex' }, String(g.network_id ?? ''))] : null,
    g && Array.isArray(g.committee)
      ? [t('audit.committee'), t('audit.quorum', { q: g.quorum ?? '?', n: g.committee.length })]
      : null,
    g ? [t('audit.chain_length'), String(g.chain_length ?? '?')] : null,
    g ? [t('audit.decisions_held'), String(model.decisions.length)] : null,
    [t('audit.count_forks'), count(model.recordForks.length, forks.status === 'fulfilled')],
    [t('audit.count_gov_forks'), count(model.govForks.length, !!g)],
    [t('audit.count_conflicts'), count(model.conflicts.length, cps.status === 'fulfilled')],
  ].filter(Boolean);
  const failed = [gov, cps, forks].filter((x) => x.status !== 'fulfilled');
  const problems = model.recordForks.length + model.govForks.length + model.conflicts.length;
  replace(
    box,
    box.firstChild,
    failed.length === 0
      ? problems === 0
        ? h('p', { class: 'notice ok', role: 'status', 'data-testid': 'audit-verdict' }, t('audit.clean'))
        : h('p', { class: 'notice danger', role: 'status', 'data-testid': 'audit-verdict' }, t('audit.problems', { n: problems }))
      : null,
    h('dl', { class: 'facts-list' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
  );
}

// Members.

function renderMembers(box, model, gov, forks) {
  const parts = [];
  if (gov.status !== 'fulfilled') parts.push(errorBox(gov.reason?.message ?? ''));
  if (forks.status !== 'fulfilled') parts.push(errorBox(forks.reason?.message ?? ''));
  const claimed = new Set();
  if (model.g) {
    if (model.govMembers.length === 0) parts.push(h('p', { class: 'empty' }, t('audit.none')));
    for (const x of model.govMembers) {
      const keys = objects(x.keys).filter((k) => typeof k.key === 'string');
      const keySet = new Set(keys.map((k) => k.key));
      const own = model.recordForks.filter((f) => (x.code && f.member === x.code) || keySet.has(f.author));
      for (const f of own) claimed.add(f);
      parts.push(memberCard(model, x, keys, own));
    }
  }
  const rest = model.recordForks.filter((f) => !claimed.has(f));
  if (rest.length) {
    parts.push(h('h3', { class: 'danger-text' }, model.g ? t('audit.other_forks') : t('audit.forks')), forkList(model, rest));
  }
  replace(box, box.firstChild, parts);
}

function memberCard(model, x, keys, own) {
  const code = String(x.code ?? '');
  const charter = model.charterMembers.find((c) => c.code === code);
  const suspended = x.suspended === true;
  const forked = own.length > 0 || charter?.flagged === true;
  const current = keys.find((k) => k.current === true) || null;
  const chainKey = current || keys[keys.length - 1] || null;
  let head = obj(chainKey?.head);
  if (!head && charter && chainKey && charter.publishing_key === chainKey.key) head = obj(charter.head);
  const heads = keys.map((k) => obj(k.head)).filter((hd) => hd && isSeq(hd.seq));
  const held = heads.reduce((n, hd) => n + hd.seq, 0);
  const rows = [
    [t('audit.state'), [
      suspended
        ? h('span', { class: 'badge danger', 'data-testid': 'audit-suspended' }, t('audit.suspended'))
        : h('span', { class: 'badge ok' }, t('audit.active')),
      ' ',
      forked
        ? h('span', { class: 'badge danger', 'data-testid': 'audit-member-fork' }, '⚠ ', t('net.forked'))
        : null,
    ]],
    [t('audit.chain'), head && isSeq(head.seq)
      ? [t('audit.head_seq', { seq: head.seq }), ' · ', recordLink(head.id, h('code', { class: 'hex', title: String(head.id ?? '') }, short(head.id, 12)))]
      : h('span', { class: 'muted' }, t('net.no_records'))],
    heads.length ? [t('audit.records_held'), String(held)] : null,
    [t('audit.admitted_by'), decisionRef(model, x.admitted_by)],
  ].filter(Boolean);
  return h(
    'article',
    {
      class: forked || suspended ? 'audit-member flagged' : 'audit-member',
      'data-testid': 'audit-member',
      'data-code': code,
      'data-suspended': String(suspended),
      'data-forked': String(forked),
    },
    h('h3', {}, memberLabel(code, x.name)),
    h('dl', { class: 'facts-list' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    h('h4', {}, t('audit.keys')),
    keys.length
      ? table(
        [t('audit.key'), t('audit.key_state'), t('audit.granted_by'), t('audit.last_seq'), t('audit.key_head')],
        keys.map((k) => keyRow(model, k)),
      )
      : h('p', { class: 'empty' }, t('audit.none')),
    own.length ? [h('h4', { class: 'danger-text' }, t('audit.forks')), forkList(model, own)] : null,
  );
}

function keyRow(model, k) {
  const last = isSeq(k.last_seq) ? k.last_seq : null;
  const why = [
    ['rotated_after', 'audit.rotated_after'],
    ['revoked_after', 'audit.revoked_after'],
    ['suspended_after', 'audit.suspended_after'],
  ]
    .filter(([f]) => isSeq(k[f]))
    .map(([f, key]) => h('li', { 'data-why': f }, t(key, { seq: k[f] })));
  const head = obj(k.head);
  const past = head && isSeq(head.seq) && last !== null && head.seq > last;
  return {
    attrs: {
      'data-testid': 'audit-key',
      'data-key': k.key,
      'data-current': String(k.current === true),
      'data-last-seq': last === null ? null : String(last),
      class: k.current === true ? 'current' : null,
    },
    cells: [
      h('code', { class: 'hex' }, k.key),
      k.current === true
        ? h('span', { class: 'badge ok' }, t('audit.current'))
        : h('span', { class: 'badge info' }, t('audit.former')),
      decisionRef(model, k.granted_by),
      [
        last === null ? h('span', { class: 'muted' }, t('audit.no_limit')) : h('strong', {}, String(last)),
        why.length ? h('ul', { class: 'audit-why' }, why) : null,
      ],
      head && isSeq(head.seq)
        ? [
          t('audit.head_seq', { seq: head.seq }),
          ' · ',
          recordLink(head.id, h('code', { class: 'hex', title: String(head.id ?? '') }, short(head.id, 12))),
          past ? h('p', { class: 'danger-text audit-past' }, t('audit.past_valid', { seq: last })) : null,
        ]
        : h('span', { class: 'muted' }, t('net.no_records')),
    ],
  };
}

/** Forks from `/api/v1/forks`: per (author, seq), every record held, the one in the log first. */
function forkList(model, list) {
  return h('ul', { class: 'forks audit-forks' }, list.map((f) => {
    const records = objects(f.records);
    const who = f.member || model.keyCode.get(f.author) || short(f.author, 16);
    return h(
      'li',
      { 'data-testid': 'audit-fork', 'data-code': f.member ?? null, 'data-seq': isSeq(f.seq) ? String(f.seq) : null },
      t('net.fork_item', { member: who, seq: f.seq ?? '?', n: records.length || '?' }),
      records.length
        ? h('ul', {}, records.map((r) => {
          const rec = obj(r.record) || {};
          const id = typeof rec.id === 'string' ? rec.id : '';
          return h(
            'li',
            {},
            recordLink(id, h('code', { class: 'hex' }, id)),
            ' ',
            r.in_log === true
              ? h('span', { class: 'badge info' }, t('audit.in_log'))
              : h('span', { class: 'badge danger' }, t('audit.evidence')),
            isSeq(rec.created_at_ms) ? [' ', h('span', { class: 'muted' }, when(rec.created_at_ms))] : null,
          );
        }))
        : null,
    );
  }));
}

// Governance.

function renderGovernance(box, model, gov) {
  if (!model.g) {
    replace(box, box.firstChild, errorBox(gov.reason?.message ?? ''));
    return;
  }
  const quorum = isSeq(model.g.quorum) ? model.g.quorum : null;
  const forks = model.govForks.length
    ? h(
      'div',
      { class: 'notice danger' },
      h('h3', {}, t('audit.gov_forks')),
      h('ul', { class: 'forks' }, model.govForks.map((f) => {
        const ids = Array.isArray(f.ids) ? f.ids : [];
        return h(
          'li',
          { 'data-testid': 'audit-governance-fork', 'data-seq': isSeq(f.seq) ? String(f.seq) : null },
          t('audit.gov_fork_item', { seq: f.seq ?? '?', n: ids.length }),
          h('ul', {}, ids.map((id) => h('li', {}, h('code', { class: 'hex' }, String(id))))),
        );
      })),
    )
    : null;
  replace(
    box,
    box.firstChild,
    forks,
    model.decisions.length === 0
      ? h('p', { class: 'empty' }, t('audit.no_decisions'))
      : table(
        [t('audit.seq'), t('audit.time'), t('audit.decision'), t('audit.signers'), t('audit.status')],
        model.decisions.map((d) => decisionRow(model, d, quorum)),
      ),
  );
}

function decisionRow(model, d, quorum) {
  const signers = Array.isArray(d.signers) ? d.signers : [];
  const forked = model.forkedDecisions.has(d.id);
  const reason = pickText(d.reason);
  const status = typeof d.status === 'string' ? d.status : 'off_chain';
  const belowQuorum = signers.length < (quorum ?? 0);
  return {
    attrs: {
      'data-testid': 'audit-decision',
      'data-status': status,
      'data-seq': isSeq(d.seq) ? String(d.seq) : null,
      'data-id': typeof d.id === 'string' ? d.id : null,
      'data-fork': forked ? 'true' : null,
      class: forked ? 'forked' : status === 'void' ? 'void' : null,
    },
    cells: [
      h('strong', {}, String(d.seq ?? '?')),
      when(d.created_at),
      [
        h('span', { class: 'audit-desc', lang: 'en' }, String(d.description ?? obj(d.action)?.type ?? '')),
        reason ? h('p', { class: 'muted audit-reason' }, t('audit.reason'), ' ', h('span', { lang: reason.lang }, reason.text)) : null,
        h('p', { class: 'muted audit-id' }, h('code', { class: 'hex', title: String(d.id ?? '') }, short(d.id, 16))),
        forked ? h('span', { class: 'badge danger' }, '⚠ ', t('audit.gov_fork_badge')) : null,
      ],
      [
        h('span', { class: belowQuorum ? 'danger-text' : null }, t('audit.signers_of', { n: signers.length, q: quorum ?? '?' })),
        signers.length
          ? h('ul', { class: 'audit-signers' }, signers.map((s) => h('li', {}, h('code', { class: 'hex', title: String(s) }, short(s, 8)))))
          : null,
      ],
      statusBadge(status, d.void_reason),
    ],
  };
}

function statusBadge(status, reason) {
  if (status === 'applied') return h('span', { class: 'badge ok' }, t('audit.status.applied'));
  if (status === 'void') {
    return [
      h('span', { class: 'badge warn' }, t('audit.status.void')),
      reason ? h('p', { class: 'audit-void', lang: 'en' }, String(reason)) : null,
    ];
  }
  if (status === 'off_chain') return h('span', { class: 'badge info' }, t('audit.status.off_chain'));
  return h('span', { class: 'badge' }, String(status));
}

// Checkpoints.

function renderCheckpoints(box, model, cps) {
  if (cps.status !== 'fulfilled') {
    replace(box, box.firstChild, errorBox(cps.reason?.message ?? ''));
    return;
  }
  const conflicts = model.conflicts.length
    ? [
      h('h3', { class: 'danger-text' }, t('audit.conflicts')),
      model.conflicts.map((k) => conflictBox(model, k)),
    ]
    : null;
  replace(
    box,
    box.firstChild,
    h('p', { class: 'muted' }, t('audit.checkpoints_intro')),
    model.checkpoints.length === 0
      ? h('p', { class: 'empty' }, t('audit.no_checkpoints'))
      : table(
        [t('net.member'), t('net.peer_id'), t('audit.time'), t('audit.heads'), t('audit.gov_count'), t('audit.checkpoint')],
        model.checkpoints.map((cp) => ({
          attrs: { 'data-testid': 'audit-checkpoint', 'data-code': cp.member ?? null },
          cells: [
            cp.member ? String(cp.member) : keyLabel(model, cp.signer),
            h('code', { class: 'hex' }, String(cp.peer_id ?? '')),
            when(cp.time),
            String(Array.isArray(cp.heads) ? cp.heads.length : '?'),
            String(cp.decision_count ?? '?'),
            h('code', { class: 'hex', title: String(cp.id ?? '') }, short(cp.id, 16)),
          ],
        })),
      ),
    conflicts,
  );
}

function conflictBox(model, k) {
  const items = objects(k.conflicts);
  const who = k.member ? String(k.member) : model.keyCode.get(k.signer) || '?';
  const cp = (label, c) => {
    const x = obj(c) || {};
    return [
      h('dt', {}, label),
      h('dd', {}, h('code', { class: 'hex' }, String(x.id ?? '')), ' · ', when(x.time)),
    ];
  };
  return h(
    'div',
    { class: 'notice danger audit-conflict', role: 'note', 'data-testid': 'audit-conflict', 'data-code': k.member ?? null },
    h('p', {}, h('strong', {}, '⚠ ', t('audit.conflict_by', { member: who })), ' ', h('code', { class: 'hex', title: String(k.signer ?? '') }, short(k.signer, 16))),
    h('p', {}, t('net.peer_id'), ': ', h('code', { class: 'hex' }, String(k.peer_id ?? ''))),
    h('ul', {}, items.map((x) => h('li', { 'data-kind': String(x.kind ?? '') }, describeConflict(model, x)))),
    h('dl', { class: 'facts-list' }, cp(t('audit.first_cp'), k.first), cp(t('audit.second_cp'), k.second)),
  );
}

function describeConflict(model, x) {
  const author = () => {
    const code = model.keyCode.get(x.author);
    return code ? `${code} (${short(x.author, 12)})` : short(x.author, 16);
  };
  switch (x.kind) {
    case 'equivocation':
      return [
        t('audit.conflict.equivocation', { author: author(), seq: x.seq ?? '?' }),
        h('ul', {}, [x.first, x.second].map((id) => h('li', {}, recordLink(id, h('code', { class: 'hex' }, String(id ?? '')))))),
      ];
    case 'rollback':
      return t('audit.conflict.rollback', { author: author(), from: x.from_seq ?? '?', to: x.to_seq ?? '?' });
    case 'governance_rollback':
      return t('audit.conflict.governance_rollback', { from: x.from_count ?? '?', to: x.to_count ?? '?' });
    default:
      return t('audit.conflict.other', { kind: String(x.kind ?? '?') });
  }
}

/** Tables whose cells keep their parts together in the card's value column. */
function table(headers, rows) {
  return dataTable(headers, rows, { block: true });
}
