/** A table that scrolls sideways inside its own box (never the page), with its column heads. */
import type { ReactNode } from 'react';

export interface Column {
  label: string;
  /** 'n': a number column (right-aligned). */
  className?: string;
  /** Read by screen readers only (an actions column). */
  hidden?: boolean;
}

export function ScrollTable({ label, columns, children }: { label: string; columns: (string | Column)[]; children: ReactNode }) {
  return (
    <div className="table-scroll" tabIndex={0} aria-label={`${label} (scrolls sideways)`}>
      <table>
        <thead>
          <tr>
            {columns.map((c) => {
              const col = typeof c === 'string' ? { label: c } : c;
              return (
                <th key={col.label} scope="col" className={col.className}>
                  {col.hidden ? <span className="sr-only">{col.label}</span> : col.label}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
