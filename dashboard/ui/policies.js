// @ts-check
import { followLiveStream } from './live.js';
import { createHeader } from './page-header.js';
import { PolicyApiError, policiesApi as api } from './policies-api.js';
import { byId, fillSelect, h } from './policies-dom.js';
import { startPageSession } from './page-session.js';
import { renderCalendar, renderPresence, renderSlots, renderZones } from './policies-editor.js';
import {
  OVERRIDE_TARGETS,
  ZONE_CATEGORIES,
  applyCabinetEvent,
  buildOverrideRequest,
  clonePlan,
  defaultWhen,
  draftProblems,
  localDateOf,
  samePlan,
  toLocalInput,
} from './policies-model.js';
import { curveText, renderCurve, renderFindings, renderOverrides, renderRollout, renderVersionDetail, renderVersions, renderWhatIf } from './policies-panels.js';

/**
 * The policy editor page (/politiques): a draft of the town's plan edited in the browser,
 * checked, simulated and drawn by the API, then published; rollout, history and overrides.
 */

const HEALTH_REFRESH_MS = 5_000;
const ROLLOUT_REFRESH_MS = 5_000;
const OVERRIDES_REFRESH_MS = 10_000;
/** Typing pauses this long before the curve is asked again. */
const CURVE_DEBOUNCE_MS = 250;

const ui = {
  editor: byId('editor'),
  townName: byId('town-name'),
  clock: byId('clock'),
  live: byId('live'),
  error: byId('load-error'),
  draftState: byId('draft-state'),
  draftProblems: /** @type {HTMLUListElement} */ (byId('draft-problems')),
  checkButton: /** @type {HTMLButtonElement} */ (byId('check-button')),
  whatIfButton: /** @type {HTMLButtonElement} */ (byId('whatif-button')),
  publishButton: /** @type {HTMLButtonElement} */ (byId('publish-button')),
  resetButton: /** @type {HTMLButtonElement} */ (byId('reset-button')),
  publishResult: byId('publish-result'),
  defaultProfile: /** @type {HTMLSelectElement} */ (byId('default-profile')),
  zonesBody: /** @type {HTMLTableSectionElement} */ (byId('zones-body')),
  zoneForm: /** @type {HTMLFormElement} */ (byId('zone-form')),
  zoneFormTitle: byId('zone-form-title'),
  zoneFormError: byId('zone-form-error'),
  zoneFormCancel: byId('zone-form-cancel'),
  profileSelect: /** @type {HTMLSelectElement} */ (byId('profile-select')),
  profileDelete: /** @type {HTMLButtonElement} */ (byId('profile-delete')),
  profileNew: /** @type {HTMLFormElement} */ (byId('profile-new')),
  profileNewName: /** @type {HTMLInputElement} */ (byId('profile-new-name')),
  profileUsage: byId('profile-usage'),
  slotsBody: /** @type {HTMLTableSectionElement} */ (byId('slots-body')),
  slotAdd: byId('slot-add'),
  presence: /** @type {HTMLFieldSetElement} */ (byId('presence')),
  curveDate: /** @type {HTMLInputElement} */ (byId('curve-date')),
  curve: /** @type {SVGSVGElement} */ (byId('curve')),
  curveRule: byId('curve-rule'),
  curveSummary: byId('curve-summary'),
  calendar: /** @type {HTMLOListElement} */ (byId('calendar-list')),
  ruleAdd: byId('rule-add'),
  findingsSummary: byId('findings-summary'),
  findings: /** @type {HTMLUListElement} */ (byId('findings')),
  whatIfSummary: byId('whatif-summary'),
  whatIfTable: /** @type {HTMLTableElement} */ (byId('whatif-table')),
  rolloutSummary: byId('rollout-summary'),
  rolloutProgress: /** @type {HTMLProgressElement} */ (byId('rollout-progress')),
  rolloutBody: /** @type {HTMLTableSectionElement} */ (byId('rollout-body')),
  versionsBody: /** @type {HTMLTableSectionElement} */ (byId('versions-body')),
  versionDetail: byId('version-detail'),
  overrideForm: /** @type {HTMLFormElement} */ (byId('override-form')),
  overrideError: byId('override-error'),
  overrideIds: byId('override-ids'),
  overridesBody: /** @type {HTMLTableSectionElement} */ (byId('overrides-body')),
};

