// @ts-check
import { formatClock } from './format.js';

/**
 * What every page shows in its header and above its content: the controller's clock (it never
 * goes back: events may arrive out of order), the live stream's state, and the error line.
 * `state.clockMs` is the page's notion of now, read by the page too.
 * @param {{ clock: HTMLElement, live: HTMLElement, error: HTMLElement }} ui
 * @param {{ clockMs: number, timeZone: string }} state
 */
export function createHeader(ui, state) {
  return {
    /** @param {number} ts */
    showClock(ts) {
      if (ts < state.clockMs) return;
      state.clockMs = ts;
      ui.clock.textContent = formatClock(ts, state.timeZone);
      ui.clock.setAttribute('datetime', new Date(ts).toISOString());
    },
    /** @param {'connecting' | 'live' | 'reconnecting' | 'off'} s */
    showLive(s) {
      ui.live.dataset.state = s;
      ui.live.textContent = s === 'live' ? 'en direct' : s === 'connecting' ? 'connexion…' : s === 'reconnecting' ? 'reconnexion…' : 'hors ligne';
    },
    /** @param {string | null} message */
    showError(message) {
      ui.error.textContent = message ?? '';
      ui.error.hidden = message === null;
    },
  };
}
