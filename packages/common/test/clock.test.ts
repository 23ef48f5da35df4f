import t from 'tap';
import { SimClock, systemClock } from '../src/clock.js';

t.test('SimClock fires timers in time order, ties in creation order', async (t) => {
  const clock = new SimClock();
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('b@10'), 10);
  clock.setTimeout(() => fired.push('a@5'), 5);
  clock.setTimeout(() => fired.push('c@10'), 10);
  const cancelled = clock.setTimeout(() => fired.push('never'), 7);
  clock.clearTimeout(cancelled);
  await clock.advance(20);
  t.same(fired, ['a@5', 'b@10', 'c@10']);
  t.equal(clock.monotonicMs(), 20);
  t.equal(clock.wallMs(), Date.UTC(2026, 0, 1) + 20, 'wall time follows virtual time');
});

t.test('an interval repeats until cleared', async (t) => {
  const clock = new SimClock();
  let ticks = 0;
  const timer = clock.setInterval(() => {
    ticks += 1;
    if (ticks === 3) clock.clearInterval(timer);
  }, 4);
  await clock.advance(100);
  t.equal(ticks, 3);
  t.equal(clock.pending, 0);
});

t.test(
  'run settles a promise chain that needs timers and lets microtasks run between them',
  async (t) => {
    const clock = new SimClock();
    const order: string[] = [];
    const chain = (async () => {
      await clock.sleep(10);
      order.push('slept 10');
      await Promise.resolve();
      order.push('microtask');
      await clock.sleep(5);
      return clock.monotonicMs();
    })();
    clock.setTimeout(() => order.push('timer 12'), 12);
    t.equal(await clock.run(chain), 15);
    t.same(order, ['slept 10', 'microtask', 'timer 12']);
  },
);

t.test('run reports a deadlock and a livelock instead of hanging', async (t) => {
  const clock = new SimClock();
  await t.rejects(clock.run(new Promise(() => undefined)), /deadlock at 0 ms/);
  clock.setInterval(() => undefined, 1000);
  await t.rejects(clock.run(new Promise(() => undefined), 60_000), /still not done after 60000 ms/);
});

t.test('sleep rejects when its signal aborts', async (t) => {
  const clock = new SimClock();
  const controller = new AbortController();
  const sleeping = clock.sleep(1000, controller.signal);
  controller.abort(new Error('stop'));
  await t.rejects(sleeping, /stop/);
  t.equal(clock.pending, 0, 'the timer went with it');
  await t.rejects(systemClock.sleep(5, AbortSignal.abort(new Error('already'))), /already/);
});

t.test('the same inputs replay the same order', async (t) => {
  const runOnce = async (): Promise<string> => {
    const clock = new SimClock();
    const log: number[] = [];
    for (let i = 0; i < 50; i++) {
      clock.setTimeout(
        () => {
          log.push(i);
          if (i % 7 === 0) clock.setTimeout(() => log.push(100 + i), (i * 13) % 17);
        },
        (i * 31) % 23,
      );
    }
    await clock.advance(1000);
    return log.join(',');
  };
  t.equal(await runOnce(), await runOnce());
});