/** A plan to start from when none was ever published. */
const EMPTY_PLAN = {
  id: 'plan-communal',
  failsafeLevel: 100,
  defaultProfile: 'standard',
  zones: {},
  profiles: { standard: { schedule: [{ from: 'dusk', to: 'dawn', level: 100 }] } },
};

/** Everything a signed-in session holds; dropped whole on sign-out. */
const state = {
  timeZone: 'Europe/Paris',
  clockMs: 0,
  /** @type {any | null} the version in force */
  current: null,
  /** @type {any} the plan being edited */
  draft: clonePlan(EMPTY_PLAN),
  profile: 'standard',
  /** @type {any[]} */
  zones: [],
  /** @type {any | null} */
  rollout: null,
  /** @type {Record<string, string[]>} suggestions for an override's target id, by type */
  targets: {},
  /** @type {string | null} zone whose metadata form is open */
  editingZone: null,
  curveSeq: 0,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  curveTimer: undefined,
};

// ---------------- header, errors ----------------

const { showClock, showLive, showError } = createHeader(ui, state);

/** @param {unknown} e */
const messageOf = (e) => (e instanceof Error ? e.message : String(e));

/** @param {unknown} e */
function onFailure(e) {
  if (session.refused(e)) return;
  showError(`Erreur du contrôleur : ${messageOf(e)}`);
}

/**
 * A button's action, the button disabled while it runs and failures shown.
 * @param {HTMLButtonElement} button
 * @param {() => Promise<void>} task
 */
function busy(button, task) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  task()
    .catch(onFailure)
    .finally(() => {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    });
}

// ---------------- the draft ----------------

const editorContext = {
  get draft() {
    return state.draft;
  },
  /** @param {boolean} structural */
  changed: (structural) => draftChanged(structural),
};

/** @param {boolean} structural rows added, removed or moved: draw the editors again */
function draftChanged(structural) {
  if (structural) renderEditors();
  showProfileUsage();
  showDraftState();
  scheduleCurve();
}

function showDraftState() {
  const problems = draftProblems(state.draft);
  const same = state.current !== null && samePlan(state.draft, state.current.plan);
  ui.draftState.dataset.dirty = String(!same);
  ui.draftState.textContent = state.current
    ? same
      ? `Identique à la version ${state.current.version} en vigueur.`
      : `Modifications non publiées (par rapport à la version ${state.current.version}).`
    : 'Aucune politique publiée : ce brouillon sera la version 1.';
  ui.draftProblems.replaceChildren(
    ...problems.map((p) => h('li', { class: 'error', 'data-field': p.field }, h('code', {}, p.field), ` : ${p.message}`)),
  );
  ui.publishButton.disabled = problems.length > 0 || same;
  ui.checkButton.disabled = problems.length > 0;
  ui.whatIfButton.disabled = problems.length > 0;
  ui.resetButton.disabled = same;
}

function renderEditors() {
  const names = Object.keys(state.draft.profiles).sort();
  if (!names.includes(state.profile)) state.profile = names[0] ?? '';
  fillSelect(ui.profileSelect, names.map((p) => [p, p]), state.profile);
  fillSelect(ui.defaultProfile, names.map((p) => [p, p]), state.draft.defaultProfile);
  renderZones(ui.zonesBody, state.zones, editorContext, openZoneForm);
  renderSlots(ui.slotsBody, state.profile, editorContext);
  renderPresence(ui.presence, state.profile, editorContext);
  renderCalendar(ui.calendar, editorContext);
  ui.profileDelete.disabled = names.length <= 1;
}

