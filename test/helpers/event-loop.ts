// Whether long work leaves the event loop free: other requests must be served while a school's files are made.

/**
 * Runs `work` while a macrotask that reschedules itself counts the event loop's turns; a synchronous piece of work
 * gives none. Returns the work's result and the turns counted until it ended.
 */
export async function loopTurnsDuring<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let running = true;
  const tick = () => {
    turns++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    const result = await work();
    return { result, turns };
  } finally {
    running = false;
  }
}
