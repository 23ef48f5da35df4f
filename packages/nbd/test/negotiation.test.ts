// The option-haggling core, driven directly (no sockets) with random options.
import fc from 'fast-check';
import t from 'tap';
import { OptionNegotiator, type ExportCatalog, type ExportInfo } from '../src/negotiation.js';
import { metaContextData, infoRequestData } from './helpers/raw-client.js';

const exportsByName = new Map<string, ExportInfo>([
  [
    'vol',
    { name: 'vol', description: 'a volume', sizeBytes: 1 << 20, readOnly: false, multiConn: false },
  ],
  ['ro', { name: 'ro', description: '', sizeBytes: 4096, readOnly: true, multiConn: true }],
]);
const catalog: ExportCatalog<ExportInfo> = {
  lookup: (name) => exportsByName.get(name),
  list: () => [...exportsByName.values()],
  shuttingDown: () => false,
};

/** Splits concatenated option replies and checks each is well formed; returns the types. */
function replyTypes(option: number, out: Buffer[]): number[] {
  const types: number[] = [];
  for (const reply of out) {
    if (reply.readBigUInt64BE(0) !== 0x0003e889045565a9n) throw new Error('bad reply magic');
    if (reply.readUInt32BE(8) !== option) throw new Error('option not echoed');
    if (reply.readUInt32BE(16) !== reply.length - 20) throw new Error('bad reply length');
    types.push(reply.readUInt32BE(12));
  }
  return types;
}

const interestingOption = fc.oneof(
  fc.integer({ min: 0, max: 12 }),
  fc.integer({ min: 0, max: 0xffffffff }),
);
const optionData = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc
    .tuple(
      fc.constantFrom('vol', 'ro', 'nope', ''),
      fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 5 }),
    )
    .map(([name, infos]) => infoRequestData(name, [...new Set(infos)])),
  fc
    .tuple(
      fc.constantFrom('vol', 'nope'),
      fc.array(fc.constantFrom('base:allocation', 'base:', 'x:y', 'junk'), { maxLength: 3 }),
    )
    .map(([name, queries]) => metaContextData(name, queries)),
);

t.test(
  'random option sequences always get well-formed, final replies or a clean end',
  async (t) => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(interestingOption, optionData), { maxLength: 30 }),
        fc.boolean(),
        (options, noZeroes) => {
          const negotiator = new OptionNegotiator(catalog);
          for (const [option, data] of options) {
            const step = negotiator.handle(option, data, noZeroes);
            if (step.kind === 'close') return step.reason.length > 0;
            if (step.kind === 'transmit' && option === 1) {
              // EXPORT_NAME: no reply header, 10 bytes plus the padding rule.
              return step.out[0]!.length === (noZeroes ? 10 : 134);
            }
            const types = replyTypes(option, step.out);
            const last = types[types.length - 1]!;
            if (!(last === 1 || last >= 0x80000000)) return false; // final reply is ACK or an error
            if (types.slice(0, -1).some((type) => type === 1 || type >= 0x80000000)) return false;
            if (step.kind === 'transmit') {
              const exportInfos = step.out.filter(
                (r) => r.readUInt32BE(12) === 3 && r.readUInt16BE(20) === 0,
              );
              return exportInfos.length === 1 && (step.session.transmissionFlags & 1) === 1;
            }
            if (step.kind === 'abort') return option === 2;
          }
          return true;
        },
      ),
      { numRuns: 2000 },
    );
    t.pass('2000 random sequences');
  },
);

t.test('structured replies and meta context feed the session', async (t) => {
  const negotiator = new OptionNegotiator(catalog);
  negotiator.handle(8, Buffer.alloc(0), true);
  negotiator.handle(10, metaContextData('vol', ['base:allocation']), true);
  const step = negotiator.handle(7, infoRequestData('vol', []), true);
  t.equal(step.kind, 'transmit');
  if (step.kind !== 'transmit') return;
  t.equal(step.session.structuredReplies, true);
  t.not(step.session.baseAllocationId, 0);
  t.equal(step.session.transmissionFlags & 0x80, 0x80, 'DF');
});

t.test('a failed SET_META_CONTEXT clears the earlier selection', async (t) => {
  const negotiator = new OptionNegotiator(catalog);
  negotiator.handle(8, Buffer.alloc(0), true);
  negotiator.handle(10, metaContextData('vol', ['base:allocation']), true);
  const failed = negotiator.handle(10, metaContextData('nope', ['base:allocation']), true);
  t.equal(failed.kind, 'reply');
  const step = negotiator.handle(7, infoRequestData('vol', []), true);
  t.equal(step.kind === 'transmit' && step.session.baseAllocationId, 0);
});

t.test('shutting down: options get ERR_SHUTDOWN, ABORT still ACK', async (t) => {
  const closing = new OptionNegotiator({ ...catalog, shuttingDown: () => true });
  const step = closing.handle(3, Buffer.alloc(0), true);
  t.equal(step.kind, 'reply');
  if (step.kind === 'reply') t.same(replyTypes(3, step.out), [0x80000007]);
  t.equal(closing.handle(2, Buffer.alloc(0), true).kind, 'abort');
  t.equal(closing.handle(1, Buffer.from('vol'), true).kind, 'close');
});
