// The per-volume-name model the process tests check histories against: it accepts what the API
// may answer and rejects lost or reordered writes (so a passing process test means something).
import t from 'tap';
import { checkLinearizable, type Operation } from '@ballast/testkit';
import { volumeModel, type VolumeOp, type VolumeOutcome } from '@ballast/testkit';

const GiB = 2 ** 30;
type Op = Operation<VolumeOp, VolumeOutcome>;

function op(
  clientId: number,
  callTime: number,
  returnTime: number,
  input: VolumeOp,
  output: VolumeOutcome | undefined,
): Op {
  return { clientId, callTime, returnTime, input, output };
}

const vol = (status: number, epoch: number, holder: string | null): VolumeOutcome => ({
  kind: 'volume',
  status,
  sizeBytes: GiB,
  epoch,
  holder,
});
const refused = (code: string): VolumeOutcome => ({ kind: 'refused', code });

t.test('a sequential history following the rules is accepted', async (t) => {
  const h: Op[] = [
    op(0, 0, 1, { op: 'get', name: 'a' }, refused('NOT_FOUND')),
    op(0, 2, 3, { op: 'create', name: 'a', sizeBytes: GiB }, vol(201, 0, null)),
    op(0, 4, 5, { op: 'create', name: 'a', sizeBytes: GiB }, vol(200, 0, null)),
    op(0, 6, 7, { op: 'create', name: 'a', sizeBytes: 2 * GiB }, refused('CONFLICT')),
    op(0, 8, 9, { op: 'attach', name: 'a', host: 'h1' }, vol(200, 1, 'h1')),
    op(0, 10, 11, { op: 'attach', name: 'a', host: 'h2' }, refused('CONFLICT')),
    op(0, 12, 13, { op: 'delete', name: 'a' }, refused('CONFLICT')),
    op(0, 14, 15, { op: 'detach', name: 'a', host: 'h1', epoch: 0 }, refused('FENCED')),
    op(0, 16, 17, { op: 'detach', name: 'a', host: 'h1', epoch: 1 }, vol(200, 1, null)),
    op(0, 18, 19, { op: 'detach', name: 'a', host: 'h2', epoch: 7 }, vol(200, 1, null)),
    op(0, 20, 21, { op: 'delete', name: 'a' }, { kind: 'deleted' }),
    op(0, 22, 23, { op: 'get', name: 'a' }, refused('NOT_FOUND')),
  ];
  t.equal(checkLinearizable(volumeModel, h).outcome, 'ok');
});

t.test('a lost acknowledged create is caught', async (t) => {
  const h: Op[] = [
    op(0, 0, 1, { op: 'create', name: 'a', sizeBytes: GiB }, vol(201, 0, null)),
    op(1, 2, 3, { op: 'get', name: 'a' }, refused('NOT_FOUND')),
  ];
  t.equal(checkLinearizable(volumeModel, h).outcome, 'illegal');
});

t.test('a lost attach (epoch going back) is caught', async (t) => {
  const h: Op[] = [
    op(0, 0, 1, { op: 'create', name: 'a', sizeBytes: GiB }, vol(201, 0, null)),
    op(0, 2, 3, { op: 'attach', name: 'a', host: 'h1' }, vol(200, 1, 'h1')),
    op(1, 4, 5, { op: 'get', name: 'a' }, vol(200, 0, null)),
  ];
  t.equal(checkLinearizable(volumeModel, h).outcome, 'illegal');
});

t.test('unknown outcomes may or may not have happened', async (t) => {
  const maybe = (seen: VolumeOutcome): Op[] => [
    op(0, 0, 1, { op: 'create', name: 'a', sizeBytes: GiB }, vol(201, 0, null)),
    op(0, 2, Infinity, { op: 'attach', name: 'a', host: 'h1' }, undefined),
    op(1, 10, 11, { op: 'get', name: 'a' }, seen),
  ];
  t.equal(checkLinearizable(volumeModel, maybe(vol(200, 1, 'h1'))).outcome, 'ok', 'it happened');
  t.equal(checkLinearizable(volumeModel, maybe(vol(200, 0, null))).outcome, 'ok', 'it did not');
  t.equal(checkLinearizable(volumeModel, maybe(vol(200, 2, 'h1'))).outcome, 'illegal', 'not twice');
});

t.test('concurrent creates: one 201, the other sees it', async (t) => {
  const h: Op[] = [
    op(0, 0, 10, { op: 'create', name: 'a', sizeBytes: GiB }, vol(200, 0, null)),
    op(1, 1, 9, { op: 'create', name: 'a', sizeBytes: GiB }, vol(201, 0, null)),
  ];
  t.equal(checkLinearizable(volumeModel, h).outcome, 'ok');
  const both: Op[] = [
    op(0, 0, 10, { op: 'create', name: 'a', sizeBytes: GiB }, vol(201, 0, null)),
    op(1, 1, 9, { op: 'create', name: 'a', sizeBytes: GiB }, vol(201, 0, null)),
  ];
  t.equal(checkLinearizable(volumeModel, both).outcome, 'illegal', 'two creations of one name');
});
