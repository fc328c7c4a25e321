'use strict';
// Ambassador bot – local playground. Vanilla JS, no build step, no dependencies.
// Rule: every string coming from the server goes through textContent, never innerHTML.

const $ = (id) => document.getElementById(id);
const STORE_USER = 'ambassador.playground.user';
const STORE_CONV = 'ambassador.playground.conversation';
const STORE_HISTORY = 'ambassador.playground.history';

// The README's demo animator (made an admin by `make run`): a new user starts where the
// demo starts, opening a session.
const START_USER = { id: 'anim1', name: 'Anim1', locale: 'en' };

const state = {
  user: { ...START_USER },
  timezone: null,          // the bot's clock zone (GET /local/api/clock), e.g. Europe/Paris
  commandRoles: new Map(), // usage as `help` writes it (en and fr) -> least role it is listed for
  conversation: 'general',
  users: [],               // known users from /local/api/users
  conversations: [],       // from /local/api/conversations
  history: [],             // previously sent commands (Up-arrow recall)
  historyPos: 0,
  ephemerals: new Map(),   // "userId|conversation" -> [{id, node, anchor}] (kept in memory only)
  lastMessages: new Map(), // conversation -> latest messages fetched
  views: new Map(),        // container element -> {conv, sig, cache}
};
let seq = 0;      // unique ids for ephemerals and form inputs
let pollGen = 0;  // lets a newer poll cancel the scheduling of an older one
let pollTimer = null;

// ---------- the page's own words (static/playground-i18n.js) ----------
const STRINGS = window.PLAYGROUND_STRINGS || { en: {} };

// The selected user's language when the page speaks it (the one the bot keeps for them,
// e.g. after `settings language fr`, else the page's choice), else the browser's, else English.
function lang() {
  const pick = (tag) => String(tag || '').toLowerCase().split(/[-_]/)[0];
  const known = state.users.find((u) => u.id === state.user.id);
  const kept = pick(known && known.locale);
  if (STRINGS[kept]) return kept;
  const own = pick(state.user.locale);
  if (STRINGS[own]) return own;
  const browser = pick(navigator.language);
  return STRINGS[browser] ? browser : 'en';
}

function t(key, vars = {}) {
  const text = (STRINGS[lang()] || {})[key] ?? (STRINGS.en || {})[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

// Static controls carry data-i18n (text) and data-i18n-aria (aria-label) keys.
function applyLanguage() {
  document.documentElement.lang = lang();
  const vars = (node) => { try { return JSON.parse(node.dataset.i18nVars || '{}'); } catch { return {}; } };
  document.querySelectorAll('[data-i18n]').forEach((node) => { node.textContent = t(node.dataset.i18n, vars(node)); });
  document.querySelectorAll('[data-i18n-aria]').forEach((node) => node.setAttribute('aria-label', t(node.dataset.i18nAria)));
  document.querySelectorAll('[data-i18n-placeholder]').forEach((node) => { node.placeholder = t(node.dataset.i18nPlaceholder); });
}

// A role as the page names it, in its language ("learner" → "en formation").
function roleLabel(role) {
  return t(`role_${role || 'learner'}`);
}

// ---------- small helpers ----------
function load(key, fallback) {
  try { const v = localStorage.getItem(key); return v ? JSON.parse(v) : fallback; } catch { return fallback; }
}
function save(key, value) {
  try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* storage may be disabled */ }
}

// Build an element; props go to properties when they exist, otherwise attributes.
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = String(v);
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k in node && k !== 'list') node[k] = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

// Only allow harmless link schemes (a server string could say "javascript:").
function safeUrl(u) {
  try {
    const url = new URL(String(u), location.href);
    return ['http:', 'https:', 'mailto:'].includes(url.protocol) ? url.href : null;
  } catch { return null; }
}

// Clickable http(s) links in plain text; everything else stays literal text nodes.
const URL_RE = /https?:\/\/[^\s<>"]+/g;
function appendLinked(parent, s) {
  let last = 0;
  for (const m of s.matchAll(URL_RE)) {
    const url = m[0].replace(/[.,;:!?)\]]+$/, '');
    parent.append(s.slice(last, m.index));
    const href = safeUrl(url);
    parent.append(href ? el('a', { href, target: '_blank', rel: 'noopener noreferrer', text: url }) : url);
    last = m.index + url.length;
  }
  parent.append(s.slice(last));
}

