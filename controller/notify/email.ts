import { z } from 'zod';
import nodemailer from 'nodemailer';
import type { Logger } from '../../core/log.js';
import { siteSchema } from '../../protocol/index.js';
import { byFr, count, frDateTime } from '../alerts/alert-text.js';
import { kindFr, SEVERITY_FR, STATE_FR } from '../alerts/labels.js';
import { CONTROLLER_SUBJECT } from '../detection/types.js';
import type { AlertView } from '../views.js';
import { SerialQueue } from './serial-queue.js';
import type { AlertNotice, Channel, Delivery } from './notification.js';

export const emailConfigSchema = z.object({
  name: z.string().min(1).max(64),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65_535).default(587),
  /** true: TLS from the start (465); false: STARTTLS when offered. */
  secure: z.boolean().default(false),
  /** Refuse to send without STARTTLS (on by default: alerts name places and faults). */
  requireTLS: z.boolean().default(true),
  user: z.string().optional(),
  password: z.string().optional(),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1).max(100),
  /** Base URL of the dashboard, for links in the mails. */
  dashboardUrl: z.string().optional(),
  /** Dates in the mails are written at this time zone (the town's). */
  timeZone: siteSchema.shape.timezone.default('Europe/Paris'),
  maxQueue: z.number().int().positive().default(200),
});
export type EmailConfig = z.input<typeof emailConfigSchema>;

const CHANGE_FR: Record<AlertNotice['change'], string> = {
  opened: 'Nouvelle alerte',
  reopened: 'Alerte rouverte',
  escalated: 'Alerte aggravée',
  resolved: 'Alerte résolue',
  acknowledged: 'Alerte prise en charge',
  updated: 'Alerte mise à jour',
};

/** Severity as the mail says it: critical in capitals, to stand out in a mailbox. */
function severity(a: AlertView): string {
  return a.severity === 'critical' ? SEVERITY_FR.critical.toUpperCase() : SEVERITY_FR[a.severity];
}

/** What the alert is about, in words: « lampe L-3 », « capteur S-1 (lampe L-3) », « armoire ARM-01 ». */
function about(a: AlertView): string {
  if (a.subject && a.lampId) return `capteur ${a.subject} (lampe ${a.lampId})`;
  if (a.lampId) return `lampe ${a.lampId}`;
  if (a.cabinetId === CONTROLLER_SUBJECT) return 'contrôleur';
  return `armoire ${a.cabinetId}`;
}

export interface MailOptions {
  /** The town's time zone, for dates. */
  timeZone: string;
  /** Base URL of the dashboard: makes the history link clickable. */
  dashboardUrl?: string | undefined;
}

function describe(a: AlertView, o: MailOptions): string {
  const tz = o.timeZone;
  const lines = [
    `${kindFr(a.kind)} — gravité ${severity(a)} — ${STATE_FR[a.state]}`,
    `Armoire : ${a.cabinetId}${a.lampId ? `   Lampe : ${a.lampId}` : ''}${a.subject ? `   Capteur : ${a.subject}` : ''}`,
    `Constat : ${a.detail}`,
    `Ouverte le ${frDateTime(a.openedAt, tz)}, vue ${a.count} fois, dernière fois le ${frDateTime(a.lastSeen, tz)}`,
  ];
  if (a.evidence) {
    const ev = a.evidence;
    lines.push(`Règle : ${ev.rule}`, `Attendu : ${ev.expected}`, `Mesuré : ${ev.measured}`, `Période : du ${frDateTime(ev.window.from, tz)} au ${frDateTime(ev.window.to, tz)}`);
    if (ev.link) lines.push(`Historique de la lampe : ${(o.dashboardUrl ?? '').replace(/\/+$/, '')}${ev.link}`);
  }
  if (a.folded?.length) lines.push(`Regroupe ${count(a.folded.length, 'alerte')} de lampes de l'armoire`);
  if (a.resolvedBy) lines.push(`Résolue par ${byFr(a.resolvedBy)} le ${frDateTime(a.resolvedAt, tz)}`);
  if (a.note) lines.push(`Note : ${a.note}`);
  return lines.join('\n');
}

