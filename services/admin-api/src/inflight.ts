/**
 * Work still running for requests: handlers (including those whose client went away) and key
 * streams. On close the app waits for it before the database is closed, so a late handler never
 * meets a closed pool.
 */
export class Inflight {
  #n = 0;
  #waiters: (() => void)[] = [];

  get count(): number {
    return this.#n;
  }

  begin(): void {
    this.#n++;
  }

  end(): void {
    this.#n--;
    if (this.#n <= 0) {
      this.#n = 0;
      for (const w of this.#waiters.splice(0)) w();
    }
  }

  /** Resolves true once nothing runs, false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#n === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }
}
