// How many traces the list can say there are: the health report's estimate (max(rowid),
// read by the health poll, so the list runs no query of its own: issue 11), COUNT(*) when
// the user asks, and whether someone committed since the list was loaded.
import type { TraceRow } from '../../src/shared/protocol';
import type { BarState } from './listBar';

/** The list, as far as its counts depend on it. */
export interface ListFacts {
  rows: readonly TraceRow[];
  /** Rows dropped above the first one kept. */
  dropped: number;
  filtered: boolean;
  /** Sorted by time, newest first: the only order whose top is where new traces go. */
  newestFirst: boolean;
  /** Loaded or empty: the rows are what the query found. */
  settled: boolean;
  hasMore: boolean;
}

export interface CountEvents {
  started(): void;
  /** COUNT(*) failed for the list still shown. */
  failed(message: string): void;
  ended(): void;
}

export class ListCounts {
  private newData = false;
  private estimate?: number;
  private exactCount?: number;
  private counting = false;
  /** Bumped by each new list: a count answered for an older one is not shown. */
  private generation = 0;

  /** `newestAmong`: the first rows, among which the newest one is (a page). */
  constructor(private readonly newestAmong: number) {}

  /** A new list is loading: nothing is new yet, and its exact count is unknown. */
  restart(): void {
    this.generation++;
    this.newData = false;
    this.exactCount = undefined;
  }

  /** Other filters: the exact count no longer holds. */
  forgetExact(): void {
    this.exactCount = undefined;
  }

  /** Someone committed; `estimate` is the health report's latest count, when it has one. */
  markNewData(estimate?: number): void {
    if (estimate !== undefined) this.estimate = estimate;
    this.newData = true;
  }

  setEstimate(n: number | undefined): void {
    this.estimate = n;
  }

  /** Runs COUNT(*) (`count`); its answer counts only if the list is still the one it counted. */
  async countExactly(count: () => Promise<number>, on: CountEvents): Promise<void> {
    const gen = this.generation;
    this.counting = true;
    on.started();
    try {
      const n = await count();
      if (gen === this.generation) this.exactCount = n;
    } catch (e) {
      if (gen === this.generation) on.failed((e as Error).message);
    } finally {
      this.counting = false;
      on.ended();
    }
  }

  /** What the bar above the list says. */
  bar(f: ListFacts): BarState {
    return {
      newData: this.newData,
      newCount: this.newCount(f),
      counting: this.counting,
      exactCount: this.exactCount,
      estimate: this.estimate,
      filtered: f.filtered,
      shown: f.settled ? f.rows.length + f.dropped : undefined,
      hasMore: f.hasMore,
    };
  }

  /** Traces in the list when known (the grid's aria-rowcount): the exact count, or every row once all are loaded. */
  total(f: ListFacts): number | undefined {
    return this.exactCount !== undefined ? this.exactCount : !f.hasMore && f.settled ? f.dropped + f.rows.length : undefined;
  }

  /** How many traces are newer than the newest row shown, when the health report's max(rowid) can say. */
  private newCount(f: ListFacts): number | undefined {
    if (this.estimate === undefined || f.filtered || !f.newestFirst || f.dropped || !f.rows.length) return undefined;
    const newest = Math.max(...f.rows.slice(0, this.newestAmong).map((r) => r.rowid));
    const n = this.estimate - newest;
    return n > 0 ? n : undefined;
  }
}