/** Who follows the profile shown: zones, the default, calendar rules. */
function showProfileUsage() {
  const users = state.zones.filter((z) => (Object.hasOwn(state.draft.zones, z.name) ? state.draft.zones[z.name] : state.draft.defaultProfile) === state.profile);
  const byRule = (state.draft.calendar ?? []).filter((/** @type {any} */ r) => Object.values(r.profiles).includes(state.profile)).length;
  ui.profileUsage.textContent =
    (users.length ? `Suivi par : ${users.map((z) => z.label).join(', ')}.` : 'Suivi par aucune zone.') +
    (state.draft.defaultProfile === state.profile ? ' Profil par défaut.' : '') +
    (byRule ? ` Remplaçant dans ${byRule} règle${byRule > 1 ? 's' : ''} du calendrier.` : '');
}

/** @param {any | null} version */
function loadDraft(version) {
  state.current = version;
  state.draft = clonePlan(version ? version.plan : EMPTY_PLAN);
  draftChanged(true);
}

ui.profileSelect.addEventListener('change', () => {
  state.profile = ui.profileSelect.value;
  draftChanged(true);
});

ui.defaultProfile.addEventListener('change', () => {
  state.draft.defaultProfile = ui.defaultProfile.value;
  draftChanged(true);
});

ui.profileDelete.addEventListener('click', () => {
  const name = state.profile;
  const draft = state.draft;
  const used =
    draft.defaultProfile === name ||
    Object.values(draft.zones).includes(name) ||
    (draft.calendar ?? []).some((/** @type {any} */ r) => Object.hasOwn(r.profiles, name) || Object.values(r.profiles).includes(name));
  if (used) {
    showError(`Le profil « ${name} » est utilisé (zone, profil par défaut ou calendrier) : retirez-le d’abord.`);
    return;
  }
  showError(null);
  delete draft.profiles[name];
  draftChanged(true);
});

ui.profileNew.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const name = ui.profileNewName.value.trim();
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name) || Object.hasOwn(state.draft.profiles, name)) {
    ui.profileNewName.setAttribute('aria-invalid', 'true');
    return;
  }
  ui.profileNewName.removeAttribute('aria-invalid');
  const source = state.draft.profiles[state.profile];
  state.draft.profiles[name] = source ? clonePlan(source) : { schedule: [{ from: 'dusk', to: 'dawn', level: 100 }] };
  state.profile = name;
  ui.profileNewName.value = '';
  draftChanged(true);
});

ui.slotAdd.addEventListener('click', () => {
  const profile = state.draft.profiles[state.profile];
  if (!profile) return;
  profile.schedule.push({ from: 'dusk', to: 'dawn', level: 50 });
  draftChanged(true);
});

ui.ruleAdd.addEventListener('click', () => {
  const calendar = (state.draft.calendar ??= []);
  calendar.push({ name: 'Nouvelle règle', when: defaultWhen('weekdays'), profiles: { [state.profile]: state.profile } });
  draftChanged(true);
});

ui.resetButton.addEventListener('click', () => {
  loadDraft(state.current);
  ui.publishResult.hidden = true;
});

// ---------------- the curve ----------------

function scheduleCurve() {
  clearTimeout(state.curveTimer);
  state.curveTimer = setTimeout(() => {
    refreshCurve().catch(onFailure);
  }, CURVE_DEBOUNCE_MS);
}

async function refreshCurve() {
  const seq = ++state.curveSeq;
  const profile = state.profile;
  const date = ui.curveDate.value;
  if (!profile || !date) return;
  // Drawing a draft is for those who may publish one; the others read the plan in force.
  if (!session.may('POST /api/plan/curve')) {
    await refreshCurveInForce(seq, profile, date);
    return;
  }
  if (draftProblems(state.draft).length > 0) {
    ui.curveSummary.textContent = 'Corrigez le brouillon pour voir la courbe.';
    return;
  }
  const draft = clonePlan(state.draft);
  const inForce = state.current !== null && Object.hasOwn(state.current.plan.profiles, profile);
  let drafted;
  let current;
  try {
    [drafted, current] = await Promise.all([api.curve(profile, date, draft), inForce ? api.curve(profile, date) : Promise.resolve(null)]);
  } catch (e) {
    if (seq !== state.curveSeq) return;
    if (e instanceof PolicyApiError && e.status !== 401) {
      ui.curveSummary.textContent = `Courbe indisponible : ${e.message}`;
      return;
    }
    throw e;
  }
  // An answer to an older edit must not overwrite a newer one.
  if (seq !== state.curveSeq) return;
  showCurve(profile, drafted, current);
  ui.curveSummary.textContent = `Brouillon : ${curveText(drafted)}.` + (current ? ` En vigueur : ${curveText(current)}.` : '');
}

