import { z } from 'zod';
import nodemailer from 'nodemailer';
import type { Logger } from '../../core/log.js';
import type { AlertView } from '../views.js';
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
const SEVERITY_FR: Record<AlertView['severity'], string> = { critical: 'CRITIQUE', major: 'majeure', minor: 'mineure' };

function describe(a: AlertView): string {
  const lines = [
    `${a.kind} — ${SEVERITY_FR[a.severity]} — ${a.state}`,
    `Armoire : ${a.cabinetId}${a.lampId ? `   Lampe : ${a.lampId}` : ''}${a.subject ? `   Capteur : ${a.subject}` : ''}`,
    `Constat : ${a.detail}`,
    `Ouverte le ${new Date(a.openedAt).toISOString()}, vue ${a.count} fois, dernière ${new Date(a.lastSeen).toISOString()}`,
  ];
  if (a.evidence) {
    lines.push(`Règle : ${a.evidence.rule}`, `Attendu : ${a.evidence.expected}`, `Mesuré : ${a.evidence.measured}`);
    if (a.evidence.link) lines.push(`Historique : ${a.evidence.link}`);
  }
  if (a.folded?.length) lines.push(`Regroupe ${a.folded.length} alertes de lampes de l'armoire`);
  if (a.note) lines.push(`Note : ${a.note}`);
  return lines.join('\n');
}

/** Subject and plain-text body of a mail, in French. */
export function mailFor(d: Delivery): { subject: string; text: string } {
  if (d.type === 'alert') {
    const a = d.notice.alert;
    return {
      subject: `[Luciole] ${CHANGE_FR[d.notice.change]} ${SEVERITY_FR[a.severity]} : ${a.kind} ${a.lampId ?? a.cabinetId}`,
      text: describe(a),
    };
  }
  const critical = d.notices.filter((n) => n.alert.severity === 'critical').length;
  return {
    subject: `[Luciole] Récapitulatif : ${d.notices.length} changements d'alertes${critical ? ` dont ${critical} critiques` : ''}`,
    text: [
      `${d.notices.length} changements d'alertes entre ${new Date(d.from).toISOString()} et ${new Date(d.to).toISOString()} :`,
      '',
      ...d.notices.map((n) => `- ${CHANGE_FR[n.change]} : ${n.alert.kind} ${n.alert.lampId ?? n.alert.cabinetId} (${SEVERITY_FR[n.alert.severity]}) — ${n.alert.detail}`),
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
  private readonly queue: Delivery[] = [];
  private worker: Promise<void> | null = null;
  private running = false;
  readonly stats = { sent: 0, failed: 0, dropped: 0 };

  constructor(
    config: EmailConfig,
    private readonly logger: Logger,
    private readonly makeTransport?: () => MailTransport,
  ) {
    this.cfg = emailConfigSchema.parse(config);
    this.name = `email:${this.cfg.name}`;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.transport = this.makeTransport
      ? this.makeTransport()
      : nodemailer.createTransport({
          host: this.cfg.host,
          port: this.cfg.port,
          secure: this.cfg.secure,
          requireTLS: this.cfg.requireTLS,
          ...(this.cfg.user ? { auth: { user: this.cfg.user, pass: this.cfg.password ?? '' } } : {}),
        });
    this.kick();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.worker;
    this.transport?.close();
    this.transport = null;
  }

  deliver(d: Delivery): void {
    this.queue.push(d);
    if (this.queue.length > this.cfg.maxQueue) {
      this.queue.shift();
      this.stats.dropped++;
    }
    this.kick();
  }

  private kick(): void {
    if (!this.running || this.worker) return;
    this.worker = this.drain()
      .catch((err: unknown) => this.logger.error({ err, channel: this.name }, 'mail worker failed'))
      .finally(() => {
        this.worker = null;
        if (this.running && this.queue.length > 0) this.kick();
      });
  }

  private async drain(): Promise<void> {
    while (this.running && this.transport && this.queue.length > 0) {
      const d = this.queue.shift()!;
      const { subject, text } = mailFor(d);
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
