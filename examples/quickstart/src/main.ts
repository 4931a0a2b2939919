// snapstream's first example in TypeScript: range(5) through a handler into a console.log sink.
import { snap, stream } from '@snoopy/core';

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

class Greeter {
  @snap(range(5), { sink: [console.log] })
  static greet(msg: number): string {
    return `Hello ${msg}`;
  }
}

const summary = await stream();
console.error(`${Greeter.name}: ${summary.in} in, ${summary.out} out`);