/**
 * The curve of `profile` (and `compare` beside it, if any), with the calendar rule that chose it.
 * @param {string} profile
 * @param {any} shown
 * @param {any} compare
 */
function showCurve(profile, shown, compare) {
  renderCurve(ui.curve, shown, compare);
  ui.curve.dataset.profile = profile;
  ui.curveRule.textContent = shown.calendarRule
    ? `Cette nuit-là, la règle du calendrier « ${shown.calendarRule} » fait suivre le profil « ${shown.effectiveProfile} ».`
    : '';
}

/**
 * @param {number} seq
 * @param {string} profile
 * @param {string} date
 */
async function refreshCurveInForce(seq, profile, date) {
  if (state.current === null || !Object.hasOwn(state.current.plan.profiles, profile)) {
    ui.curve.replaceChildren();
    ui.curveSummary.textContent = 'Aucune politique en vigueur pour ce profil.';
    return;
  }
  const current = await api.curve(profile, date);
  if (seq !== state.curveSeq) return;
  showCurve(profile, current, null);
  ui.curveSummary.textContent = `En vigueur : ${curveText(current)}.`;
}

ui.curveDate.addEventListener('change', () => scheduleCurve());

// ---------------- check, what-if, publish ----------------

ui.checkButton.addEventListener('click', () =>
  busy(ui.checkButton, async () => {
    ui.findingsSummary.textContent = 'Vérification sur une année de nuits…';
    const report = await api.check(clonePlan(state.draft)).catch(showRequestError);
    if (report) renderFindings(ui.findingsSummary, ui.findings, report.findings);
  }),
);

ui.whatIfButton.addEventListener('click', () =>
  busy(ui.whatIfButton, async () => {
    ui.whatIfSummary.textContent = 'Simulation en cours…';
    const result = await api.whatIf(clonePlan(state.draft)).catch(showRequestError);
    if (result) renderWhatIf(ui.whatIfSummary, ui.whatIfTable, result);
  }),
);

/**
 * A 400 (the field named) or 422 (the findings) shown by the draft; anything else rethrown.
 * @param {unknown} e
 * @returns {null}
 */
function showRequestError(e) {
  if (!(e instanceof PolicyApiError) || (e.status !== 400 && e.status !== 422)) throw e;
  if (e.findings) {
    renderFindings(ui.findingsSummary, ui.findings, e.findings, 'Publication refusée :');
    ui.findings.scrollIntoView({ block: 'nearest' });
  }
  showPublishResult('error', e.message);
  return null;
}

/**
 * @param {'ok' | 'error'} kind
 * @param {string} text
 * @param {Node[]} [more]
 */
function showPublishResult(kind, text, more = []) {
  ui.publishResult.hidden = false;
  ui.publishResult.dataset.kind = kind;
  ui.publishResult.replaceChildren(h('p', { class: kind === 'error' ? 'error' : '' }, text), ...more);
}

/** @param {any} saved PUT /api/plan or POST /api/plan/rollback */
async function afterPublish(saved) {
  const warnings = saved.findings.filter((/** @type {any} */ f) => f.severity === 'warning');
  showPublishResult(
    'ok',
    `Version ${saved.version} publiée${saved.cabinets === null ? '' : ` vers ${saved.cabinets} armoire${saved.cabinets > 1 ? 's' : ''}`}. ${saved.diff.summary}.`,
    warnings.length ? [h('p', {}, `${warnings.length} avertissement${warnings.length > 1 ? 's' : ''} : voir Conformité.`)] : [],
  );
  renderFindings(ui.findingsSummary, ui.findings, saved.findings);
  const { findings: _f, diff: _d, cabinets: _c, ...version } = saved;
  loadDraft(version);
  await Promise.all([refreshRollout(), refreshVersions(), refreshZones()]);
}

ui.publishButton.addEventListener('click', () =>
  busy(ui.publishButton, async () => {
    const saved = await api.publish(clonePlan(state.draft)).catch(showRequestError);
    if (saved) await afterPublish(saved);
  }),
);

