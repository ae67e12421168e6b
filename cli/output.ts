/**
 * What a command prints. With --json: one JSON document on stdout (an object, or an array for a
 * listing) with snake_case field names that stay stable; without: a table or short lines for a
 * person. Notes for a person (what happened, where a file went) go to stderr, so stdout stays the
 * data either way (with --json too: what a note says, such as "the password is shown only now",
 * matters to whoever runs the script).
 */

/** A cell of a listing: dates as ISO, arrays comma-joined, null as '-'. */
export type Cell = string | number | boolean | Date | readonly string[] | null | undefined;

function cellText(v: Cell): string {
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.join(',');
  return v === null || v === undefined ? '-' : String(v);
}

/** Rows as aligned columns under their names; `(none)` for no rows. */
export function table(rows: readonly Record<string, Cell>[], empty = '(none)'): string {
  if (rows.length === 0) return empty;
  const cols = Object.keys(rows[0]);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cellText(r[c]).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [line(cols), ...rows.map((r) => line(cols.map((c) => cellText(r[c]))))].join('\n');
}

export interface Output {
  readonly json: boolean;
  /** The command's data: `value` as JSON with --json, else the text `human` makes of it. */
  data<T>(value: T, human: (value: T) => string): void;
  /** A note for the person at the terminal: stderr, with --json too (stdout stays the data). */
  note(line: string): void;
}

export function output(
  json: boolean,
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Output {
  return {
    json,
    data(value, human) {
      out(`${json ? JSON.stringify(value, null, 2) : human(value)}\n`);
    },
    note(line) {
      err(`${line}\n`);
    },
  };
}
