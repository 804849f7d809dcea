/**
 * Per phase and route: answers by status, latencies (every one kept: a soak is at most a few
 * hundred thousand requests) and network errors by name.
 * @module
 */

export interface RouteFigures {
  requests: number;
  /** Answers by HTTP status ("200": n, "304": n, …). */
  status: Record<string, number>;
  /** Requests that got no answer, by error name (a timeout is `TimeoutError`). */
  errors: Record<string, number>;
  rps: number;
  p50: number;
  p99: number;
  max: number;
}

class RouteStats {
  readonly status: Record<string, number> = {};
  readonly errors: Record<string, number> = {};
  readonly latencies: number[] = [];

  figures(seconds: number): RouteFigures {
    const sorted = Float64Array.from(this.latencies).sort();
    const errors = Object.values(this.errors).reduce((a, b) => a + b, 0);
    const requests = sorted.length + errors;
    return {
      requests,
      status: { ...this.status },
      errors: { ...this.errors },
      rps: round(requests / seconds, 1),
      p50: round(percentile(sorted, 0.5), 1),
      p99: round(percentile(sorted, 0.99), 1),
      max: round(sorted.length ? sorted[sorted.length - 1] : NaN, 1),
    };
  }
}

export class Recorder {
  private readonly routes = new Map<string, RouteStats>();

  private at(phase: string, route: string): RouteStats {
    const id = `${phase}\u0000${route}`;
    let stats = this.routes.get(id);
    if (!stats) this.routes.set(id, (stats = new RouteStats()));
    return stats;
  }

  answer(phase: string, route: string, status: number, ms: number): void {
    const stats = this.at(phase, route);
    stats.status[status] = (stats.status[status] ?? 0) + 1;
    stats.latencies.push(ms);
  }

  error(phase: string, route: string, err: unknown): void {
    const stats = this.at(phase, route);
    const name =
      err instanceof Error
        ? err.name === "TypeError" && err.cause instanceof Error
          ? ((err.cause as NodeJS.ErrnoException).code ?? err.cause.name)
          : err.name
        : "Error";
    stats.errors[name] = (stats.errors[name] ?? 0) + 1;
  }

  /** Figures per phase, then per route; `seconds` per phase gives req/s. */
  figures(seconds: Record<string, number>): Record<string, Record<string, RouteFigures>> {
    const out: Record<string, Record<string, RouteFigures>> = {};
    for (const [id, stats] of this.routes) {
      const [phase, route] = id.split("\u0000");
      (out[phase] ??= {})[route] = stats.figures(seconds[phase] ?? NaN);
    }
    return out;
  }
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN;
}

export const round = (x: number, digits = 0) => Number(x.toFixed(digits));