// ---------------- zones ----------------

async function refreshZones() {
  state.zones = await api.zones();
  state.targets.zone = state.zones.map((z) => z.name);
  renderZones(ui.zonesBody, state.zones, editorContext, openZoneForm);
}

/** @param {any} zone */
function openZoneForm(zone) {
  state.editingZone = zone.name;
  const f = ui.zoneForm.elements;
  const field = (/** @type {string} */ name) => /** @type {HTMLInputElement} */ (f.namedItem(name));
  ui.zoneFormTitle.textContent = `Zone « ${zone.name} »`;
  field('label').value = zone.label;
  fillSelect(/** @type {HTMLSelectElement} */ (/** @type {unknown} */ (field('category'))), ZONE_CATEGORIES, zone.category);
  field('closingTime').value = zone.closingTime ?? '';
  field('activityEnd').value = zone.activityEnd ?? '';
  field('maxLevel').value = zone.maxLevel === undefined ? '' : String(zone.maxLevel);
  field('extinctionFrom').value = zone.extinction?.from ?? '';
  field('extinctionTo').value = zone.extinction?.to ?? '';
  ui.zoneFormError.textContent = '';
  ui.zoneForm.hidden = false;
  field('label').focus();
}

ui.zoneFormCancel.addEventListener('click', () => {
  ui.zoneForm.hidden = true;
  state.editingZone = null;
});

ui.zoneForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const zone = state.editingZone;
  if (!zone) return;
  const data = new FormData(ui.zoneForm);
  const text = (/** @type {string} */ k) => String(data.get(k) ?? '').trim();
  /** @type {Record<string, unknown>} */
  const update = { label: text('label'), category: text('category') };
  for (const k of ['closingTime', 'activityEnd']) if (text(k)) update[k] = text(k);
  if (text('maxLevel')) update.maxLevel = Number(text('maxLevel'));
  if (text('extinctionFrom') || text('extinctionTo')) update.extinction = { from: text('extinctionFrom'), to: text('extinctionTo') };
  api
    .updateZone(zone, update)
    .then(async () => {
      ui.zoneForm.hidden = true;
      state.editingZone = null;
      await refreshZones();
    })
    .catch((e) => {
      if (e instanceof PolicyApiError && e.status === 400) ui.zoneFormError.textContent = e.message;
      else onFailure(e);
    });
});

// ---------------- rollout, history ----------------

async function refreshRollout() {
  state.rollout = await api.rollout();
  state.targets.cabinet = state.rollout.cabinets.map((/** @type {any} */ c) => c.cabinetId);
  renderRollout(ui.rolloutSummary, ui.rolloutProgress, ui.rolloutBody, state.rollout);
}

async function refreshVersions() {
  const versions = await api.versions();
  renderVersions(ui.versionsBody, versions, state.timeZone, {
    show: (v) => {
      api.version(v).then((d) => renderVersionDetail(ui.versionDetail, d, state.timeZone)).catch(onFailure);
    },
    load: (v) => {
      api
        .version(v)
        .then((d) => {
          state.draft = clonePlan(d.plan);
          draftChanged(true);
          showPublishResult('ok', `Version ${v} chargée dans le brouillon : vérifiez-la, puis publiez-la.`);
        })
        .catch(onFailure);
    },
    rollback: (v) => {
      if (!window.confirm(`Publier à nouveau la version ${v} vers toutes les armoires ?`)) return;
      api
        .rollback(v)
        .catch(showRequestError)
        .then((saved) => (saved ? afterPublish(saved) : undefined))
        .catch(onFailure);
    },
  });
}

// ---------------- overrides ----------------

async function refreshOverrides() {
  renderOverrides(ui.overridesBody, await api.overrides(), state.timeZone, (id) => {
    api
      .clearOverride(id)
      .then(() => refreshOverrides())
      .catch(onFailure);
  });
}