// The markup the core's texts use (the Slack and Teams renderers show it natively):
// `code` in backticks; *bold* (Slack) and **bold** (Markdown) render too. Only DOM nodes
// with textContent are built, never innerHTML, so a user's text stays text.
const BOLD_RE = /\*\*(\S(?:[^*\n]*?\S)?)\*\*|(?<![\w*])\*(\S(?:[^*\n]*?\S)?)\*(?![\w*])/g;
function appendBold(parent, s) {
  let last = 0;
  for (const m of s.matchAll(BOLD_RE)) {
    appendLinked(parent, s.slice(last, m.index));
    appendLinked(parent.appendChild(el('strong')), m[1] ?? m[2]);
    last = m.index + m[0].length;
  }
  appendLinked(parent, s.slice(last));
}

function appendFormatted(parent, text) {
  // Backticks first: nothing inside `code` is bold or a link.
  String(text ?? '').split(/(`[^`\n]+`)/).forEach((part, i) => {
    if (i % 2) parent.append(el('code', { text: part.slice(1, -1) }));
    else appendBold(parent, part);
  });
  return parent;
}

// Help replies: "• `usage` — summary" lines, grouped by topic (the command's first word,
// e.g. `session …`, `pulse …`), one collapsible section each instead of a 40-line wall.
const HELP_LINE = /^• `([^`]+)` — (.*)$/;
function helpGroups(lines) {
  const groups = new Map();
  for (const line of lines) {
    const m = line.match(HELP_LINE);
    const word = m[1].split(/\s+/)[0].toLowerCase();
    if (!groups.has(word)) groups.set(word, []);
    groups.get(word).push({ usage: m[1], summary: m[2] });
  }
  // Topics of one command each are the everyday ones (help, join, me…): together first.
  const general = [];
  const topics = [];
  for (const [word, items] of groups) (items.length > 1 ? topics.push([word, items]) : general.push(...items));
  return general.length ? [[null, general], ...topics] : topics;
}

// Then by role (GET /local/api/commands): what everyone may do, what animators, what admins.
const TIERS = ['learner', 'animator', 'admin'];
function helpTiers(lines) {
  const tiers = new Map(TIERS.map((tier) => [tier, []]));
  for (const line of lines) {
    const role = state.commandRoles.get(line.match(HELP_LINE)[1]);
    tiers.get(TIERS.includes(role) ? role : 'learner').push(line);
  }
  return [...tiers].filter(([, tierLines]) => tierLines.length);
}

function renderHelp(box, lines) {
  const first = lines.findIndex((l) => HELP_LINE.test(l));
  let end = first;
  while (end < lines.length && HELP_LINE.test(lines[end])) end += 1;
  const para = (text) => appendFormatted(el('p', { class: 'help-line' }), text);
  lines.slice(0, first).forEach((l) => box.append(para(l)));
  const tiers = helpTiers(lines.slice(first, end));
  tiers.forEach(([tier, tierLines], i) => {
    // A learner's help is one tier: no heading needed.
    if (tiers.length > 1) box.append(el('h4', { class: 'help-tier', 'data-tier': tier, text: t(`tier_${tier}`) }));
    box.append(renderHelpGroups(tierLines, i === 0, i === 0 ? t('help_general') : t('help_other')));
  });
  lines.slice(end).forEach((l) => box.append(para(l)));
  return box;
}

function renderHelpGroups(lines, openFirst, generalTitle) {
  const grid = el('div', { class: 'help-groups' });
  helpGroups(lines).forEach(([word, items], i) => {
    const details = el('details', { class: 'help-group', open: openFirst && i === 0 });
    const summary = el('summary', {}, word ? el('code', { text: word }) : generalTitle,
      el('span', { class: 'help-count', text: ` (${items.length})` }));
    const list = el('ul', {}, ...items.map((it) => el('li', {},
      el('code', { text: it.usage }), ' — ', appendFormatted(el('span'), it.summary))));
    details.append(summary, list);
    grid.append(details);
  });
  return grid;
}

function richText(text, cls = 'text') {
  const box = el('div', { class: cls });
  const lines = String(text ?? '').split('\n');
  if (lines.filter((l) => HELP_LINE.test(l)).length >= 4) return renderHelp(box.appendChild(el('div', { class: 'help' })), lines).parentNode;
  return appendFormatted(box, text);
}

// Times in the bot's clock zone (what its schedules mean), labelled with the zone's short
// name: the browser's own zone may differ from the bot's.
function fmtTime(iso, withWeekday = false) {
  const d = new Date(iso);
  if (!iso || isNaN(d)) return String(iso ?? '');
  const options = {
    weekday: withWeekday ? 'short' : undefined, day: 'numeric', month: 'short', year: 'numeric',
    hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
  };
  try {
    return d.toLocaleString(lang() === 'fr' ? 'fr-FR' : 'en-GB', { ...options, timeZone: state.timezone || undefined });
  } catch {  // a zone this browser does not know: its own zone, still labelled
    return d.toLocaleString(lang() === 'fr' ? 'fr-FR' : 'en-GB', options);
  }
}

const dmOf = (userId) => `dm:${userId}`;
const convLabel = (conv) => (conv.startsWith('dm:') ? t('dm_label', { conv }) : `#${conv}`);
const epKey = (conv) => `${state.user.id}|${conv}`;
const userPayload = () => ({ id: state.user.id, name: state.user.name, locale: state.user.locale });

// ---------- API ----------
async function api(method, path, body) {
  let res;
  try {
    res = await fetch(path, {
      method, cache: 'no-store',
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new Error(t('network_error'));
  }
  let data = null;
  try { data = await res.json(); } catch { /* non-JSON body */ }
  if (!res.ok) {
    const err = new Error((data && data.error) || `HTTP ${res.status} ${res.statusText}`.trim());
    err.field = data && data.field;
    err.status = res.status;
    throw err;
  }
  if (!data || typeof data !== 'object') throw new Error(t('invalid_response'));
  return data;
}

// ---------- notices ----------
function showError(message, field) {
  $('error-text').textContent = field ? t('with_field', { message, field }) : message;
  $('error-notice').hidden = false;
}
function clearError() { $('error-notice').hidden = true; }

function toast(message) {
  const box = $('toasts');
  const t = el('div', { class: 'toast', text: message });
  box.append(t);
  while (box.children.length > 4) box.firstChild.remove();
  setTimeout(() => t.remove(), 5000);
}

function setConnection(ok, message) {
  const s = $('connection-status');
  s.textContent = ok ? t('connected') : t('unreachable', { message });
  s.classList.toggle('offline', !ok);
}

// ---------- cards and forms ----------
function renderButton(b, conv) {
  const cls = `btn${b.style === 'primary' ? ' btn-primary' : b.style === 'danger' ? ' btn-danger' : ''}`;
  const label = b.label || b.action_id || t('button');
  if (b.url) {
    const href = safeUrl(b.url);
    return href
      ? el('a', { class: `${cls} btn-link`, href, target: '_blank', rel: 'noopener noreferrer', text: label })
      : el('span', { class: `${cls} disabled`, title: t('unsupported_link'), text: label });
  }
  const btn = el('button', { type: 'button', class: cls, text: label });
  btn.addEventListener('click', async () => {
    btn.disabled = true;  // avoid double clicks posting the action twice
    try { await sendAction(conv, b.action_id, b.value ?? '', { key: 'you_clicked', vars: { label } }); } catch (e) { showError(e.message, e.field); }
    btn.disabled = false;
  });
  return btn;
}

function renderCard(card, conv) {
  const box = el('div', { class: 'card' });
  if (card.title) box.append(el('div', { class: 'card-title', text: card.title }));
  if (card.body) box.append(richText(card.body, 'card-body'));
  if (Array.isArray(card.fields) && card.fields.length) {
    const table = el('table', { class: 'card-fields' });
    for (const f of card.fields) {
      // A field's value carries the same markup as a text (`me`: "type `join`"), as on Slack.
      table.append(el('tr', {}, el('th', { scope: 'row', text: f.label ?? '' }), appendFormatted(el('td'), f.value)));
    }
    box.append(table);
  }
  const img = card.image_url && safeUrl(card.image_url);
  if (img) box.append(el('img', { class: 'card-image', src: img, alt: card.title || t('card_image'), loading: 'lazy' }));
  if (Array.isArray(card.buttons) && card.buttons.length) {
    box.append(el('div', { class: 'card-buttons' }, ...card.buttons.map((b) => renderButton(b, conv))));
  }
  return box;
}

// One form field: returns {node, get} where get() reads the current value.
function renderField(field) {
  const id = `ff${++seq}`;
  const wrap = el('div', { class: 'form-field' });
  wrap.append(el('label', { for: id, text: `${field.label || field.id}${field.required ? ' *' : ''}` }));
  let input;
  switch (field.kind) {
    case 'multiline': input = el('textarea', { id, rows: 3 }); break;
    case 'datetime': input = el('input', { id, type: 'datetime-local' }); break;
    case 'select':
      input = el('select', { id }, el('option', { value: '', text: t('choose') }),
        ...(field.options || []).map((o) => el('option', { value: o.value ?? '', text: o.label ?? o.value ?? '' })));
      break;
    case 'users': {
      // Known users as a multi-select, plus free text for people the bot does not know yet.
      // The form may name people not to offer (e.g. who already took part in the training).
      const excluded = new Set(Array.isArray(field.exclude) ? field.exclude : []);
      const offered = state.users.filter((u) => !excluded.has(u.id));
      const list = el('select', { id, multiple: true, size: Math.min(6, Math.max(3, offered.length)) },
        ...offered.map((u) => el('option', { value: u.id, text: `${u.name} (${u.id})` })));
      const extraId = `ff${++seq}`;
      const extra = el('input', { id: extraId, type: 'text', placeholder: t('eg_people') });
      wrap.append(list, el('span', { class: 'muted', text: t('ctrl_click') }),
        el('label', { for: extraId, class: 'sub-label', text: t('other_people') }), extra);
      const get = () => [...[...list.selectedOptions].map((o) => o.value),
        ...extra.value.split(',').map((s) => s.trim()).filter(Boolean)];
      return { node: wrap, get, focus: list };
    }
    default: input = el('input', { id, type: 'text' });
  }
  input.required = !!field.required;
  if (field.value) input.value = field.value;  // prefilled (e.g. editing a challenge)
  wrap.append(input);
  return { node: wrap, get: () => input.value, focus: input };
}

function renderForm(form, conv) {
  const f = el('form', { class: 'bot-form' });
  const fieldset = el('fieldset', {}, el('legend', { text: form.title || t('form') }));
  const status = el('p', { class: 'form-status', role: 'status' });
  const fields = (Array.isArray(form.fields) ? form.fields : []).map((fd) => ({ fd, ...renderField(fd) }));
  fields.forEach((x) => fieldset.append(x.node));
  fieldset.append(el('button', { type: 'submit', class: 'btn btn-primary', text: t('submit') }));
  f.append(fieldset, status);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = {};
    for (const x of fields) value[x.fd.id] = x.get();
    // Native validation cannot check the "users" pair of inputs, so check all required fields here.
    const missing = fields.find((x) => x.fd.required &&
      (Array.isArray(value[x.fd.id]) ? !value[x.fd.id].length : !String(value[x.fd.id]).trim()));
    if (missing) { status.textContent = t('required', { label: missing.fd.label || missing.fd.id }); missing.focus.focus(); return; }
    fieldset.disabled = true;
    status.textContent = t('sending');
    try {
      await sendAction(conv, form.submit_action_id, JSON.stringify(value), { key: 'you_submitted', vars: { title: form.title || t('a_form') } });
      status.textContent = t('submitted');
      f.classList.add('submitted');
    } catch (e) {
      fieldset.disabled = false;
      const bad = fields.find((x) => x.fd.id === e.field);
      status.textContent = bad ? `${bad.fd.label || bad.fd.id}: ${e.message}` : e.message;
      if (bad) bad.focus.focus();
      showError(e.message, e.field);
    }
  });
  return f;
}

// ---------- messages and threads ----------
// Depth-first order: each root followed by its replies (indented), robust to unknown parents and cycles.
function threadOrder(messages) {
  const ids = new Set(messages.map((m) => m.id));
  const kids = new Map();
  const roots = [];
  for (const m of messages) {
    if (m.in_reply_to && m.in_reply_to !== m.id && ids.has(m.in_reply_to)) {
      if (!kids.has(m.in_reply_to)) kids.set(m.in_reply_to, []);
      kids.get(m.in_reply_to).push(m);
    } else roots.push(m);
  }
  const out = [];
  const seen = new Set();
  const walk = (m, depth) => {
    if (seen.has(m)) return;  // keyed by object: survives missing or duplicate ids
    seen.add(m);
    out.push({ m, depth });
    for (const c of kids.get(m.id) || []) walk(c, depth + 1);
  };
  roots.forEach((m) => walk(m, 0));
  messages.forEach((m) => walk(m, 0));  // anything left (cycles) shows as a root
  return out;
}

function renderMessage(m, depth, conv) {
  const edited = m.updated_at && m.updated_at !== m.created_at;
  const node = el('article', { class: `msg${depth ? ' reply' : ''}`, 'data-id': m.id ?? '' });
  node.style.setProperty('--depth', Math.min(depth, 4));
  node.append(el('div', { class: 'msg-meta' },
    el('span', { class: 'author', text: 'Ambassador' }),
    el('time', { dateTime: m.created_at || '', title: state.timezone || '', text: fmtTime(m.created_at) }),
    edited ? el('span', { class: 'edited', title: fmtTime(m.updated_at), text: t('edited') }) : null,
    depth ? el('span', { class: 'thread-tag', text: t('reply_in_thread') }) : null));
  // Like Slack and Teams, a card replaces its text: the text is the fallback for notifications.
  if (m.card) node.append(renderCard(m.card, conv));
  else if (m.text) node.append(richText(m.text));
  return node;
}

// Move/insert only what changed, so untouched nodes keep focus and typed form values.
function syncChildren(parent, nodes) {
  nodes.forEach((node, i) => {
    if (parent.childNodes[i] !== node) parent.insertBefore(node, parent.childNodes[i] || null);
  });
  while (parent.childNodes.length > nodes.length) parent.lastChild.remove();
}

function renderView(container, conv, messages, emptyText) {
  let view = state.views.get(container);
  const fresh = !view || view.conv !== conv;
  if (fresh) { view = { conv, sig: null, cache: new Map() }; state.views.set(container, view); }
  const eps = (conv && state.ephemerals.get(epKey(conv))) || [];
  const sig = `${lang()}|${state.timezone}|${emptyText}|${JSON.stringify(messages)}|${eps.map((e) => e.id).join(',')}`;
  if (sig === view.sig) return;  // nothing changed: no re-render, no flicker
  view.sig = sig;
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40;

  const nodes = [];
  const cache = new Map();
  const placed = new Set();
  const pushEps = (anchor) => eps.forEach((e) => { if (e.anchor === anchor) { nodes.push(e.node); placed.add(e); } });
  pushEps(null);
  const order = threadOrder(messages);
  let root = null;
  order.forEach(({ m, depth }, i) => {
    if (depth === 0) root = m.id;
    const key = `${lang()}|${state.timezone}|${depth}|${JSON.stringify(m)}`;
    const node = (!cache.has(key) && view.cache.get(key)) || renderMessage(m, depth, conv);
    cache.set(key, node);
    nodes.push(node);
    // Private replies go after the whole thread of the root that was last when they arrived.
    if (!order[i + 1] || order[i + 1].depth === 0) pushEps(root);
  });
  eps.forEach((e) => { if (!placed.has(e)) nodes.push(e.node); });
  if (!nodes.length) nodes.push(el('p', { class: 'empty', text: emptyText }));
  view.cache = cache;
  syncChildren(container, nodes);
  if (fresh || atBottom) container.scrollTop = container.scrollHeight;
}

function renderAll() {
  const conv = state.conversation;
  const dm = dmOf(state.user.id);
  const emptyFor = (c, text) => (state.lastMessages.has(c) ? text : t('loading'));
  renderView($('messages'), conv, state.lastMessages.get(conv) || [],
    emptyFor(conv, t('no_messages', { conv: convLabel(conv) })));
  if (conv === dm) renderView($('dm-messages'), null, [], t('dm_in_main'));
  else renderView($('dm-messages'), dm, state.lastMessages.get(dm) || [], emptyFor(dm, t('no_dms')));
}

// ---------- replies (command and action results) ----------
function addEphemeral(conv, reply, origin) {
  const key = epKey(conv);
  const roots = threadOrder(state.lastMessages.get(conv) || []).filter((x) => x.depth === 0);
  const ep = { id: ++seq, anchor: roots.length ? roots[roots.length - 1].m.id : null };
  const dismiss = () => {
    state.ephemerals.set(key, (state.ephemerals.get(key) || []).filter((e) => e !== ep));
    renderAll();
  };
  ep.node = el('div', { class: 'msg ephemeral' },
    el('div', { class: 'msg-meta' },
      // Marked with their keys, so that they follow the page's language when it changes.
      el('span', { class: 'badge', 'data-i18n': 'only_you', text: t('only_you') }),
      origin ? el('span', { class: 'origin', 'data-i18n': origin.key, 'data-i18n-vars': JSON.stringify(origin.vars), text: t(origin.key, origin.vars) }) : null,
      el('button', { type: 'button', class: 'link-btn', 'data-i18n': 'dismiss', 'data-i18n-aria': 'dismiss_private', text: t('dismiss'), 'aria-label': t('dismiss_private'), onclick: dismiss })),
    // A form's text is its title, which the form already shows as its legend: once, not twice.
    reply.card ? renderCard(reply.card, conv) : (reply.text && !reply.form ? richText(reply.text) : null),
    reply.form ? renderForm(reply.form, conv) : null);
  state.ephemerals.set(key, [...(state.ephemerals.get(key) || []), ep]);
  renderAll();
  if (ep.node.isConnected && ep.node.scrollIntoView) ep.node.scrollIntoView({ block: 'nearest' });
}

function handleReplies(replies, conv, origin) {
  if (!Array.isArray(replies) || !replies.length) { toast(t('no_reply')); return; }
  refreshUsers().catch(() => {});  // roles and levels may have just changed
  // Every reply is for the asker alone (what others see comes back through polling).
  for (const r of replies) {
    if (r && typeof r === 'object') addEphemeral(conv, r, origin);
  }
}

// Loaded once; a command waits for it so that its help is grouped by role (or by topic
// alone if the list could not be loaded).
let commandsReady = null;
function loadCommands() {
  commandsReady = api('GET', '/local/api/commands').then((data) => {
    for (const c of Array.isArray(data.commands) ? data.commands : []) {
      for (const usage of Array.isArray(c.usages) ? c.usages : []) state.commandRoles.set(String(usage), String(c.role));
    }
  }).catch(() => {});
}

async function sendCommand(text) {
  await commandsReady;
  const conv = state.conversation;
  const data = await api('POST', '/local/api/command', { user: userPayload(), conversation: conv, text });
  clearError();
  handleReplies(data.replies, conv, { key: 'you_ran', vars: { text } });
  pollMessages();
}

async function sendAction(conv, actionId, value, origin) {
  const data = await api('POST', '/local/api/action', { user: userPayload(), conversation: conv, action_id: actionId, value });
  clearError();
  handleReplies(data.replies, conv, origin);
  pollMessages();
}

// ---------- polling ----------
async function fetchMessages(conv) {
  try {
    const data = await api('GET', `/local/api/conversations/${encodeURIComponent(conv)}/messages`);
    return Array.isArray(data.messages) ? data.messages : [];
  } catch (e) {
    if (e.status === 404) return [];  // a conversation without messages yet
    throw e;
  }
}

async function pollMessages() {
  clearTimeout(pollTimer);
  const gen = ++pollGen;
  const convs = [...new Set([state.conversation, dmOf(state.user.id)])];
  try {
    const results = await Promise.all(convs.map(fetchMessages));
    if (gen === pollGen) convs.forEach((c, i) => state.lastMessages.set(c, results[i]));
    setConnection(true);
  } catch (e) {
    setConnection(false, e.message);
  }
  if (gen !== pollGen) return;  // a newer poll took over
  renderAll();
  pollTimer = setTimeout(pollMessages, 1000);
}

async function refreshUsers(force = false) {
  const data = await api('GET', '/local/api/users');
  const users = Array.isArray(data.users) ? data.users : [];
  if (!force && JSON.stringify(users) === JSON.stringify(state.users)) return;
  state.users = users;
  const sel = $('known-users');
  sel.replaceChildren(el('option', { value: '', 'data-i18n': 'pick_known', text: t('pick_known') }),
    ...users.map((u) => el('option', { value: u.id, text: `${u.name} (${u.id}) · ${roleLabel(u.role)}` })));
  sel.value = users.some((u) => u.id === state.user.id) ? state.user.id : '';
  renderCurrentUser();
  updateLabels();  // the user's kept language may have changed: the page follows it
  renderAll();
}

async function refreshConversations() {
  const data = await api('GET', '/local/api/conversations');
  const list = Array.isArray(data.conversations) ? data.conversations.map(String) : [];
  const channels = [...new Set(['general', ...list.filter((c) => !c.startsWith('dm:'))])];
  if (JSON.stringify(channels) === JSON.stringify(state.conversations)) return;
  state.conversations = channels;
  $('conversation-options').replaceChildren(...channels.map((c) => el('option', { value: c })));
  renderConversationList();
}

async function refreshClock() {
  const data = await api('GET', '/local/api/clock');
  const zone = typeof data.timezone === 'string' && data.timezone ? data.timezone : null;
  if (zone !== state.timezone) { state.timezone = zone; renderAll(); }
  $('clock-zone').textContent = zone ? t('timezone', { tz: zone }) : '';
  const now = $('clock-now');
  now.textContent = fmtTime(data.now, true);
  now.dateTime = data.now || '';
  now.title = data.now || '';
  $('clock-controls').hidden = !data.controllable;
  $('clock-note').textContent = data.controllable ? '' : t('clock_disabled');
}

function pollSlow() {
  // Independent: one failing endpoint must not block the others.
  Promise.allSettled([refreshUsers(), refreshConversations(), refreshClock()])
    .finally(() => setTimeout(pollSlow, 3000));
}

async function advanceClock(seconds) {
  try {
    const data = await api('POST', '/local/api/clock', { advance_seconds: seconds });
    clearError();
    toast(t('clock_now', { time: fmtTime(data.now, true) }));
  } catch (e) {
    showError(e.message, e.field);
  }
  refreshClock().catch(() => {});
  pollMessages();
}

// "Reset demo": confirmed here, and again by the API's {"confirm": "reset"}.
async function resetDemo() {
  if (!window.confirm(t('reset_confirm'))) return;
  try {
    await api('POST', '/local/api/reset', { confirm: 'reset' });
  } catch (e) {
    showError(e.message, e.field);
    return;
  }
  clearError();
  state.ephemerals.clear();
  state.lastMessages.clear();
  state.users = [];
  state.conversations = [];
  toast(t('reset_done'));
  await Promise.allSettled([refreshUsers(true), refreshConversations()]);
  renderCurrentUser();
  setConversation('general');
}

// ---------- user and conversation ----------
function renderCurrentUser() {
  const u = state.user;
  const known = state.users.find((x) => x.id === u.id);
  $('current-user').replaceChildren(
    el('div', { id: 'current-user-name', class: 'current-name', text: u.name }),
    el('div', { class: 'muted' }, el('span', { id: 'current-user-id', text: `@${u.id}` }), ` · ${u.locale}`),
    el('div', { class: 'badges' },
      el('span', { id: 'current-user-role', class: `badge role-${known ? known.role : 'new'}`, text: known ? roleLabel(known.role) : t('not_known') }),
      known && known.level ? el('span', { id: 'current-user-level', class: 'badge', text: (known.level_names || {})[lang()] || known.level }) : null));
  $('known-users').value = known ? u.id : '';
}

function ensureOption(select, value) {
  if (![...select.options].some((o) => o.value === value)) select.append(el('option', { value, text: value }));
  select.value = value;
}

function updateLabels() {
  const conv = state.conversation;
  applyLanguage();
  $('conversation-title').textContent = conv.startsWith('dm:') ? t('dm_title', { conv }) : `#${conv}`;
  $('open-dm').textContent = t('my_dm', { dm: dmOf(state.user.id) });
  $('open-dm').setAttribute('aria-pressed', String(conv === dmOf(state.user.id)));
  $('dm-heading').textContent = t('your_dms', { dm: dmOf(state.user.id) });
  $('command-hint').textContent = t('hint', { name: state.user.name, id: state.user.id, locale: state.user.locale, conv: convLabel(conv) });
  refreshClock().catch(() => {});  // the zone line and the clock in the new language
  renderConversationList();
}

function renderConversationList() {
  $('conversation-list').replaceChildren(...state.conversations.map((c) => el('li', {},
    el('button', {
      type: 'button', class: 'conversation-btn', text: `#${c}`,
      'aria-current': c === state.conversation ? 'true' : null, onclick: () => setConversation(c),
    }))));
}

function setUser(u) {
  const id = String(u.id || '').trim();
  if (!id) { showError(t('user_id_required'), 'id'); return; }
  const wasOwnDm = state.conversation === dmOf(state.user.id);
  state.user = { id, name: String(u.name || '').trim() || id, locale: String(u.locale || 'en') };
  save(STORE_USER, state.user);
  $('user-id').value = state.user.id;
  $('user-name').value = state.user.name;
  ensureOption($('user-locale'), state.user.locale);
  clearError();
  renderCurrentUser();
  // Never stay in somebody else's DM after switching user.
  if (wasOwnDm || state.conversation.startsWith('dm:')) setConversation(dmOf(id));
  else { updateLabels(); renderAll(); pollMessages(); }
}

function setConversation(conv) {
  state.conversation = String(conv || '').trim().replace(/^#/, '') || 'general';
  save(STORE_CONV, state.conversation);
  $('conversation').value = state.conversation;
  updateLabels();
  renderAll();
  pollMessages();
}

// ---------- wiring ----------
function pushHistory(text) {
  if (state.history[state.history.length - 1] !== text) state.history.push(text);
  state.history = state.history.slice(-50);
  state.historyPos = state.history.length;
  save(STORE_HISTORY, state.history);
}

function wire() {
  document.querySelectorAll('.preset').forEach((b) => b.addEventListener('click',
    () => setUser({ id: b.dataset.id, name: b.dataset.name, locale: b.dataset.locale })));
  $('known-users').addEventListener('change', (ev) => {
    const u = state.users.find((x) => x.id === ev.target.value);
    if (u) setUser(u);
  });
  $('user-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    setUser({ id: $('user-id').value, name: $('user-name').value, locale: $('user-locale').value });
  });
  $('conversation-form').addEventListener('submit', (ev) => { ev.preventDefault(); setConversation($('conversation').value); });
  $('open-dm').addEventListener('click', () => setConversation(dmOf(state.user.id)));
  document.querySelectorAll('#clock-controls button').forEach((b) =>
    b.addEventListener('click', () => advanceClock(Number(b.dataset.seconds))));
  $('error-dismiss').addEventListener('click', clearError);
  $('reset-demo').addEventListener('click', () => { resetDemo(); });

  const input = $('command-input');
  $('command-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    pushHistory(text);
    input.value = '';
    try {
      await sendCommand(text);
    } catch (e) {
      showError(e.message, e.field);
      if (!input.value) input.value = text;  // let the user fix a failed command
    }
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowUp' && state.historyPos > 0) {
      state.historyPos -= 1;
    } else if (ev.key === 'ArrowDown' && state.historyPos < state.history.length) {
      state.historyPos += 1;
    } else return;
    ev.preventDefault();
    input.value = state.history[state.historyPos] ?? '';
    input.setSelectionRange(input.value.length, input.value.length);
  });
}

function init() {
  const saved = load(STORE_USER, null);
  if (saved && saved.id) state.user = { id: String(saved.id), name: String(saved.name || saved.id), locale: String(saved.locale || 'en') };
  const hist = load(STORE_HISTORY, []);
  state.history = Array.isArray(hist) ? hist.map(String) : [];
  state.historyPos = state.history.length;
  loadCommands();
  wire();
  $('user-id').value = state.user.id;
  $('user-name').value = state.user.name;
  ensureOption($('user-locale'), state.user.locale);
  renderCurrentUser();
  state.conversations = ['general'];
  setConversation(load(STORE_CONV, 'general'));
  pollSlow();
}

// Safety net: nothing should ever surface as an uncaught promise rejection.
window.addEventListener('unhandledrejection', (ev) => {
  ev.preventDefault();
  showError(ev.reason && ev.reason.message ? ev.reason.message : String(ev.reason));
});

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
