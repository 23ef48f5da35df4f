import t from 'tap';
import { SteadyClock } from '../src/steady-clock.js';

t.test('a steady clock follows the wall clock but never jumps with it', (t) => {
  let wall = 1_000_000;
  let mono = 0;
  const clock = new SteadyClock(
    () => wall,
    () => mono,
    0.05,
  );
  t.equal(clock.now(), 1_000_000);
  mono += 1000;
  wall += 1000;
  t.equal(clock.now(), 1_001_000, 'in step: the same time');
  // The wall clock steps ten minutes ahead: the steady one moves 5% faster, no more.
  wall += 600_000;
  let last = clock.now();
  for (let i = 0; i < 10; i++) {
    mono += 1000;
    wall += 1000;
    const now = clock.now();
    t.ok(now - last <= 1050 && now - last >= 1000, `second ${i + 1}: advanced ${now - last} ms`);
    last = now;
  }
  // Stepped back: never goes backwards, slows down by at most 5%.
  wall -= 1_200_000;
  for (let i = 0; i < 10; i++) {
    mono += 1000;
    wall += 1000;
    const now = clock.now();
    t.ok(now - last >= 950 && now - last <= 1000, `after the step back: ${now - last} ms`);
    last = now;
  }
  // Given time, it converges on the wall clock again.
  for (let i = 0; i < 20_000; i++) {
    mono += 1000;
    wall += 1000;
    last = clock.now();
  }
  t.equal(last, wall, 'caught up with the wall clock');
  t.end();
});