const changes = (n: number): string => count(n, "changement d'alerte", "changements d'alertes");

/** Subject and plain-text body of a mail, in French. */
export function mailFor(d: Delivery, o: MailOptions = { timeZone: 'Europe/Paris' }): { subject: string; text: string } {
  if (d.type === 'alert') {
    const a = d.notice.alert;
    return {
      subject: `[Luciole] ${CHANGE_FR[d.notice.change]} ${severity(a)} : ${kindFr(a.kind)}, ${about(a)}`,
      text: describe(a, o),
    };
  }
  const critical = d.notices.filter((n) => n.alert.severity === 'critical').length;
  return {
    subject: `[Luciole] Récapitulatif : ${changes(d.notices.length)}${critical ? ` dont ${count(critical, 'critique')}` : ''}`,
    text: [
      `${changes(d.notices.length)} entre le ${frDateTime(d.from, o.timeZone)} et le ${frDateTime(d.to, o.timeZone)} :`,
      '',
      ...d.notices.map((n) => `- ${CHANGE_FR[n.change]} : ${kindFr(n.alert.kind)}, ${about(n.alert)} (${SEVERITY_FR[n.alert.severity]}) — ${n.alert.detail}`),
    ].join('\n'),
  };
}

/** Minimal transport surface we use, so tests can inspect it and nodemailer stays at the edge. */
export interface MailTransport {
  sendMail(mail: { from: string; to: string[]; subject: string; text: string }): Promise<unknown>;
  close(): void;
}

/**
 * E-mail through the town's SMTP server (nodemailer). Mails go one at a time from a bounded
 * queue; a failed mail is logged and dropped (the dashboard and webhooks still have it) —
 * throttling upstream keeps a storm to a few mails and digests.
 */
export class EmailChannel implements Channel {
  readonly name: string;
  private readonly cfg: z.output<typeof emailConfigSchema>;
  private transport: MailTransport | null = null;
  private readonly queue: SerialQueue<Delivery>;
  readonly stats = { sent: 0, failed: 0, dropped: 0 };

  constructor(
    config: EmailConfig,
    private readonly logger: Logger,
    private readonly makeTransport?: () => MailTransport,
  ) {
    this.cfg = emailConfigSchema.parse(config);
    this.name = `email:${this.cfg.name}`;
    this.queue = new SerialQueue<Delivery>({
      max: this.cfg.maxQueue,
      drain: () => this.drain(),
      onDropped: () => this.stats.dropped++,
      onError: (err) => this.logger.error({ err, channel: this.name }, 'mail worker failed'),
    });
  }

  start(): void {
    if (this.queue.running) return;
    this.transport = this.makeTransport
      ? this.makeTransport()
      : nodemailer.createTransport({
          host: this.cfg.host,
          port: this.cfg.port,
          secure: this.cfg.secure,
          requireTLS: this.cfg.requireTLS,
          ...(this.cfg.user ? { auth: { user: this.cfg.user, pass: this.cfg.password ?? '' } } : {}),
        });
    this.queue.start();
  }

  async stop(): Promise<void> {
    await this.queue.stop();
    this.transport?.close();
    this.transport = null;
  }

  deliver(d: Delivery): void {
    this.queue.push(d);
  }

  private async drain(): Promise<void> {
    while (this.queue.running && this.transport && this.queue.items.length > 0) {
      const d = this.queue.items.shift()!;
      const { subject, text } = mailFor(d, { timeZone: this.cfg.timeZone, dashboardUrl: this.cfg.dashboardUrl });
      try {
        await this.transport.sendMail({ from: this.cfg.from, to: this.cfg.to, subject, text });
        this.stats.sent++;
      } catch (err) {
        this.stats.failed++;
        this.logger.warn({ err, channel: this.name }, 'alert mail not sent');
      }
    }
  }
}