function overrideTargetChanged() {
  const f = ui.overrideForm.elements;
  const type = /** @type {HTMLSelectElement} */ (f.namedItem('targetType')).value;
  const id = /** @type {HTMLInputElement} */ (f.namedItem('targetId'));
  id.disabled = type === 'town';
  ui.overrideIds.replaceChildren(...(state.targets[type] ?? []).map((v) => h('option', { value: v })));
}

function initOverrideForm() {
  const f = ui.overrideForm.elements;
  fillSelect(/** @type {HTMLSelectElement} */ (f.namedItem('targetType')), OVERRIDE_TARGETS, 'zone');
  /** @type {HTMLInputElement} */ (f.namedItem('until')).value = toLocalInput(state.clockMs + 3_600_000, state.timeZone);
  overrideTargetChanged();
}

/** @type {HTMLSelectElement} */ (ui.overrideForm.elements.namedItem('targetType')).addEventListener('change', overrideTargetChanged);

ui.overrideForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const data = new FormData(ui.overrideForm);
  const text = (/** @type {string} */ k) => String(data.get(k) ?? '');
  const built = buildOverrideRequest(
    {
      targetType: text('targetType'),
      targetId: text('targetId'),
      level: text('level'),
      endMode: text('endMode') === 'until' ? 'until' : 'duration',
      durationMin: text('durationMin'),
      until: text('until'),
      reason: text('reason'),
    },
    state.timeZone,
  );
  if (!built.ok) {
    ui.overrideError.textContent = `${built.field} : ${built.message}`;
    return;
  }
  ui.overrideError.textContent = '';
  const submit = /** @type {HTMLButtonElement} */ (ui.overrideForm.querySelector('button[type=submit]'));
  busy(submit, async () => {
    try {
      await api.setOverride(built.request);
    } catch (e) {
      if (e instanceof PolicyApiError && e.status !== 401 && e.status < 500) {
        ui.overrideError.textContent = e.message;
        return;
      }
      throw e;
    }
    /** @type {HTMLInputElement} */ (ui.overrideForm.elements.namedItem('reason')).value = '';
    await refreshOverrides();
  });
});

// ---------------- session ----------------

/** @param {any} event a LiveEvent */
function onLiveEvent(event) {
  if (event.type === 'cabinet' && state.rollout) {
    state.rollout = applyCabinetEvent(state.rollout, event.cabinet);
    renderRollout(ui.rolloutSummary, ui.rolloutProgress, ui.rolloutBody, state.rollout);
  } else if (event.type === 'lamps' || event.type === 'presence') {
    showClock(event.ts);
  }
}

async function enter() {
  session.onLeave(() => {
    showLive('off');
    clearTimeout(state.curveTimer);
    ui.zoneForm.hidden = true;
    ui.publishResult.hidden = true;
    state.editingZone = null;
  });
  const [town, health, current] = await Promise.all([api.town(), api.health(), api.currentPlan()]);
  state.timeZone = town.site.timezone;
  state.clockMs = 0;
  showClock(health.time);
  ui.townName.textContent = town.name;
  document.title = `Luciole — politiques d’éclairage — ${town.name}`;
  ui.curveDate.value = localDateOf(health.time, state.timeZone);

  const [zones, groups] = await Promise.all([api.zones(), api.groups()]);
  state.zones = zones;
  state.targets = { zone: zones.map((/** @type {any} */ z) => z.name), group: groups.map((/** @type {any} */ g) => g.id) };
  showError(null);
  loadDraft(current);
  await Promise.all([refreshRollout(), refreshVersions()]);
  initOverrideForm();

  session.repeat(async () => showClock((await api.health()).time), HEALTH_REFRESH_MS, onFailure);
  session.repeat(refreshRollout, ROLLOUT_REFRESH_MS, onFailure);
  session.repeat(refreshOverrides, OVERRIDES_REFRESH_MS, onFailure);
  // Lamp ids for the override form, loaded once: the inventory changes rarely.
  api
    .lamps()
    .then((lamps) => {
      state.targets.lamp = lamps.map((/** @type {any} */ l) => l.id);
    })
    .catch(onFailure);

  followLiveStream(session, { onEvent: onLiveEvent, showLive, resync: () => refreshRollout().catch(onFailure) });
}

showLive('off');
const session = startPageSession({ content: ui.editor, enter });
