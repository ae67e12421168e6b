/** The states of an outbox row (spec §7.2; the diagram is in sync/outbox.ts). */
export const outboxStatuses = ['pending', 'claimed', 'sending', 'sent', 'acked', 'dlq', 'failed'] as const;
export type OutboxStatus = (typeof outboxStatuses)[number];
export type DeadStatus = 'dlq' | 'failed';
