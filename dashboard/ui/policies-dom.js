// @ts-check
/** A small element builder for the policy editor: text goes in as text, never as HTML. */

/**
 * @param {string} tag
 * @param {Record<string, string | number | boolean | null | undefined | ((ev: any) => void)>} [attrs]
 *   `on<event>`: a listener; `true`: an empty attribute; null, undefined or false: left out
 * @param {Array<Node | string | null | undefined | false>} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'value' && 'value' in e) /** @type {HTMLInputElement} */ (e).value = String(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * @param {string} tag
 * @param {Record<string, string | number>} [attrs]
 * @param {Array<Node | string>} children
 * @returns {SVGElement}
 */
export function s(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c);
  return e;
}

/**
 * @template {Element} [T=HTMLElement]
 * @param {string} id
 * @returns {T}
 */
export function byId(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`élément #${id} absent`);
  return /** @type {T} */ (/** @type {unknown} */ (e));
}

/**
 * `<option>`s for a select, the current value selected.
 * @param {HTMLSelectElement} select
 * @param {ReadonlyArray<readonly [string, string]>} options value, label
 * @param {string} value
 */
export function fillSelect(select, options, value) {
  select.replaceChildren(...options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
  select.value = value;
}
