/**
 * The downlink workflow's contract (workflows/downlink/downlink.ts, docs/downlink.md): its type
 * name, input and what one exchange with the cloud answers. Pure: the workflow imports it.
 */

/** The workflow type name (the exported function of workflows/downlink/downlink.ts). */
export const downlinkWorkflowType = 'edgeDownlink';

export interface DownlinkInput {
  edgeId: string;
  /** How long one pull waits for a command (DOWNLINK_WAIT_SECONDS). */
  waitSeconds: number;
  /** Exchanges before the run continues as new (keeps the history short); default 200. */
  exchangesPerRun?: number;
  /** Failed exchanges in a row, carried across continueAsNew so the backoff goes on. */
  failures?: number;
}

/** One exchange: the outcomes told, the commands pulled and applied; or why the cloud was not reached. */
export type ExchangeResult =
  | {
      kind: 'exchanged';
      received: number;
      applied: number;
      refused: number;
      skipped: number;
      /** Outcomes sent with the request, and how many of them the cloud recorded. */
      reported: number;
      recorded: number;
      effectsPending: number;
      /** A command that failed to apply (retried with the next pull). */
      failed?: { commandId: string; seq: number; error: string };
    }
  /** Nothing answered (offline), or 503: back off and try again; the edge works on. */
  | { kind: 'unreachable'; reason: string }
  /** The cloud refused the request (401 unknown_edge, 400 …): back off too; an operator fixes it. */
  | { kind: 'refused'; status: number; code: string; reason: string }
  /** No EDGE_SIGNING_KEY_FILE: this edge has no cloud. */
  | { kind: 'not_configured'; reason: string };

/** The activities the workflow calls (activities/downlink/). */
export interface DownlinkActivities {
  exchangeDownlinkCommands(input: { waitSeconds: number }): Promise<ExchangeResult>;
}
