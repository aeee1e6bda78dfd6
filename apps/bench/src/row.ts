/** A budget on a row's `ratio`: at most or at least `limit`. */
export interface Budget {
  op: '<=' | '>=';
  limit: number;
}

/** One line of the table: a figure beside its baseline measured in the same run. */
export interface Row {
  /** Stable name, for `--only` and the JSON. */
  id: string;
  figure: string;
  baseline: string;
  /** The figure and the baseline, in `unit`. */
  value: number;
  baselineValue: number;
  unit: string;
  /** What the budget is on, as the budget states it (for example the figure's time over the baseline's). */
  ratio: number;
  /** How `ratio` reads, after the number: `× the floor's time`. */
  ratioLabel: string;
  /** Interquartile range of `ratio` over the rounds, when it is a median of rounds. */
  spread?: [number, number];
  /** Absent: the row is reported, not checked. */
  budget?: Budget;
  /** The budget in `unit`, where the chart draws it. */
  limitValue?: number;
  /** Anything a reader needs to trust the figure (what was counted, what was skipped). */
  note?: string;
  /** Set when the row could not be measured here (no Redis): not a failure, not a pass. */
  skipped?: string;
}

/** Whether `row` keeps its budget; `undefined` when it has none or was skipped. */
export function withinBudget(row: Row): boolean | undefined {
  if (row.budget === undefined || row.skipped !== undefined) return undefined;
  return row.budget.op === '<=' ? row.ratio <= row.budget.limit : row.ratio >= row.budget.limit;
}
